"""Scrapy settings for ropsfeed: polite by default (DESIGN.md §2)."""

from __future__ import annotations

import logging
import os

from scrapy.settings import default_settings

from aggregator.logs import RedactingFilter
from scrapers.spiders.listing_links import MAX_LISTING_LINKS
from scrapers.worker_pool import configured_workers

# Scrapy logs its "Overridden settings" (ROPSFEED_DATABASE_URL among them) before any extension
# runs and, under Scrapyd or `scrapy crawl`, through its own handler: mask passwords at the logger.
if not any(isinstance(f, RedactingFilter) for f in logging.getLogger("scrapy.crawler").filters):
    logging.getLogger("scrapy.crawler").addFilter(RedactingFilter())

BOT_NAME = "ropsfeed"
SPIDER_MODULES = ["scrapers.spiders"]
NEWSPIDER_MODULE = "scrapers.spiders"
# an unknown `scrapy crawl` id is one usage error naming the closest ids, not a KeyError traceback
SPIDER_LOADER_CLASS = "scrapers.spider_loader.SourceSpiderLoader"

USER_AGENT = "ropsfeed/0.1 (+https://github.com/ropsfeed/ropsfeed; aggregator of Polish social-policy announcements)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = float(os.environ.get("ROPSFEED_DOWNLOAD_TIMEOUT") or 30)  # seconds; a hanging site is cut
DOWNLOAD_MAXSIZE = 50 * 1024 * 1024
DOWNLOAD_WARNSIZE = 10 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 2
# 429 and 503 retries wait what the site's Retry-After asks, up to this many seconds (a longer wait:
# the page fails now and the next crawl asks again), else a backoff of this many seconds doubled at
# each retry; the site's other pages wait too (scrapers/politeness.py)
ROPSFEED_RETRY_AFTER_MAX = float(os.environ.get("ROPSFEED_RETRY_AFTER_MAX") or 120)
ROPSFEED_RETRY_BACKOFF = float(os.environ.get("ROPSFEED_RETRY_BACKOFF") or 1)
DNS_TIMEOUT = 10
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
LOG_LEVEL = os.environ.get("ROPSFEED_SCRAPY_LOG_LEVEL", "INFO")
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"
# Items only queue for the batching pipeline (its process_item never waits); with Scrapy's default
# of 100, every response started 100 asyncio tasks to hand over its items — 260,000 tasks and
# about a fifth of the crawl process's CPU for 5,000 articles (benchmarks/bench_crawl.py).
CONCURRENT_ITEMS = 4

# Middlewares with nothing to do here, off: each one a spider or downloader middleware more is a
# call (and, for spider middlewares, an async generator layer) per request or item. No site needs
# HTTP auth; the crawl sets no DEPTH_LIMIT and reads no depth stats; the meta-copy check only warns
# about spiders that forward response.meta, which ours do not.
# Scrapy's RetryMiddleware retries at once; ours, in its place, waits as the site asks.
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware": None,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "scrapers.politeness.PoliteRetryMiddleware": 550,
}
SPIDER_MIDDLEWARES = {
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
    "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,
}

# Cookies are off (COOKIES_ENABLED): their middleware would only raise NotConfigured, but Scrapy
# imports it first, and with it tldextract, requests, urllib3 and filelock, about 0.1 s of every
# crawl's start. Switched off in DOWNLOADER_MIDDLEWARES (None) it is still imported (Scrapy loads
# every key there to compare class paths): it is left out of the base instead, as the consoles
# below. Turning cookies on takes both: COOKIES_ENABLED and this middleware back.
COOKIES_MIDDLEWARE = "scrapy.downloadermiddlewares.cookies.CookiesMiddleware"
DOWNLOADER_MIDDLEWARES_BASE = {
    k: v for k, v in default_settings.DOWNLOADER_MIDDLEWARES_BASE.items() if k != COOKIES_MIDDLEWARE
}

# Every request goes through the mirror mapping when ROPSFEED_MIRROR is set (offline demo, tests).
DOWNLOAD_HANDLERS = {
    "http": "scrapers.downloader.MirrorAwareDownloadHandler",
    "https": "scrapers.downloader.MirrorAwareDownloadHandler",
}
# Scrapy imports every extension named in EXTENSIONS_BASE and EXTENSIONS, even one switched off
# (None, or its *_ENABLED setting): the remote-control console alone imports aiohttp, a quarter of
# a second of every crawl's start (benchmarks/bench_crawl.py). The two consoles we never run are
# left out of the base instead.
UNUSED_EXTENSIONS = ("scrapy.extensions.telnet.TelnetConsole", "scrapy.extensions.remote_control.RemoteControl")
EXTENSIONS_BASE = {k: v for k, v in default_settings.EXTENSIONS_BASE.items() if k not in UNUSED_EXTENSIONS}
EXTENSIONS = {"scrapers.extensions.CrawlRunRecorder": 500}
STATS_CLASS = "scrapers.stats.CrawlStats"  # Scrapy's, without a deprecation shim on every access
ITEM_PIPELINES = {"scrapers.pipelines.StoragePipeline": 300}

# ropsfeed's own settings (the CLI sets them; `scrapy crawl X -s NAME=value` works too).
ROPSFEED_DATABASE_URL = os.environ.get("ROPSFEED_DATABASE_URL", "sqlite:///ropsfeed.db")
ROPSFEED_MIRROR = os.environ.get("ROPSFEED_MIRROR") or None
ROPSFEED_FULL = False
ROPSFEED_RUN_ID = None
ROPSFEED_LOCKED_BY_RUNNER = False  # True: the caller holds the source's run lock; else the recorder takes it
# True: this process assigns stories after the crawl (`ropsfeed crawl`), so the workers compute the
# comparison features of new announcements during it (aggregator.dedup.ahead)
ROPSFEED_STORIES_AFTER = False
ROPSFEED_BATCH_SIZE = 100  # announcements per database write (`ropsfeed crawl`: ROPSFEED_BATCH_SIZE)
# article links followed per listing page at most (`ropsfeed crawl`: ROPSFEED_MAX_LISTING_LINKS;
# scrapers/spiders/listing_links.py)
ROPSFEED_MAX_LISTING_LINKS = MAX_LISTING_LINKS
# Processes that extract pages and annotate them (institutions, dates) in parallel with the crawl
# (scrapers.worker_pool); 0 does it all inline.
ROPSFEED_ANNOTATION_WORKERS = configured_workers()
