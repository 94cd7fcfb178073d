"""A listing that links a page whose URL is longer than the database takes (db/clean.py: 2,000
characters; on PostgreSQL no unique index entry can pass 2,704 bytes anyway) on SQLite and
PostgreSQL: the first crawl reports it once, precisely, and remembers it (failed_pages, kind
`unstorable`); the next crawls neither fetch it nor report it again. Before, a URL a little over
the limit was fetched and refused, an error of every crawl, and one over Scrapy's URLLENGTH_LIMIT
(2,083) was dropped by Scrapy without a word, every crawl. `ropsfeed crawl rops-rzeszow` from the
mirror over HTTP, the long pages served as a real article's copy."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from db.engine import session_scope
from db.failed_pages import unstorable_key
from db.models import Announcement, CrawlRun, FailedPage
from scrapers.mirror.server import BackgroundMirror
from tests.conftest import run_cli
from tests.scrapers.overlays import RZESZOW_HOST, rzeszow_listing_linking

pytestmark = pytest.mark.network
Layered = Callable[..., BackgroundMirror]
SITE = f"https://{RZESZOW_HOST}"
LISTING = f"{SITE}/aktualnosci"


def long_path(length: int) -> str:
    """The path of an article whose URL is `length` characters long (a CMS slug gone wild)."""
    path = "/a-9100-informacja-o-naborze-wnioskow"
    while len(SITE + path) < length:
        path += "-informacja-o-naborze-wnioskow"
    return path[: length - len(SITE)]


JUST_OVER, FAR_OVER = long_path(2050), long_path(5000)  # under and over Scrapy's URLLENGTH_LIMIT


def crawl(server: BackgroundMirror, database: str, *flags: str) -> tuple[int, str, CrawlRun]:
    with server:
        result = run_cli("crawl", "rops-rzeszow", *flags, "--mirror", server.url, "--db", database)
    with session_scope(database) as session:
        run = session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(1)).one()
        session.expunge(run)
    return result.returncode, result.stderr, run


def remembered(database: str) -> list[tuple[str, str, str, str, int]]:
    with session_scope(database) as session:
        rows = session.scalars(select(FailedPage).order_by(FailedPage.url)).all()
        return [(row.url, row.url_key, row.kind, row.reason, row.attempts) for row in rows]


def reason(url: str) -> str:
    return f"its URL is {len(url)} characters long, longer than the 2000 the database takes"


def shown(url: str) -> str:
    return f"{url[:300]}… ({len(url)} characters)"


def test_a_page_whose_url_is_too_long_is_reported_once_and_not_asked_for_again(db_url: str, layered: Layered) -> None:
    def site() -> BackgroundMirror:
        return layered(rzeszow_listing_linking(JUST_OVER, FAR_OVER, served=(JUST_OVER, FAR_OVER)))

    urls = [SITE + JUST_OVER, SITE + FAR_OVER]
    code, stderr, run = crawl(site(), db_url)
    assert code == 1 and run.status == "failed", stderr
    assert run.errors == [
        f"{shown(url)} (a link of {LISTING}): not fetched, {reason(url)}; not asked for again" for url in urls
    ]
    assert run.items_new == 5 and run.alarms == []
    keys = [unstorable_key(f"rops.rzeszow.pl{path}") for path in (JUST_OVER, FAR_OVER)]
    first = remembered(db_url)
    assert first == sorted(
        (shown(url), key, "unstorable", f"{reason(url)}; not asked for again", 1)
        for url, key in zip(urls, keys, strict=True)
    )
    with session_scope(db_url) as session:
        assert not [url for url in session.scalars(select(Announcement.url)) if len(url) > 2000]

    code, stderr, again = crawl(site(), db_url)
    assert code == 0 and (again.status, again.errors, again.alarms) == ("ok", [], []), stderr
    assert again.requests == 2, "the listing (and robots.txt) only: the long pages are not fetched"
    assert remembered(db_url) == first, "remembered once: not counted again, never given up"

    code, stderr, full = crawl(site(), db_url, "--full")
    assert code == 0 and (full.errors, full.alarms) == ([], []), stderr
