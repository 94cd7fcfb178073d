"""Running spiders from code: one Scrapy process, all requested sources concurrently.

Politeness limits are per domain inside this process (DESIGN.md §7). The outcome of each source
comes back from the crawl_runs rows the spiders' recorder wrote, so the CLI reports exactly what
the database says happened.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from sqlalchemy import select

from db.engine import session_scope
from db.migrate import ensure_schema
from db.models import CrawlRun
from scrapers.registry import load_sources

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
        return self.status != "ok"


def resolve_sources(source_ids: Sequence[str]) -> list[str]:
    known = [s.id for s in load_sources() if s.enabled]
    if not source_ids:
        return known
    unknown = [s for s in source_ids if s not in {src.id for src in load_sources()}]
    if unknown:
        raise ValueError(f"unknown source(s): {', '.join(unknown)}; known: {', '.join(known)}")
    return list(source_ids)


def crawl_settings(database_url: str, mirror: str | None, full: bool, run_id: str, log_level: str) -> Settings:
    settings = Settings()
    settings.setmodule("scrapers.settings", priority="project")
    settings.set("ROPSFEED_DATABASE_URL", database_url, priority="cmdline")
    settings.set("ROPSFEED_MIRROR", mirror, priority="cmdline")
    settings.set("ROPSFEED_FULL", full, priority="cmdline")
    settings.set("ROPSFEED_RUN_ID", run_id, priority="cmdline")
    settings.set("LOG_LEVEL", log_level, priority="cmdline")
    if mirror:
        # the mirror is our own server on loopback: no need to be gentle with it
        settings.set("AUTOTHROTTLE_ENABLED", False, priority="cmdline")
        settings.set("DOWNLOAD_DELAY", 0, priority="cmdline")
        settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", 8, priority="cmdline")
    return settings


def run_crawl(
    source_ids: Sequence[str],
    database_url: str,
    *,
    mirror: str | None = None,
    full: bool = False,
    log_level: str = "WARNING",
) -> list[SourceReport]:
    """Crawl the sources (all enabled ones when empty); blocks until every spider has finished."""
    from scrapers.spiders.generated import SPIDERS

    ids = resolve_sources(source_ids)
    ensure_schema(database_url)
    run_id = str(uuid.uuid4())
    process = CrawlerProcess(crawl_settings(database_url, mirror, full, run_id, log_level))
    for source_id in ids:
        process.crawl(SPIDERS[source_id])
    process.start()
    from aggregator.stories import assign_stories

    stories = assign_stories(database_url)  # after the crawl, over what it added or changed
    log.info("stories: %d announcements assigned, %d joined an existing story", stories.assigned, stories.joined)
    return reports_for(database_url, run_id, ids)


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
