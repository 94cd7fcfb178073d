"""A site that asks the crawl to wait (429/503 with Retry-After) is waited for, and so are its other
pages (scrapers/politeness.py): one crawl of rops-rzeszow from the mirror, whose pages answer 429,
503 and a 503 asking for an hour, timed by the mirror's own record of the requests."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import pytest
from sqlalchemy import select

from db.engine import session_scope
from db.models import Announcement, CrawlRun, FailedPage
from scrapers.mirror.server import BackgroundMirror
from tests.conftest import REPO, run_cli
from tests.scrapers.overlays import (
    RZESZOW_ARTICLE,
    RZESZOW_HOST,
    RZESZOW_SECOND_PAGE_ARTICLE,
    rzeszow_listing_delayed,
    rzeszow_listing_of_many,
    rzeszow_page_answers,
)

pytestmark = pytest.mark.network

Layered = Callable[..., BackgroundMirror]
SPOTKANIA = "/a-1600-spotkania-doradcze-w-ramach-projektu-%E2%80%9Espoleczna-rownowaga%E2%80%9D"  # listing page 1
WYSTARTOWAL = "/a-1579-wystartowal-projekt-%E2%80%9Espoleczna-rownowaga%E2%80%9D"  # listing page 2


def asked(server: BackgroundMirror, path: str) -> list[float]:
    """When the mirror was asked for `path` of rops.rzeszow.pl (monotonic seconds)."""
    return [when for when, raw in server.snapshot.requests if raw.split("?")[0] == f"/{RZESZOW_HOST}{path}"]


def test_retry_after_is_waited_for_and_holds_the_sites_other_pages(sqlite_url: str, layered: Layered) -> None:
    server = layered(
        rzeszow_page_answers(RZESZOW_ARTICLE, 429, headers={"Retry-After": "1"}, times=1),
        rzeszow_page_answers(SPOTKANIA, 503, times=1),  # no Retry-After: the short backoff
        rzeszow_page_answers(RZESZOW_SECOND_PAGE_ARTICLE, 503, headers={"Retry-After": "3600"}),
        rzeszow_listing_delayed("strona=2", 0.5),  # answers while the site is held
    )
    env = {"ROPSFEED_RETRY_AFTER_MAX": "1.5", "ROPSFEED_RETRY_BACKOFF": "0.2"}
    with server:
        result = run_cli("crawl", "rops-rzeszow", "--mirror", server.url, "--db", sqlite_url, env=env)
    log = result.stdout + result.stderr

    first_429, retried = asked(server, RZESZOW_ARTICLE)
    assert retried - first_429 >= 1.0, "the retry waits the second the site asked for"
    # listing page 2 answers after 0.5 s; its articles wait for the end of the site's second
    assert asked(server, WYSTARTOWAL)[0] - first_429 >= 0.95, "the site's other pages wait too"
    first_503, retried = asked(server, SPOTKANIA)
    assert retried - first_503 >= 0.2, "without Retry-After, a short backoff"
    assert len(asked(server, RZESZOW_SECOND_PAGE_ARTICLE)) == 1, "an hour is beyond the cap: not retried"
    assert "HTTP 429 (Retry-After: 1): waiting 1 s before retry 1 of 2" in log
    assert "HTTP 503 (no Retry-After): waiting 0.2 s before retry 1 of 2" in log

    url = f"https://{RZESZOW_HOST}{RZESZOW_SECOND_PAGE_ARTICLE}"
    reason = ("HTTP 503: the site asks to wait 1 h (Retry-After: 3600), longer than the 1.5 s a crawl waits "
              "(ROPSFEED_RETRY_AFTER_MAX): not retried in this run")  # fmt: skip
    assert result.returncode == 1, log
    with session_scope(sqlite_url) as session:
        run = session.scalars(select(CrawlRun)).one()
        assert run.errors == [f"GET {url}: {reason}"]
        assert [(row.url, row.kind, row.reason) for row in session.scalars(select(FailedPage))] == [
            (url, "article", reason)
        ]
        stored = set(session.scalars(select(Announcement.url)))
    assert f"https://{RZESZOW_HOST}{RZESZOW_ARTICLE}" in stored and len(stored) == 4


def test_a_retry_comes_when_the_site_asked_not_after_the_queued_pages(sqlite_url: str, layered: Layered) -> None:
    """A 429 asking for 1 s while 40 of the site's pages are queued, crawled as in production — a
    bare `scrapy crawl`, so AutoThrottle on, 2 requests per site and 16 in the downloader (`ropsfeed
    crawl --mirror` turns politeness off) — with its delays cut to 0.1–0.3 s to keep the test short.
    Before, the retry went to the back of the queue (Scrapy's RETRY_PRIORITY_ADJUST) and behind the
    pages already in the site's download slot: it came 10 s after the 429, the queue's last page."""
    server = layered(
        rzeszow_listing_of_many(40), rzeszow_page_answers(RZESZOW_ARTICLE, 429, headers={"Retry-After": "1"}, times=1)
    )
    settings = {"ROPSFEED_DATABASE_URL": sqlite_url, "ROPSFEED_ANNOTATION_WORKERS": "0", "LOG_LEVEL": "INFO",
                "DOWNLOAD_DELAY": "0.1", "AUTOTHROTTLE_START_DELAY": "0.1",
                "AUTOTHROTTLE_MAX_DELAY": "0.3"}  # fmt: skip
    with server:
        flags = [flag for name, value in {**settings, "ROPSFEED_MIRROR": server.url}.items()
                 for flag in ("-s", f"{name}={value}")]  # fmt: skip
        result = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "rops-rzeszow", *flags], cwd=REPO,
                                capture_output=True, text=True, timeout=180, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "HTTP 429 (Retry-After: 1): waiting 1 s before retry 1 of 2" in result.stderr

    first_429, retried = asked(server, RZESZOW_ARTICLE)
    later = [raw for when, raw in server.snapshot.requests if when > retried]
    assert 1.0 <= retried - first_429 < 2.0, "the second the site asked for, then the retry"
    assert len(later) >= 20, "ahead of the pages queued before it (they were 40)"
    with session_scope(sqlite_url) as session:
        assert f"https://{RZESZOW_HOST}{RZESZOW_ARTICLE}" in set(session.scalars(select(Announcement.url)))
