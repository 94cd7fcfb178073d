"""Running spiders from code: one Scrapy process, all requested sources concurrently.

Politeness limits are per domain inside this process (DESIGN.md §7). The outcome of each source
comes back from the crawl_runs rows the spiders' recorder wrote, so the CLI reports exactly what
the database says happened.

Each source is locked in the database for the time of its crawl (db/locks.py): a second run started
meanwhile skips it and says so (status "skipped", which is not a failure).
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings
from sqlalchemy import select

from aggregator import stopping
from aggregator.dedup.ahead import FeaturesAhead, for_run, release
from aggregator.logs import begin_twisted_logging, set_level
from aggregator.stories import StoryDraft, assign_stories, release_draft
from db.checkpoint import background_checkpoints
from db.engine import session_scope
from db.interrupted import close_interrupted as close_interrupted_runs
from db.locks import STORIES_KEY, LockHolder, RunLocks, lock_ttl
from db.migrate import ensure_schema
from db.models import NOT_RUNS_OF_THE_SITE, CrawlRun
from db.store import finish_run, start_run, sync_sources
from scrapers.heap import crawl_heap, startup_heap
from scrapers.registry import load_sources, unknown_source

log = logging.getLogger(__name__)


@dataclass
class SourceReport:
    source_id: str
    status: str
    strategy: str | None
    requests: int
    pages_fetched: int
    new: int
    updated: int
    unchanged: int
    errors: list[str] = field(default_factory=list)
    alarms: list[str] = field(default_factory=list)
    deleted: int = 0  # tombstoned: the site deleted the page
    restored: int = 0  # tombstones whose page came back

    @property
    def failed(self) -> bool:
        return self.status not in ("ok", *NOT_RUNS_OF_THE_SITE)

    @property
    def stopped(self) -> bool:
        return self.status == "stopped"

    @property
    def skipped(self) -> bool:
        return self.status == "skipped"

    @property
    def alarmed(self) -> bool:
        """Raised a layout alarm (a skipped source's note that another run crawls it is none)."""
        return bool(self.alarms) and not self.skipped


def resolve_sources(source_ids: Sequence[str]) -> list[str]:
    known = [s.id for s in load_sources() if s.enabled]
    if not source_ids:
        return known
    unknown = [s for s in source_ids if s not in {src.id for src in load_sources()}]
    if unknown:  # a typo named with the ids closest to it, not the whole list of 24
        raise ValueError("; ".join(unknown_source(s) for s in unknown))
    return list(source_ids)


def download_timeout() -> float:
    """Seconds before a request is given up: `ROPSFEED_DOWNLOAD_TIMEOUT`, else 30."""
    value = os.environ.get("ROPSFEED_DOWNLOAD_TIMEOUT") or "30"
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < 86400:
        raise ValueError(f"ROPSFEED_DOWNLOAD_TIMEOUT must be a number of seconds above 0, not {value!r}")
    return seconds


def retry_after_max() -> float:
    """The longest `Retry-After` a crawl waits for before a 429/503 retry (scrapers/politeness.py):
    `ROPSFEED_RETRY_AFTER_MAX`, else 120 seconds; a site asking for more is asked again next crawl."""
    return _seconds("ROPSFEED_RETRY_AFTER_MAX", "120")


def retry_backoff() -> float:
    """The first wait before retrying a 429/503 that names none, doubled at each retry:
    `ROPSFEED_RETRY_BACKOFF`, else 1 second (0: at once, as Scrapy does)."""
    return _seconds("ROPSFEED_RETRY_BACKOFF", "1", zero=True)


def _seconds(name: str, default: str, *, zero: bool = False) -> float:
    value = os.environ.get(name) or default
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not (seconds >= 0 if zero else seconds > 0) or seconds >= 86400:
        raise ValueError(f"{name} must be a number of seconds {'of 0 or more' if zero else 'above 0'}, not {value!r}")
    return seconds


def batch_size() -> int:
    """Announcements per database write: `ROPSFEED_BATCH_SIZE`, else 100."""
    value = os.environ.get("ROPSFEED_BATCH_SIZE") or "100"
    size = int(value) if value.strip().isdigit() else 0
    if size < 1:
        raise ValueError(f"ROPSFEED_BATCH_SIZE must be a whole number above 0, not {value!r}")
    return size


def max_listing_links() -> int:
    """Article links a listing page (or feed page) is followed for at most:
    `ROPSFEED_MAX_LISTING_LINKS`, else `MAX_LISTING_LINKS` (scrapers/spiders/listing_links.py)."""
    from scrapers.spiders.listing_links import MAX_LISTING_LINKS

    value = os.environ.get("ROPSFEED_MAX_LISTING_LINKS") or str(MAX_LISTING_LINKS)
    limit = int(value) if value.strip().isdigit() else 0
    if limit < 1:
        raise ValueError(f"ROPSFEED_MAX_LISTING_LINKS must be a whole number above 0, not {value!r}")
    return limit


def check_mirror(mirror: str | None) -> None:
    """`--mirror` / `ROPSFEED_MIRROR` must be an http(s) URL with a host: anything else (a path, a
    typo) made every request of the crawl fail inside Scrapy with a traceback per source and exit 1,
    as if the sites were down, where it is a setting to fix (exit 2, docs/operations.md)."""
    if mirror is None or mirror == "":
        return
    parts = urlsplit(mirror)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"--mirror must be an http:// or https:// URL, not {mirror!r}")


def check_settings(mirror: str | None = None) -> None:
    """The run's settings from the environment and the mirror, checked before anything is locked or
    written: a bad one stops the run at once (`run_crawl`, `run_on_scrapyd`)."""
    from scrapers.worker_pool import configured_workers

    check_mirror(mirror)
    download_timeout()
    batch_size()
    max_listing_links()
    retry_after_max()
    retry_backoff()
    lock_ttl()
    configured_workers()


def crawl_overrides(
    database_url: str, mirror: str | None, full: bool, run_id: str, log_level: str, accept_deletions: bool = False
) -> dict[str, Any]:
    """The settings a run gives every spider, locally or through Scrapyd (`schedule.json` settings)."""
    overrides: dict[str, Any] = {
        "ROPSFEED_DATABASE_URL": database_url,
        "ROPSFEED_MIRROR": mirror or "",
        "ROPSFEED_FULL": full,
        "ROPSFEED_ACCEPT_DELETIONS": accept_deletions,
        "ROPSFEED_RUN_ID": run_id,
        "LOG_LEVEL": log_level,
        "DOWNLOAD_TIMEOUT": download_timeout(),
        "ROPSFEED_BATCH_SIZE": batch_size(),
        "ROPSFEED_MAX_LISTING_LINKS": max_listing_links(),
        "ROPSFEED_RETRY_AFTER_MAX": retry_after_max(),
        "ROPSFEED_RETRY_BACKOFF": retry_backoff(),
        "ROPSFEED_LOCKED_BY_RUNNER": True,  # the run holds the sources' locks (db/locks.py)
    }
    if mirror:  # the mirror is our own server on loopback: no need to be gentle with it
        overrides.update(AUTOTHROTTLE_ENABLED=False, DOWNLOAD_DELAY=0, CONCURRENT_REQUESTS_PER_DOMAIN=8)
    return overrides


def crawl_settings(
    database_url: str, mirror: str | None, full: bool, run_id: str, log_level: str, accept_deletions: bool = False
) -> Settings:
    settings = Settings()
    settings.setmodule("scrapers.settings", priority="project")
    overrides = crawl_overrides(database_url, mirror, full, run_id, log_level, accept_deletions)
    settings.setdict(overrides, priority="cmdline")
    settings.set("ROPSFEED_STORIES_AFTER", True, priority="cmdline")  # run_crawl does, in this process
    if any(h.get_name() == "ropsfeed" for h in logging.getLogger().handlers):
        # the CLI's handler (aggregator/logs.py: text or JSON lines, redacted) serves Scrapy's records too
        settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
    return settings


def import_tls_early() -> None:
    """Import Scrapy's TLS modules while few modules are loaded and the stack is shallow, rather
    than when the engine loads the download handler (scrapers/downloader.py).

    Each of their three deprecated aliases (`scrapy.utils.deprecate.create_deprecated_class`)
    calls `inspect.stack()`, which reads every frame's source and, for each frame of the import
    machinery (no file of its own), walks the whole of `sys.modules`: from the engine, ten imports
    deep with ~1,200 modules loaded, that was the largest single cost of the crawl's start. The same
    modules, a little earlier; they install no reactor (Scrapy installs it with the first crawl)."""
    import scrapy.core.downloader.contextfactory  # noqa: F401


def run_crawl(
    source_ids: Sequence[str],
    database_url: str,
    *,
    mirror: str | None = None,
    full: bool = False,
    log_level: str = "WARNING",
    accept_deletions: bool = False,
) -> list[SourceReport]:
    """Crawl the sources (all enabled ones when empty); blocks until every spider has finished.
    `accept_deletions`: a `full` crawl marks every post its complete REST listing lacks as deleted,
    however many (the operator checked the site: the tombstone guard would hold them back)."""
    with startup_heap():  # nothing for the collector to find until the crawl starts (scrapers/heap.py)
        import_tls_early()
        from scrapers.spiders.generated import SPIDERS

        ids = resolve_sources(source_ids)
        if accept_deletions and not full:
            raise ValueError("--accept-deletions needs --full: only a complete listing shows what a site deleted")
        check_settings(mirror)
        ensure_schema(database_url)
        run_id = str(uuid.uuid4())
        locks = RunLocks(database_url, run_id)
        with session_scope(database_url, write=True) as session:
            sync_sources(session, load_sources())  # skipped runs below refer to their source rows
        acquired, held = locks.acquire(ids)
        record_skipped(database_url, run_id, held, mirror, full)
        close_interrupted(database_url, acquired)
        settings = crawl_settings(database_url, mirror, full, run_id, log_level, accept_deletions)
    with crawl_heap():  # fewer garbage collections (scrapers/heap.py)
        if acquired:
            from scrapers.worker_pool import default_workers, start_early

            # before the lock-renewing thread and the reactor exist: the worker can be forked
            start_early(settings.getint("ROPSFEED_ANNOTATION_WORKERS", default_workers()))
        # after the fork above: no thread may run while the workers are forked
        with background_checkpoints(database_url), locks.keep_alive():
            if acquired and stopping.asked():  # before a spider started: none is, the next run crawls
                stopping.say_skipped("crawl")
                ids = list(held)
            elif acquired:
                if logging.getLevelName(log_level) < logging.getLogger().getEffectiveLevel():
                    set_level(log_level)  # --verbose
                process = quiet_crawler_process(settings)
                for source_id in acquired:
                    crawler = process.create_crawler(SPIDERS[source_id])
                    stop_when_started(crawler)
                    process.crawl(crawler)  # the first installs the reactor Scrapy is set up for
                with stopping.on_first(graceful_stop(process)):
                    # the signals are ours (aggregator/stopping.py): Scrapy's would stop the crawl
                    # alone and then be gone, leaving the steps after it to run, or swallowing a signal
                    process.start(install_signal_handlers=False)
            if acquired:
                locks.release(acquired)
            from scrapers.worker_pool import running

            try:
                if stopping.asked():  # what it stored is in the database; the next run's story step takes it
                    stopping.say_skipped("stories")
                else:
                    assign_stories_locked(database_url, locks, executor=running(), ahead=for_run(run_id),
                                          draft=release_draft(run_id))  # fmt: skip
            finally:
                release(run_id)
    return reports_for(database_url, run_id, ids)


def stop_when_started(crawler: Crawler) -> None:
    """A stop asked while the spider was still opening (the recorder's database work, 23 spiders
    one after another) reached no engine: `Crawler.stop_async` stops only a running one, and the
    engine then started and crawled everything. Its engine is stopped as it starts instead (Scrapy
    lets an engine_started handler do so)."""

    async def started() -> None:
        if stopping.asked():
            await crawler.engine.stop_async()

    crawler.signals.connect(started, signal=signals.engine_started, weak=False)


def graceful_stop(process: CrawlerProcess) -> Callable[[int], None]:
    """What the first SIGTERM/SIGINT does during the crawl, as Scrapy's own handler did: the
    spiders stop, the requests on their way are waited for, what was fetched is stored and each
    source's run recorded (`crawl ended early: shutdown`). Called from the signal handler: the
    work is handed to the reactor's thread, once."""
    from twisted.internet import reactor

    stopped: list[int] = []

    def stop() -> None:
        log.warning("%s: the requests on their way are waited for and what was fetched is stored; "
                    "the same signal again stops at once", stopping.reason())  # fmt: skip
        process.stop()

    def on_signal(signum: int) -> None:
        if not stopped:
            stopped.append(signum)
            reactor.callFromThread(stop)  # type: ignore[attr-defined]

    return on_signal


def quiet_crawler_process(settings: Settings) -> CrawlerProcess:
    """A `CrawlerProcess` whose `scrapy` logger passes on only what a handler may want: records at
    the crawl's LOG_LEVEL, or at the root logger's level when that is more verbose.

    Scrapy sets its logger to DEBUG and lets the handlers filter: every line it writes per page
    and per item ("Crawled (200)", "Scraped from") became a LogRecord that every handler then
    dropped, about 2 % of the crawl process's CPU (benchmarks/bench_crawl.py)."""
    begin_twisted_logging()  # its critical events through our handler only, not also as plain text
    before = logging.getLogger().level
    process = CrawlerProcess(settings)
    level = logging.getLevelName(str(settings.get("LOG_LEVEL", "DEBUG")).upper())
    if before != logging.NOTSET and isinstance(level, int):  # NOTSET: someone wants every record
        logging.getLogger("scrapy").setLevel(min(before, level))
    return process


def record_skipped(database_url: str, run_id: str, held: dict[str, LockHolder], mirror: str | None, full: bool) -> None:
    """A crawl_runs row for every source another run is crawling: visible, and not a failure. Not
    logged here: the report says it once (`skipped <source>: being crawled by …`, report.problems);
    a log line as well said every skip twice."""
    for source_id, holder in held.items():
        message = f"skipped: being crawled by {holder.describe()}"
        with session_scope(database_url, write=True) as session:
            crawl_run_id = start_run(session, run_id, source_id, mirror, full)
            finish_run(session, crawl_run_id, status="skipped", alarms=[message])


def close_interrupted(database_url: str, source_ids: Sequence[str]) -> None:
    """Runs still "running" for sources we now hold the lock of were cut short (process killed,
    database gone before the outcome was written): record them as failed, so status counts them,
    and have the sources' crawls walk every listing page for what they fetched (db/interrupted.py)."""
    if not source_ids:
        return
    with session_scope(database_url, write=True) as session:
        close_interrupted_runs(session, source_ids)


def assign_stories_locked(
    database_url: str,
    locks: RunLocks,
    timeout: float = 600.0,
    executor: Executor | None = None,
    ahead: FeaturesAhead | None = None,
    draft: StoryDraft | None = None,
) -> None:
    """Stories after the crawl, over what it added or changed; one run at a time does this step.
    `executor`: the crawl's worker processes (scrapers.worker_pool), which then compute the comparison features
    of the announcements whose features the crawl did not compute already (`ahead`)."""
    if not locks.wait_for(STORIES_KEY, timeout):
        log.warning("stories not assigned: another run kept the stories lock for %g s; the next run will", timeout)
        return
    try:
        stories = assign_stories(database_url, executor, ahead, draft)
    finally:
        locks.release([STORIES_KEY])
    log.info("stories: %d announcements assigned, %d joined an existing story, %d of them with features computed "
             "during the crawl, %d indexed during the crawl", stories.assigned, stories.joined, stories.ahead,
             stories.drafted)  # fmt: skip


def reports_for(database_url: str, run_id: str, ids: Sequence[str]) -> list[SourceReport]:
    with session_scope(database_url) as session:
        runs = {r.source_id: r for r in session.scalars(select(CrawlRun).where(CrawlRun.run_id == run_id))}
    reports = []
    for source_id in ids:
        run = runs.get(source_id)
        if run is None:
            reports.append(SourceReport(source_id, "failed", None, 0, 0, 0, 0, 0, ["the spider did not start"]))
            continue
        reports.append(
            SourceReport(
                source_id=source_id,
                status=run.status,
                strategy=run.strategy,
                requests=run.requests,
                pages_fetched=run.pages_fetched,
                new=run.items_new,
                updated=run.items_updated,
                unchanged=run.items_unchanged,
                errors=list(run.errors or []),
                alarms=list(run.alarms or []),
                deleted=run.items_deleted or 0,
                restored=run.items_restored or 0,
            )
        )
    return reports
