"""`reparse` reads an archived page with the link text that led the crawl to it
(`raw_pages.link_text`, aggregator/reparse.py): a page without a title of its own keeps the
title the crawl gave it; archived without one, it is a problem of the report, its row untouched."""

from __future__ import annotations

import asyncio

from scrapy import Request
from scrapy.http import HtmlResponse
from sqlalchemy import select, update

from aggregator.reparse import _reparse_source
from db.engine import session_scope
from db.models import Announcement, RawPage
from db.store import save_announcements
from scrapers.items import AnnouncementItem
from scrapers.spiders.generated import SPIDERS
from tests.scrapers.spiders.test_feed_titles import ITEM_416, KIELCE, TITLE_416

STATED = "Obradował Komitet Rozwoju Ekonomii Społecznej – Województwo Świętokrzyskie"


async def crawled(link_text: str, title: str = STATED) -> AnnouncementItem:
    """es.umws.pl's item 416 as the crawl stores it: its heading gone, its `<title>` one the parser
    cannot cut right without the link (the feed's title says its last part is the page's)."""
    page = next(KIELCE.glob("aktualnosci-item-416-*.html")).read_text(encoding="utf-8")
    page = page.replace(f"<title>{TITLE_416}</title>", f"<title>{title}</title>")
    page = page.replace(f'<h2 class="itemTitle">{TITLE_416}', '<h2 class="itemTitle">')
    spider = SPIDERS["rops-kielce"]()
    spider.workers = 0
    request = Request(ITEM_416, meta={"link_text": link_text})
    [item] = [i async for i in spider.parse_article(HtmlResponse(ITEM_416, body=page.encode(), encoding="utf-8",
                                                                 request=request))]  # fmt: skip
    assert isinstance(item, AnnouncementItem)
    return item


def test_reparse_titles_a_page_as_the_crawl_did_with_its_archived_link_text(database: str) -> None:
    item = asyncio.run(crawled(STATED))
    assert item.title == STATED, "the link holds the last part: not the site's name"
    with session_scope(database, write=True) as session:
        save_announcements(session, [item])
        assert session.scalar(select(RawPage.link_text)) == STATED
        session.execute(update(Announcement).values(title="?"))  # what a broken parser release left

    assert _reparse_source(database, "rops-kielce").problems == []
    with session_scope(database) as session:
        assert session.scalar(select(Announcement.title)) == STATED

    with session_scope(database, write=True) as session:  # archived before migration 0016: no link text
        session.execute(update(RawPage).values(link_text=None))
    assert _reparse_source(database, "rops-kielce").problems == []
    with session_scope(database) as session:
        assert session.scalar(select(Announcement.title)) == "Obradował Komitet Rozwoju Ekonomii Społecznej", (
            "read as a page reached without a link: the last part taken for the site's name"
        )


def test_reparse_keeps_the_links_title_of_a_page_that_states_none(database: str) -> None:
    item = asyncio.run(crawled(TITLE_416, title="Aktualności"))
    assert item.title == TITLE_416
    with session_scope(database, write=True) as session:
        save_announcements(session, [item])
        session.execute(update(Announcement).values(body_text=""))
    assert _reparse_source(database, "rops-kielce").problems == []
    with session_scope(database) as session:
        assert (
            session.scalar(select(Announcement.body_text)) != ""
            and session.scalar(select(Announcement.title)) == TITLE_416
        )

    with session_scope(database, write=True) as session:
        session.execute(update(RawPage).values(link_text=None))
    [problem] = _reparse_source(database, "rops-kielce").problems
    assert problem.endswith("no title")
    with session_scope(database) as session:
        assert session.scalar(select(Announcement.title)) == TITLE_416, "the stored row stays as it is"
