"""Rebuilding announcements from the raw page archive with the current parsers, offline.

A parser fix or a new annotation rule reaches every stored announcement without one request to
the sites. Pages are decoded exactly as during the crawl (`decode_page`, with the archived
headers), so a reparse of unchanged parsers changes nothing, and with the text of the listing link
or feed item that led to the page (`raw_pages.link_text`), which the crawl's parser read the
page's title with (ArticleParser.parse).

A page archived without link text (before migration 0016; a retry of a page whose failure was
remembered before migration 0017 kept its link text; a page nothing led to) is read as a page
reached without a link: its `<title>` loses a last part that is not a number, a year or an
edition, as the crawl's would have; a page that states no title of its own is then a problem of
the report, and its stored row (titled by the link at crawl time) stays as it is.
"""

from __future__ import annotations

import gzip
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from aggregator.annotate import Annotations, annotate, dating_sight
from aggregator.crawl import assign_stories_locked, resolve_sources
from db.engine import session_scope
from db.failed_pages import forget
from db.locks import RunLocks
from db.migrate import ensure_schema
from db.models import Announcement, RawPage
from db.store import BatchResult, first_crawl_end, save_announcements, sync_entities
from scrapers.extraction.encoding import decode_page
from scrapers.items import AnnouncementItem
from scrapers.spiders.base import announcement_from_article
from scrapers.spiders.wordpress import read_api_page

log = logging.getLogger(__name__)
BATCH = 200


@dataclass
class ReparseReport:
    source_id: str
    raw_pages: int = 0
    result: BatchResult = field(default_factory=BatchResult)
    problems: list[str] = field(default_factory=list)


def _annotator(first_crawl: datetime | None) -> Callable[[AnnouncementItem, datetime], Annotations]:
    """`annotate` for a source whose first crawl ended at `first_crawl`: the first sight of a page
    dates it as it did when crawled (`dating_sight`)."""

    def annotate_item(item: AnnouncementItem, seen: datetime) -> Annotations:
        return annotate(item.title, item.body_text, item.published_at, dating_sight(seen, first_crawl))

    return annotate_item


def _items_from_raw(source_id: str, raw: RawPage) -> tuple[list[AnnouncementItem], list[str]]:
    from scrapers.spiders.generated import SPIDERS

    body = gzip.decompress(raw.body_gzip)
    spider = SPIDERS[source_id]
    if raw.kind == "api":
        try:
            items = read_api_page(body, source_id, spider.source.identity).items
        except ValueError as exc:
            return [], [f"{raw.url}: archived API page unreadable: {exc}"]
    else:
        content_type = next((v for k, v in (raw.headers or {}).items() if k.lower() == "content-type"), None)
        text = decode_page(body, content_type, raw.url).text
        parser = spider.parser_class(spider.source.selectors, spider.source.site_names)
        parsed = parser.parse(text, raw.url, raw.link_text)  # what led to it, as the crawl read it
        if parsed.problems:
            return [], [f"{raw.url}: {', '.join(parsed.problems)}"]
        items = [announcement_from_article(source_id, parsed, None, spider.source.identity)]
    for item in items:
        item.raw_page_id = raw.id
    return items, []


def _keep_what_the_page_lacks(session_items: list[AnnouncementItem], stored: dict[str, Announcement]) -> None:
    """A date that came from outside the page (the feed's pubDate), or a publication date an edited
    page no longer prints (`db.store._kept_dates`), is not in its raw copy. (A modification date is
    not kept: a parser fix may drop a wrong one.)"""
    by_key = {row.url_key: row for row in stored.values()}
    for item in session_items:
        row = stored.get(item.url) or by_key.get(item.key)  # a row stored under another form of its URL
        if row is not None and item.published_at is None and row.published_at is not None:
            item.published_at = row.published_at
            item.published_from = row.published_from
            item.published_granularity = row.published_granularity
        if row is not None and not item.categories and row.categories:
            item.categories = list(row.categories)


def reparse(database_url: str, source_ids: Sequence[str] = ()) -> list[ReparseReport]:
    from aggregator.entities import gazetteer

    ensure_schema(database_url)
    with session_scope(database_url, write=True) as session:
        sync_entities(session, gazetteer())
    reports = []
    locks = RunLocks(database_url, f"reparse-{uuid.uuid4().hex[:28]}")  # owner ids hold 36 characters
    with locks.keep_alive():  # a source being crawled is not rebuilt under the crawl's feet
        for source_id in resolve_sources(source_ids):
            _, held = locks.acquire([source_id])
            if source_id in held:
                reports.append(
                    ReparseReport(source_id, problems=[f"skipped: being crawled by {held[source_id].describe()}"])
                )
                continue
            try:
                reports.append(_reparse_source(database_url, source_id))
            finally:
                locks.release([source_id])
        assign_stories_locked(database_url, locks)  # edited texts lost their story: judge them again
    return reports


def _reparse_source(database_url: str, source_id: str) -> ReparseReport:
    report = ReparseReport(source_id)
    with session_scope(database_url) as session:
        raws = session.scalars(
            select(RawPage)
            .where(RawPage.source_id == source_id, RawPage.kind.in_(("api", "article")))
            .order_by(RawPage.fetched_at, RawPage.id)
        ).all()
        stored = {a.url: a for a in session.scalars(select(Announcement).where(Announcement.source_id == source_id))}
        annotate_item = _annotator(first_crawl_end(session, source_id))
    latest: dict[str, AnnouncementItem] = {}
    for raw in raws:  # oldest first: a later copy of the same announcement wins
        items, problems = _items_from_raw(source_id, raw)
        report.raw_pages += 1
        report.problems += problems
        latest.update({item.key: item for item in items})
    items = list(latest.values())
    _keep_what_the_page_lacks(items, stored)
    for start in range(0, len(items), BATCH):
        with session_scope(database_url, write=True) as session:
            batch = items[start : start + BATCH]
            report.result += save_announcements(
                session, batch, annotate=annotate_item, record_versions=False, reannotate=True
            )
            # a page kept raw after a parse alarm that the current parsers read: no longer to retry
            forget(session, source_id, {key for item in batch for key in (*item.keys, item.external_id) if key})
    return report
