"""`ropsfeed reparse` rebuilds announcements, institutions and dates from the raw archive alone."""

from __future__ import annotations

import gzip
import json

import pytest
from sqlalchemy import delete, func, select, update

from db.engine import session_scope
from db.models import Announcement, AnnouncementVersion, EventDate, Mention, RawPage
from scrapers.mirror.server import BackgroundMirror
from tests.conftest import run_cli
from tests.scrapers.snapshot_rows import rows_by_source

pytestmark = pytest.mark.network


def counts(database: str) -> tuple[int, int]:
    with session_scope(database) as session:
        return (
            session.scalar(select(func.count()).select_from(Mention)) or 0,
            session.scalar(select(func.count()).select_from(EventDate)) or 0,
        )


def test_reparse_after_a_broken_parser_equals_a_fresh_crawl(db_url: str, mirror: BackgroundMirror) -> None:
    sources = ("mcps", "rops-rzeszow", "rops-krakow", "rops-torun")  # REST API, labels, ISO-8859-2, cp1250
    crawl = run_cli("crawl", *sources, "--mirror", mirror.url, "--db", db_url)
    assert crawl.returncode == 0, crawl.stdout + crawl.stderr
    fresh_rows, fresh_counts = rows_by_source(db_url), counts(db_url)
    assert fresh_counts[0] > 0 and fresh_counts[1] > 0

    with session_scope(db_url, write=True) as session:  # what a broken parser release would leave behind
        session.execute(update(Announcement).values(title="?", body_text="", lead=None, published_at=None))
        session.execute(delete(Mention))
        session.execute(delete(EventDate))

    result = run_cli("reparse", *sources, "--db", db_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert rows_by_source(db_url) == fresh_rows
    assert counts(db_url) == fresh_counts
    with session_scope(db_url) as session:
        assert session.scalar(select(func.count()).select_from(AnnouncementVersion)) == 0, "a reparse is no edit"

    again = run_cli("reparse", *sources, "--db", db_url)
    assert again.returncode == 0 and rows_by_source(db_url) == fresh_rows, "a second reparse is a no-op"

    with session_scope(db_url, write=True) as session:  # one archived API page the parser cannot read
        raw = session.scalars(select(RawPage).where(RawPage.kind == "api")).first()
        assert raw is not None
        raw.body_gzip, broken_url = gzip.compress(b"<html>Przerwa techniczna</html>"), raw.url
    logged = run_cli("--log-format", "json", "reparse", "mcps", "--db", db_url, env={"ROPSFEED_LOG_LEVEL": "INFO"})
    assert logged.returncode == 0 and logged.stdout == "", "JSON-lines mode: stdout stays empty for the log"
    records = [json.loads(line) for line in logged.stderr.splitlines()]
    [problem] = [r for r in records if r.get("event") == "problem"]
    assert problem["source"] == "mcps" and broken_url in problem["message"] and "unreadable" in problem["message"]
    [summary] = [r for r in records if r.get("event") == "reparsed"]  # INFO, as `crawl`'s "crawled" records
    assert summary["source"] == "mcps" and "1 problems" in summary["message"]
