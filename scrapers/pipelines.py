"""The storage pipeline: batches items and writes each batch in one transaction."""

from __future__ import annotations

import logging
from datetime import datetime

from scrapy import Spider
from scrapy.crawler import Crawler

from aggregator.annotate import Annotations, annotate
from db.engine import session_scope
from db.store import BatchResult, save_announcements
from scrapers.items import AnnouncementItem, RawPageItem, RawResponse

log = logging.getLogger(__name__)


def annotate_item(item: AnnouncementItem, seen: datetime) -> Annotations:
    return annotate(item.title, item.body_text, item.published_at, seen)


class StoragePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.database_url: str = crawler.settings["ROPSFEED_DATABASE_URL"]
        self.batch_size = crawler.settings.getint("ROPSFEED_BATCH_SIZE", 100)
        self.items: list[AnnouncementItem] = []
        self.raws: list[RawResponse] = []
        self.totals = BatchResult()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoragePipeline:
        return cls(crawler)

    def process_item(self, item: object) -> object:
        if isinstance(item, AnnouncementItem):
            self.items.append(item)
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
                result = save_announcements(session, items, raws, annotate_item)
        except Exception as exc:
            spider = self.crawler.spider
            message = f"database write of {len(items)} announcements failed: {type(exc).__name__}: {exc}"
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

    def close_spider(self, spider: Spider | None = None) -> None:
        self.flush()
