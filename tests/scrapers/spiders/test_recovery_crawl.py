"""What a crawl fetched and did not store is stored by the next incremental crawl (db/interrupted.py,
scrapers/spiders/retries.py, scrapers/pipelines.py): crawls of rops-rzeszow (HTML listings, three
pages, two articles on the first and three after it) from the mirror.

Without the walk the next crawl would see nothing new on listing page 1 and stop there: the three
articles past it would wait for `--full`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import pytest
from sqlalchemy import func, select, text

from aggregator.status import source_statuses
from db.engine import session_scope
from db.migrate import ensure_schema
from db.models import Announcement, CrawlRun, FailedPage
from scrapers.mirror.server import BackgroundMirror
from tests.conftest import REPO, run_cli
from tests.scrapers.overlays import RZESZOW_ARTICLE, RZESZOW_HOST, rzeszow_listing_delayed

pytestmark = pytest.mark.network

Layered = Callable[..., BackgroundMirror]
# one announcement per write, no worker process: the first listing page's articles are stored
# before the rest arrive, as on a real site where the rest take longer
SETTINGS = {"ROPSFEED_ANNOTATION_WORKERS": "0", "ROPSFEED_BATCH_SIZE": "1"}
FIRST_PAGE = (
    f"https://{RZESZOW_HOST}{RZESZOW_ARTICLE}",
    f"https://{RZESZOW_HOST}/a-1600-spotkania-doradcze-w-ramach-projektu-%E2%80%9Espoleczna-rownowaga%E2%80%9D",
)
WALK = "rops-rzeszow: walking every listing page for what an earlier crawl fetched and did not store: "


def runs(database: str) -> list[CrawlRun]:
    with session_scope(database) as session:
        found = session.scalars(select(CrawlRun).order_by(CrawlRun.id)).all()
        session.expunge_all()
        return list(found)


def stored(database: str) -> set[str]:
    with session_scope(database) as session:
        return set(session.scalars(select(Announcement.url)))


def failed(database: str) -> list[tuple[str, str, str, int]]:
    with session_scope(database) as session:
        return [(r.url_key, r.kind, r.reason, r.attempts) for r in session.scalars(select(FailedPage))]


def test_articles_whose_storing_failed_are_stored_by_the_next_incremental_crawl(
    sqlite_url: str, layered: Layered
) -> None:
    """Storing fails after the first listing page's articles (the database refuses every other
    announcement). The run says so, naming each, and the next crawl asks for each again directly
    (the listing page that led to them has nothing new then), without walking the listings."""
    ensure_schema(sqlite_url)
    with session_scope(sqlite_url, write=True) as session:
        session.execute(text(
            "CREATE TRIGGER storing_fails BEFORE INSERT ON announcements "
            f"WHEN NEW.url NOT IN ('{FIRST_PAGE[0]}', '{FIRST_PAGE[1]}') "
            "BEGIN SELECT RAISE(ABORT, 'test: the database refuses this row'); END"
        ))  # fmt: skip
    with layered() as server:
        first = run_cli("crawl", "rops-rzeszow", "--mirror", server.url, "--db", sqlite_url, env=SETTINGS)
    assert first.returncode == 1, first.stderr
    [run] = runs(sqlite_url)
    assert (run.status, run.items_new) == ("failed", 2) and stored(sqlite_url) == set(FIRST_PAGE)
    reason = "the database refused it: IntegrityError: test: the database refuses this row"
    assert len(run.errors) == 3 and all(error.endswith(f": not stored, {reason}") for error in run.errors)
    rows = failed(sqlite_url)
    assert [(kind, why, attempts) for _, kind, why, attempts in rows] == [("article", reason, 1)] * 3
    status = next(s for s in source_statuses_now(sqlite_url) if s.source_id == "rops-rzeszow")
    assert (status.health, status.last_error, status.failed_pages, status.walk_listings) == (
        "failed", run.errors[0], 3, None
    )  # fmt: skip

    with session_scope(sqlite_url, write=True) as session:
        session.execute(text("DROP TRIGGER storing_fails"))  # the database takes them again
    with layered() as server:
        second = run_cli("crawl", "rops-rzeszow", "--mirror", server.url, "--db", sqlite_url, env=SETTINGS)
    assert second.returncode == 0, second.stderr
    assert WALK not in second.stderr, "each asked for directly: no walk of every listing page"
    run = runs(sqlite_url)[-1]
    assert (run.status, run.errors, run.items_new) == ("ok", [], 3) and len(stored(sqlite_url)) == 5
    assert failed(sqlite_url) == [], "stored: nothing owed, the next crawl reads listing page 1 alone"


def source_statuses_now(database: str) -> list:
    with session_scope(database) as session:
        return source_statuses(session)


def test_a_crawl_killed_before_storing_everything_is_recovered_by_the_next_one(
    sqlite_url: str, layered: Layered
) -> None:
    """`kill -9` (the OOM killer, a reboot) once the first listing page's articles are stored, while
    the second listing page is on its way: the run stays `running`. `status` says what happened,
    and the next crawl — a bare `scrapy crawl`, which takes the lock itself — records the run as
    interrupted and walks every listing page."""
    ensure_schema(sqlite_url)  # to count the stored announcements from the start
    command = [sys.executable, "-m", "aggregator.cli", "crawl", "rops-rzeszow", "--db", sqlite_url, "--mirror"]
    with layered(rzeszow_listing_delayed("strona=2", 60.0)) as server:
        crawl = subprocess.Popen([*command, server.url], cwd=REPO, env={**os.environ, **SETTINGS},
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and count(sqlite_url) < 2:
                time.sleep(0.1)
        finally:
            crawl.kill()
            crawl.communicate(timeout=30)
    assert stored(sqlite_url) == set(FIRST_PAGE)
    [killed] = runs(sqlite_url)
    assert killed.status == "running"
    status = next(s for s in source_statuses_now(sqlite_url) if s.source_id == "rops-rzeszow")
    assert status.health == "failed" and status.last_error is not None
    assert f"crawl run {killed.id} started" in status.last_error and "is still 'running'" in status.last_error

    with layered() as server:
        again = subprocess.run(
            [sys.executable, "-m", "scrapy", "crawl", "rops-rzeszow", "-s", f"ROPSFEED_DATABASE_URL={sqlite_url}",
             "-s", f"ROPSFEED_MIRROR={server.url}", "-s", "ROPSFEED_ANNOTATION_WORKERS=0", "-s", "LOG_LEVEL=WARNING",
             "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0"],  # our own mirror: no politeness
            cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert again.returncode == 0, again.stderr
    interrupted, walked = runs(sqlite_url)
    assert interrupted.status == "failed" and interrupted.errors[-1].startswith("interrupted: the run ended before")
    assert f"{WALK}crawl run {killed.id} (run {killed.run_id}, started" in again.stderr
    assert (walked.status, walked.errors, walked.items_new) == ("ok", [], 3) and len(stored(sqlite_url)) == 5
    assert failed(sqlite_url) == []


def count(database: str) -> int:
    with session_scope(database) as session:
        return int(session.scalar(select(func.count()).select_from(Announcement)) or 0)


def test_a_crawl_stopped_by_sigterm_is_recovered_by_the_next_one(sqlite_url: str, layered: Layered) -> None:
    """SIGTERM (`systemctl stop`, a reboot, Ctrl+C) once the first listing page's articles are
    stored, while the second listing page is on its way: Scrapy stops gracefully and the run is
    recorded as failed. The listing pages it did not reach hide announcements that an incremental
    crawl never looks for again (listing page 1 has nothing new for it): the run leaves a `crawl`
    row, and the next crawl walks every listing page and stores them."""
    ensure_schema(sqlite_url)
    command = [sys.executable, "-m", "aggregator.cli", "crawl", "rops-rzeszow", "--db", sqlite_url, "--mirror"]
    with layered(rzeszow_listing_delayed("strona=2", 60.0)) as server:
        # a graceful stop waits for the requests on their way: the delayed page, until the timeout
        env = {**os.environ, **SETTINGS, "ROPSFEED_DOWNLOAD_TIMEOUT": "10"}
        crawl = subprocess.Popen([*command, server.url], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True)  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and count(sqlite_url) < 2:
                time.sleep(0.1)
            crawl.send_signal(signal.SIGTERM)
            _, stderr = crawl.communicate(timeout=60)
        finally:
            crawl.kill()
    assert crawl.returncode == 143, stderr  # 128 + SIGTERM: stopped, not failed (aggregator/stopping.py)
    assert "skipped stories: asked to stop (SIGTERM)" in stderr.splitlines()
    assert stored(sqlite_url) == set(FIRST_PAGE)
    [stopped] = runs(sqlite_url)
    assert stopped.status == "stopped" and stopped.errors[-1].startswith("crawl ended early: shutdown"), stopped.errors
    assert [(key, kind) for key, kind, *_ in failed(sqlite_url)] == [("(crawl)", "crawl")]
    status = next(s for s in source_statuses_now(sqlite_url) if s.source_id == "rops-rzeszow")
    assert status.walk_listings is not None and f"crawl run {stopped.id} " in status.walk_listings

    with layered() as server:
        again = run_cli("crawl", "rops-rzeszow", "--mirror", server.url, "--db", sqlite_url, env=SETTINGS)
    assert again.returncode == 0, again.stderr
    assert f"{WALK}crawl run {stopped.id} " in again.stderr
    walked = runs(sqlite_url)[-1]
    assert (walked.status, walked.errors, walked.items_new) == ("ok", [], 3) and len(stored(sqlite_url)) == 5
    assert failed(sqlite_url) == []
