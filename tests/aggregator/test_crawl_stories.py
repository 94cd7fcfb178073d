"""The story step of `ropsfeed crawl` takes the features its worker computed during the crawl, and
decides exactly as the step does on its own."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from aggregator.stories import assign_stories
from db.engine import session_scope
from db.models import Announcement, Story
from scrapers.mirror.server import BackgroundMirror
from tests.conftest import run_cli

pytestmark = pytest.mark.network

AHEAD = re.compile(
    r"stories: (\d+) announcements assigned, (\d+) joined an existing story, (\d+) of them with features"
)


def story_keys(database: str) -> dict[int, tuple[str | None, bytes | None]]:
    with session_scope(database) as session:
        rows = session.execute(select(Announcement.id, Announcement.story_key, Announcement.dedup_signature))
        return {row.id: (row.story_key, row.dedup_signature) for row in rows}


def test_crawl_with_a_worker_assigns_stories_from_features_computed_during_the_crawl(
    db_url: str, mirror: BackgroundMirror
) -> None:
    result = run_cli("crawl", "--mirror", mirror.url, "--db", db_url, "--verbose",
                     env={"ROPSFEED_ANNOTATION_WORKERS": "1"})  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    found = AHEAD.search(result.stderr)
    assert found, result.stderr[-3000:]
    assigned, joined, ahead = map(int, found.groups())
    crawled = story_keys(db_url)
    assert assigned == len(crawled) > 80
    assert joined > 0, "the mirror's cross-posts were judged"
    assert ahead == assigned, "every new announcement's features came from the worker"

    # the same step again on its own, every feature computed there: the same stories
    with session_scope(db_url, write=True) as session:
        session.execute(update(Announcement).values(story_key=None, dedup_signature=None))
        session.query(Story).delete()
    report = assign_stories(db_url)
    assert report.assigned == assigned and report.ahead == 0
    assert story_keys(db_url) == crawled
