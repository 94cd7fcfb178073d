"""Crawl runs that never recorded their outcome: closed as failed, and their pages recovered.

A crawl run's row is `running` from its start until its outcome is written. A process killed
(SIGKILL, the OOM killer, a reboot) or cut off from its database never writes it, and may have
fetched pages it never stored: articles that were on listing pages past the first are then old
news to the next incremental crawl, which stops paging at a page with nothing new. So whoever
takes the source's lock next — `ropsfeed run`/`crawl` before its spiders start, or a bare
`scrapy crawl` (scrapers/extensions.py) — closes such rows here, in one transaction with a `crawl`
row in `failed_pages` (db/failed_pages.py) that makes the source's next crawl walk every listing
page. Holding the lock is what makes a `running` row of another run stale: no live run can have it.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.failed_pages import crawl_marker, record_failures
from db.models import CrawlRun, Source
from db.store import finish_run

log = logging.getLogger(__name__)

INTERRUPTED = "interrupted: the run ended before recording its outcome (killed, or the database went away)"


def interruption(run: CrawlRun) -> str:
    """What the `crawl` row says of an interrupted run: which one, and since when."""
    return f"crawl run {run.id} (run {run.run_id}, started {run.started_at:%Y-%m-%d %H:%M} UTC) was {INTERRUPTED}"


def close_interrupted(session: Session, source_ids: Sequence[str], keep: Collection[int] = ()) -> list[CrawlRun]:
    """Record the `running` runs of these sources (but the runs `keep`, the caller's own) as failed,
    each with the `crawl` row that has its source's next crawl look for what it fetched; the
    caller must hold the sources' locks. Returns the runs closed."""
    if not source_ids:
        return []
    query = select(CrawlRun).where(CrawlRun.source_id.in_(source_ids), CrawlRun.status == "running")
    stale = [run for run in session.scalars(query.order_by(CrawlRun.id)) if run.id not in keep]
    if not stale:
        return []
    sites = dict(session.execute(select(Source.id, Source.base_url).where(Source.id.in_(source_ids))).all())
    now = datetime.now(UTC)
    for run in stale:
        message = f"{INTERRUPTED}; the next crawl walks every listing page for what it fetched"
        log.warning("%s: crawl run %s (run %s) was %s", run.source_id, run.id, run.run_id, message,
                    extra={"source": run.source_id, "event": "error"})  # fmt: skip
        finish_run(session, run.id, status="failed", errors=[*(run.errors or []), message])
        site = sites.get(run.source_id) or run.source_id
        record_failures(session, run.source_id, [crawl_marker(site, interruption(run))], now)
    return stale
