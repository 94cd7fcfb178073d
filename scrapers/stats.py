"""Scrapy's in-memory crawl statistics without the per-access deprecation shim.

Scrapy 2.19's `StatsCollector.__getattribute__` runs in Python on every attribute access of the
collector — the `_stats` dictionary inside each `inc_value` included, through a raised and caught
AttributeError — to wrap its methods with a warning about their deprecated `spider` argument.
Scrapy and our extensions count a dozen things per page and per item: 2.5 µs per call instead of
0.13 µs, about 2 % of the crawl process's CPU (benchmarks/bench_crawl.py). Nothing here passes
that argument, so there is nothing to warn about.
"""

from __future__ import annotations

from scrapy.statscollectors import MemoryStatsCollector


class CrawlStats(MemoryStatsCollector):
    """`MemoryStatsCollector` with plain attribute access (same values, same dump at the end)."""

    __getattribute__ = object.__getattribute__
