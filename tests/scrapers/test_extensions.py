"""A bare `scrapy crawl SOURCE` (or a Scrapyd job scheduled by hand) takes the source's run lock
itself: it skips a source another run is crawling and records that as "skipped"."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import select

from db.engine import session_scope
from db.locks import RunLocks, current_locks
from db.migrate import ensure_schema
from db.models import CrawlRun
from scrapers.mirror.server import BackgroundMirror
from tests.conftest import REPO

pytestmark = pytest.mark.network


def scrapy_crawl(source_id: str, database: str, mirror_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", source_id, "-s", f"ROPSFEED_DATABASE_URL={database}",
         "-s", f"ROPSFEED_MIRROR={mirror_url}", "-s", "ROPSFEED_ANNOTATION_WORKERS=0", "-s", "LOG_LEVEL=WARNING"],
        cwd=REPO, env={**os.environ, "ROPSFEED_LOCK_TTL": "2"}, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip


def test_bare_scrapy_crawl_respects_and_takes_the_lock(sqlite_url: str, mirror: BackgroundMirror) -> None:
    ensure_schema(sqlite_url)
    nightly = RunLocks(sqlite_url, "nightly-run", ttl=60)
    nightly.acquire(["mcps"])
    skipped = scrapy_crawl("mcps", sqlite_url, mirror.url)
    assert skipped.returncode == 0, skipped.stderr
    assert "mcps skipped: being crawled by run nightly-run" in skipped.stderr
    assert [lock.owner for lock in current_locks(sqlite_url)] == ["nightly-run"], "not taken, not released"

    nightly.release()
    crawled = scrapy_crawl("mcps", sqlite_url, mirror.url)
    assert crawled.returncode == 0, crawled.stderr
    with session_scope(sqlite_url) as session:
        runs = session.scalars(select(CrawlRun).order_by(CrawlRun.id)).all()
    assert (runs[0].status, runs[0].requests) == ("skipped", 0)
    assert runs[1].status == "ok" and runs[1].items_new == 7
    assert current_locks(sqlite_url) == [], "its own lock released at the end"
