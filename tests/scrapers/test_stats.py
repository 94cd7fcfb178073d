"""scrapers/stats.py: Scrapy's statistics, without the cost of its deprecation shim."""

from __future__ import annotations

import timeit

from scrapy.settings import Settings
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from scrapers.stats import CrawlStats


def test_counts_like_scrapys_own() -> None:
    crawler = get_crawler()
    ours, theirs = CrawlStats(crawler), MemoryStatsCollector(crawler)
    for stats in (ours, theirs):
        stats.open_spider()
        stats.inc_value("downloader/request_count")
        stats.inc_value("downloader/request_count", 2)
        stats.max_value("memusage/max", 10)
        stats.max_value("memusage/max", 7)
        stats.min_value("first", 3)
        stats.set_value("ropsfeed/items_new", 87)
    assert ours.get_stats() == theirs.get_stats() == {
        "downloader/request_count": 3, "memusage/max": 10, "first": 3, "ropsfeed/items_new": 87,
    }  # fmt: skip


def test_crawls_use_it_and_it_is_cheaper() -> None:
    settings = Settings()
    settings.setmodule("scrapers.settings", priority="project")
    assert settings["STATS_CLASS"] == "scrapers.stats.CrawlStats"
    crawler = get_crawler()
    ours, theirs = CrawlStats(crawler), MemoryStatsCollector(crawler)
    cost = {s: min(timeit.repeat(lambda s=s: s.inc_value("x"), number=2000, repeat=5)) for s in (ours, theirs)}
    assert cost[ours] < cost[theirs] / 3
