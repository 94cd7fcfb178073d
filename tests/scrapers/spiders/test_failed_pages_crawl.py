"""A page that failed is fetched again by the next incremental crawl, wherever the listing has it
(db/failed_pages.py, scrapers/spiders/retries.py): crawls of rops-rzeszow (HTML listings, three
pages) from the mirror, with one article of listing page 2 failing and then served again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from db.engine import session_scope
from db.failed_pages import GIVE_UP_AFTER, GIVE_UP_ATTEMPTS
from db.models import Announcement, CrawlRun, FailedPage, RawPage
from scrapers.mirror.server import BackgroundMirror
from tests.conftest import run_cli
from tests.scrapers.overlays import (
    RZESZOW_HOST,
    RZESZOW_SECOND_PAGE_ARTICLE,
    RZESZOW_SECOND_PAGE_TITLE,
    rzeszow_article_untitled,
    rzeszow_article_without_body,
    rzeszow_page_answers,
)

pytestmark = pytest.mark.network

URL = f"https://{RZESZOW_HOST}{RZESZOW_SECOND_PAGE_ARTICLE}"
Layered = Callable[..., BackgroundMirror]


def crawl(server: BackgroundMirror, database: str, *flags: str) -> tuple[int, CrawlRun]:
    """`ropsfeed crawl rops-rzeszow` from `server`: its exit status and its crawl run."""
    with server:
        # 503s are retried after a backoff (scrapers/politeness.py): a short one keeps these tests quick
        result = run_cli("crawl", "rops-rzeszow", *flags, "--mirror", server.url, "--db", database,
                         env={"ROPSFEED_RETRY_BACKOFF": "0.05"})  # fmt: skip
    with session_scope(database) as session:
        run = session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(1)).one()
        session.expunge(run)
    return result.returncode, run


def stored_urls(database: str) -> set[str]:
    with session_scope(database) as session:
        return set(session.scalars(select(Announcement.url)))


def failed(database: str) -> list[tuple[str, str, str, int]]:
    with session_scope(database) as session:
        rows = session.scalars(select(FailedPage)).all()
        return [(row.url, row.kind, row.reason, row.attempts) for row in rows]


def test_an_article_that_failed_is_stored_by_the_next_incremental_crawl(sqlite_url: str, layered: Layered) -> None:
    """The audit's case: before, the second crawl made 2 requests, stored nothing and said ok."""
    code, run = crawl(layered(rzeszow_page_answers(RZESZOW_SECOND_PAGE_ARTICLE, 500)), sqlite_url)
    assert code == 1 and run.status == "failed" and run.items_new == 4
    assert URL not in stored_urls(sqlite_url)

    code, run = crawl(layered(), sqlite_url)  # the page is back
    assert code == 0 and (run.status, run.errors) == ("ok", [])
    assert run.items_new == 1 and URL in stored_urls(sqlite_url)
    assert failed(sqlite_url) == []

    code, run = crawl(layered(), sqlite_url)
    assert code == 0 and run.requests == 2 and run.items_new == 0, "nothing left to retry: listings only"


def test_a_retried_article_is_titled_by_the_listing_link_that_led_to_it_the_first_time(
    db_url: str, layered: Layered
) -> None:
    """The page states no title of its own (no heading, its `<title>` the site's name): its first
    attempt would have been titled by the listing link's text. The retry asks for it directly — an
    incremental crawl stops at listing page 1, with nothing new — so the text comes from its
    `failed_pages` row; without it, the retry was the lost title's alarm and the page stayed unstored."""
    code, run = crawl(layered(rzeszow_page_answers(RZESZOW_SECOND_PAGE_ARTICLE, 500)), db_url)
    assert code == 1 and run.errors == [f"GET {URL}: HTTP 500"]
    with session_scope(db_url) as session:
        assert session.scalars(select(FailedPage.link_text)).all() == [RZESZOW_SECOND_PAGE_TITLE]

    code, run = crawl(layered(rzeszow_article_untitled), db_url)
    assert code == 0 and (run.status, run.errors, run.alarms) == ("ok", [], [])
    assert run.requests == 3, "robots.txt, listing page 1 and the retry: no listing led to the page"
    with session_scope(db_url) as session:
        assert session.execute(select(Announcement.title).where(Announcement.url == URL)).scalar_one() == (
            RZESZOW_SECOND_PAGE_TITLE
        )
        assert session.scalars(select(RawPage.link_text).where(RawPage.url == URL)).all() == [
            RZESZOW_SECOND_PAGE_TITLE
        ], "archived with it: `reparse` titles it as the crawl did"
    assert failed(db_url) == []


def test_an_article_failing_twice_is_reported_each_time_then_recovers(sqlite_url: str, layered: Layered) -> None:
    """The first failure is the run's error; a retry that fails again is an alarm (reported, and it
    escalates if it repeats), not a failed run night after night until the site mends the page."""
    failing = rzeszow_page_answers(RZESZOW_SECOND_PAGE_ARTICLE, 503)
    code, run = crawl(layered(failing), sqlite_url)
    assert code == 1 and run.errors == [f"GET {URL}: HTTP 503"]
    with session_scope(sqlite_url) as session:
        first_failed = session.scalars(select(FailedPage.first_failed_at)).one()

    code, run = crawl(layered(failing), sqlite_url)
    assert code == 0 and run.status == "ok" and run.errors == []
    assert run.alarms == [f"GET {URL}: HTTP 503 (failing since an earlier crawl)"]
    assert failed(sqlite_url) == [(URL, "article", "HTTP 503", 2)]
    with session_scope(sqlite_url) as session:
        row = session.scalars(select(FailedPage)).one()
        assert row.first_failed_at == first_failed < row.last_failed_at

    code, run = crawl(layered(), sqlite_url)
    assert code == 0 and run.items_new == 1 and URL in stored_urls(sqlite_url) and failed(sqlite_url) == []


def test_an_article_kept_raw_after_a_parse_alarm_is_stored_once_fixed(sqlite_url: str, layered: Layered) -> None:
    code, run = crawl(layered(rzeszow_article_without_body), sqlite_url)
    assert any("kept the raw page" in alarm and RZESZOW_SECOND_PAGE_ARTICLE in alarm for alarm in run.alarms)
    reason = "the body selector 'div.article-content' matches nothing (layout change?), no body"
    assert failed(sqlite_url) == [(URL, "article", reason, 1)]
    assert URL not in stored_urls(sqlite_url)

    code, run = crawl(layered(), sqlite_url)
    assert code == 0 and run.items_new == 1 and URL in stored_urls(sqlite_url) and failed(sqlite_url) == []


def test_a_failed_page_the_site_deleted_since_is_not_asked_for_again(sqlite_url: str, layered: Layered) -> None:
    crawl(layered(rzeszow_page_answers(RZESZOW_SECOND_PAGE_ARTICLE, 500)), sqlite_url)
    code, run = crawl(layered(rzeszow_page_answers(RZESZOW_SECOND_PAGE_ARTICLE, 404)), sqlite_url)
    assert failed(sqlite_url) == []
    assert code == 0 and run.errors == [], "gone since: nothing was lost, nothing to report"


def test_a_failed_listing_page_makes_the_next_crawl_walk_every_listing_page(sqlite_url: str, layered: Layered) -> None:
    """Listing page 2 failing hid pages 2 and 3. The next time page 1 has nothing new, so without
    the walk the crawl would stop there."""
    code, run = crawl(layered(rzeszow_page_answers("/aktualnosci", 500, query="strona=2")), sqlite_url)
    listing = f"https://{RZESZOW_HOST}/aktualnosci?strona=2"
    assert code == 1 and run.errors == [f"GET {listing}: HTTP 500"] and URL not in stored_urls(sqlite_url)
    assert failed(sqlite_url) == [(listing, "listing", "HTTP 500", 1)]

    code, run = crawl(layered(rzeszow_page_answers("/aktualnosci", 500, query="strona=2")), sqlite_url)
    assert (
        code == 0 and run.errors == [] and run.alarms == [f"GET {listing}: HTTP 500 (failing since an earlier crawl)"]
    )

    code, run = crawl(layered(rzeszow_page_answers("/aktualnosci", 500, query=None)), sqlite_url)
    assert code == 1 and failed(sqlite_url) == [(listing, "listing", "HTTP 500", 2)], (
        "a crawl whose first listing page failed walked nothing: the walk is still owed"
    )

    code, run = crawl(layered(), sqlite_url)
    assert code == 0 and run.items_new == 3 and URL in stored_urls(sqlite_url) and len(stored_urls(sqlite_url)) == 5
    assert failed(sqlite_url) == [], "a crawl that walked every listing page clears them"

    code, run = crawl(layered(), sqlite_url)
    assert code == 0 and run.requests == 2, "then listing page 1 alone again"


def test_a_page_that_keeps_failing_is_given_up_with_an_alarm(sqlite_url: str, layered: Layered) -> None:
    failing = rzeszow_page_answers(RZESZOW_SECOND_PAGE_ARTICLE, 500)
    crawl(layered(failing), sqlite_url)
    with session_scope(sqlite_url, write=True) as session:
        long_ago = datetime.now(UTC) - GIVE_UP_AFTER - timedelta(days=1)
        session.execute(update(FailedPage).values(attempts=GIVE_UP_ATTEMPTS, first_failed_at=long_ago))
    code, run = crawl(layered(failing), sqlite_url)
    assert code == 0 and run.errors == [], "not asked for again (giving up is an alarm, not an error)"
    assert any(alarm.startswith(f"gave up on {URL}: it failed {GIVE_UP_ATTEMPTS} crawls") for alarm in run.alarms)
    assert failed(sqlite_url) == []


def test_a_first_listing_page_that_fails_is_an_error_not_a_walk(sqlite_url: str, layered: Layered) -> None:
    """Every crawl asks for the first listing page anyway, and what it hid is all new to the next
    one: remembered, a page that keeps failing would set off a walk of every page every night."""
    code, run = crawl(layered(rzeszow_page_answers("/aktualnosci", 500, query=None)), sqlite_url)
    assert code == 1 and run.errors == [f"GET https://{RZESZOW_HOST}/aktualnosci: HTTP 500"]
    assert failed(sqlite_url) == []
    code, run = crawl(layered(), sqlite_url)
    assert code == 0 and run.items_new == 5, "the paging goes on while pages bring new items"
