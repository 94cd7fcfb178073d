"""The storage pipeline: batches items and writes each batch in one transaction."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from scrapy import Spider
from scrapy.crawler import Crawler

from aggregator.annotate import Annotations
from db.engine import database_reason, session_scope
from db.store import BatchResult, save_announcements
from scrapers.annotation_pool import Annotator, default_workers
from scrapers.items import AnnouncementItem, RawPageItem, RawResponse

log = logging.getLogger(__name__)


class StoragePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.database_url: str = crawler.settings["ROPSFEED_DATABASE_URL"]
        self.batch_size = crawler.settings.getint("ROPSFEED_BATCH_SIZE", 100)
        self.items: list[AnnouncementItem] = []
        self.raws: list[RawResponse] = []
        self.totals = BatchResult()
        workers = crawler.settings.getint("ROPSFEED_ANNOTATION_WORKERS", default_workers())
        self.annotator = Annotator(workers)
        self.started = datetime.now(UTC)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoragePipeline:
        return cls(crawler)

    def process_item(self, item: object) -> object:
        if isinstance(item, AnnouncementItem):
            self.items.append(item)
            known = getattr(self.crawler.spider, "known", set())
            if item.url not in known:  # new: its annotations will be needed, start them now
                self.annotator.start((item.source_id, item.url), item.title, item.body_text, item.published_at,
                                     self.started)  # fmt: skip
        elif isinstance(item, RawPageItem):
            self.raws.append(item.raw)
        if len(self.items) + len(self.raws) >= self.batch_size:
            self.flush()
        return item

    def flush(self) -> None:
        if not self.items and not self.raws:
            return
        items, raws = self.items, self.raws
        self.items, self.raws = [], []
        try:
            with session_scope(self.database_url, write=True) as session:
                result = save_announcements(session, items, raws, self.annotate)
        except Exception as exc:
            self.annotator.forget([(i.source_id, i.url) for i in items])
            spider = self.crawler.spider
            message = (
                f"database write of {len(items)} announcements failed: {type(exc).__name__}: {database_reason(exc)}"
            )
            log.error("%s: %s", getattr(spider, "name", "?"), message)
            if spider is not None and hasattr(spider, "errors"):
                spider.errors.append(message)
            return
        self.totals += result
        stats = self.crawler.stats
        assert stats is not None
        stats.set_value("ropsfeed/items_new", self.totals.new)
        stats.set_value("ropsfeed/items_updated", self.totals.updated)
        stats.set_value("ropsfeed/items_unchanged", self.totals.unchanged)

    def annotate(self, item: AnnouncementItem, seen: datetime) -> Annotations:
        return self.annotator.result((item.source_id, item.url), item.title, item.body_text, item.published_at, seen)

    def close_spider(self, spider: Spider | None = None) -> None:
        self.flush()
