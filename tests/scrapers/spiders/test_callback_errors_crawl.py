"""A page the spider's own code fails on (scrapers/spiders/base.py: `callback_failed`): a per-site
parser with a bug (tests/scrapers/spiders/buggy_parser.py) makes every article page of rops-krakow
raise. (A registry selector soupsieve rejects did so too; it is now refused when the registry
loads, tests/scrapers/test_registry_selectors.py.)

Scrapy logs such an exception and goes on; the run used to end `ok` with nothing new and the
pages forgotten, so a source whose every article failed looked healthy night after night."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from db.engine import session_scope
from db.models import Announcement, CrawlRun, FailedPage
from scrapers.mirror.server import BackgroundMirror
from scrapers.registry import REGISTRY_PATH
from tests.conftest import run_cli

pytestmark = pytest.mark.network

SETTINGS = {"ROPSFEED_ANNOTATION_WORKERS": "0"}


def krakow_registry(folder: Path, parser: str) -> Path:
    """The bundled registry's rops-krakow entry alone, read by another parser class."""
    text = REGISTRY_PATH.read_text(encoding="utf-8")
    entry = re.search(r'\[\[source\]\]\nid = "rops-krakow"\n.*?(?=\n\[\[source\]\])', text, re.S)
    assert entry is not None
    path = folder / "sources.toml"
    text = entry.group(0).replace("\nselectors = ", f'\nparser = "{parser}"\nselectors = ', 1)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_page_the_spider_fails_on_fails_the_run_and_is_asked_for_again(
    sqlite_url: str, mirror: BackgroundMirror, tmp_path: Path
) -> None:
    broken = krakow_registry(tmp_path, "tests.scrapers.spiders.buggy_parser.BuggyParser")
    first = run_cli("crawl", "--mirror", mirror.url, "--db", sqlite_url,
                    env={**SETTINGS, "ROPSFEED_SOURCES": str(broken)})  # fmt: skip
    assert first.returncode == 1, first.stdout + first.stderr
    with session_scope(sqlite_url) as session:
        [run] = session.scalars(select(CrawlRun)).all()
        failed = session.scalars(select(FailedPage.kind)).all()
    assert run.status == "failed" and run.items_new == 0
    assert len(run.errors) == 3, run.errors
    assert all(
        re.fullmatch(r"GET https://www\.rops\.krakow\.pl/aktualnosc/\S+: ropsfeed could not read it: "
                     r"LookupError: a bug in a per-site parser", error)
        for error in run.errors
    ), run.errors  # fmt: skip
    assert failed == ["article"] * 3, "remembered: the next crawls ask for them again"
    assert [line for line in first.stderr.splitlines() if line.startswith("error ")] == [
        f"error rops-krakow: {error}" for error in run.errors
    ]

    fixed = run_cli("crawl", "rops-krakow", "--mirror", mirror.url, "--db", sqlite_url, env=SETTINGS)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    with session_scope(sqlite_url) as session:
        stored = session.scalars(select(Announcement.url)).all()
        owed = session.scalars(select(FailedPage.url)).all()
    assert len(stored) == 3 and owed == [], "stored once the parser is mended; nothing owed"
