"""Records every crawl of a source in crawl_runs: counts, errors and layout alarms.

It also brings the database to the newest schema and the `sources` table in line with the
registry before the spider starts, so `scrapy crawl SOURCE` works on an empty database.

The outcome is written in one transaction with the spider's failed pages (scrapers/spiders/
retries.py): a run whose outcome could not be written stays `running`, and whoever next holds the
source's lock records it as interrupted and has the next crawl walk every listing page
(db/interrupted.py) — `ropsfeed run`/`crawl` before their spiders start, this recorder when it
takes the lock itself (a bare `scrapy crawl`, a Scrapyd job scheduled by hand).
"""

from __future__ import annotations

import logging
import uuid
from contextlib import ExitStack

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider
from sqlalchemy.exc import SQLAlchemyError

from aggregator.entities import gazetteer
from db.engine import DatabaseUnavailable, database_reason, session_scope
from db.interrupted import close_interrupted
from db.locks import RunLocks
from db.migrate import ensure_schema
from db.store import finish_run, start_run, sync_entities, sync_sources
from scrapers.registry import load_sources

log = logging.getLogger(__name__)
# What Scrapy's close reason means to an operator reading `crawl_runs.errors` or `ropsfeed status`
EARLY_ENDS = {
    "shutdown": " (stopped by a signal: SIGTERM from `systemctl stop` or a reboot, or Ctrl+C; the next crawl walks "
    "every listing page for what this one did not reach)",
}


class CrawlRunRecorder:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.database_url: str = settings["ROPSFEED_DATABASE_URL"]
        self.run_id: str = settings.get("ROPSFEED_RUN_ID") or str(uuid.uuid4())
        self.mirror: str | None = settings.get("ROPSFEED_MIRROR") or None
        self.full = settings.getbool("ROPSFEED_FULL")
        self.crawl_run_id: int | None = None
        # `ropsfeed run/crawl` (locally or through Scrapyd) hold the source's lock themselves; a bare
        # `scrapy crawl` or a job scheduled by hand on Scrapyd takes it here (db/locks.py)
        self.take_lock = not settings.getbool("ROPSFEED_LOCKED_BY_RUNNER")
        self.skipped: str | None = None
        self.held = ExitStack()
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    def database_lost(self, spider: Spider, what: str, exc: Exception) -> None:
        """No traceback for a database that went away: one line (the CLI then exits with status 2)."""
        consequence = ""
        if what == "outcome":
            consequence = "; it stays 'running': the next crawl records it as interrupted and walks every listing page"
        log.error("%s: crawl %s not recorded: database unavailable: %s%s", spider.name, what, database_reason(exc),
                  consequence)  # fmt: skip

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlRunRecorder:
        return cls(crawler)

    def spider_opened(self, spider: Spider) -> None:
        try:
            ensure_schema(self.database_url)
            with session_scope(self.database_url, write=True) as session:
                sync_entities(session, gazetteer())
                sync_sources(session, load_sources())
                self.crawl_run_id = start_run(session, self.run_id, spider.name, self.mirror, self.full)
            if self.take_lock:
                locks = RunLocks(self.database_url, self.run_id)
                _, elsewhere = locks.acquire([spider.name])
                if spider.name in elsewhere:
                    self.skipped = f"skipped: being crawled by {elsewhere[spider.name].describe()}"
                    log.warning("%s %s", spider.name, self.skipped)
                    raise CloseSpider("skipped")
                self.held.enter_context(locks.keep_alive())
                # ours now: a `running` run of another process was cut short (`ropsfeed run`/`crawl`,
                # which hold the lock for their spiders, did this before they started)
                with session_scope(self.database_url, write=True) as session:
                    close_interrupted(session, [spider.name], keep={self.crawl_run_id})
        except (DatabaseUnavailable, SQLAlchemyError) as exc:
            self.database_lost(spider, "start", exc)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        try:
            self.record_outcome(spider, reason)
        finally:
            self.held.close()  # stops renewing and releases the lock taken at start, if any

    def record_outcome(self, spider: Spider, reason: str) -> None:
        if self.crawl_run_id is None:
            return
        if self.skipped:
            with session_scope(self.database_url, write=True) as session:
                finish_run(session, self.crawl_run_id, status="skipped", alarms=[self.skipped])
            return
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        prefix = "downloader/response_status_count/"
        responses = {k[len(prefix) :]: v for k, v in stats.items() if k.startswith(prefix)}
        errors = list(getattr(spider, "errors", []))
        alarms = list(getattr(spider, "alarms", []))
        # stopped by a signal and nothing else wrong: neither a success nor the site's failure
        # (three nights of `systemctl stop` made a source "failing" and mailed the operator about it)
        stopped = reason == "shutdown" and not errors
        if reason != "finished":
            errors.append(f"crawl ended early: {reason}{EARLY_ENDS.get(reason, '')}")
        if not errors and not alarms and not getattr(spider, "seen", True):
            alarms.append("found no announcements at all: no listing, feed or API page named one (layout change?)")
            # logged like the spider's own alarms (scrapers/spiders/alarms.py)
            log.warning("%s: %s", spider.name, alarms[-1], extra={"source": spider.name, "event": "alarm"})
        status = "stopped" if stopped else "failed" if errors else "ok"
        try:
            with session_scope(self.database_url, write=True) as session:
                if hasattr(spider, "remember_failures"):  # the pages the next crawl asks for again
                    spider.remember_failures(session, reason, self.crawl_run_id)
                finish_run(
                    session,
                    self.crawl_run_id,
                    status=status,
                    strategy=getattr(spider, "strategy", None),
                    requests=int(stats.get("downloader/request_count", 0)),
                    responses=responses,
                    pages_fetched=int(stats.get("response_received_count", 0)),
                    items_new=int(stats.get("ropsfeed/items_new", 0)),
                    items_updated=int(stats.get("ropsfeed/items_updated", 0)),
                    items_unchanged=int(stats.get("ropsfeed/items_unchanged", 0)),
                    items_deleted=int(stats.get("ropsfeed/items_deleted", 0)),
                    items_restored=int(stats.get("ropsfeed/items_restored", 0)),
                    errors=errors,
                    alarms=alarms,
                )
        except (DatabaseUnavailable, SQLAlchemyError) as exc:
            self.database_lost(spider, "outcome", exc)
            return
        log.info("%s: crawl run %s recorded (%s)", spider.name, self.crawl_run_id, status)
