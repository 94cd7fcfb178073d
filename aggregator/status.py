"""Per-source health from crawl_runs: what an operator checks after the nightly run.

Also what the next crawl will do about what earlier ones lost (failed_pages): how many pages it
asks for again, and why it walks every listing page if it does; and a crawl killed before it
recorded its outcome (its row `running`, no run holding the source's lock), which otherwise shows
only once the next crawl has recorded it as interrupted.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from db.failed_pages import ARTICLE, CRAWL, LISTING
from db.interrupted import INTERRUPTED
from db.locks import held_keys
from db.models import Announcement, CrawlRun, FailedPage
from scrapers.registry import load_sources

FAILING_AFTER = 3  # consecutive failed runs before a source is reported loudly
ALARMING_AFTER = 3  # consecutive runs with a layout alarm before a source is reported loudly


@dataclass
class SourceStatus:
    source_id: str
    institution: str
    enabled: bool
    health: str  # ok | alarm | failing | failed | never
    last_success: datetime | None = None
    last_failure: datetime | None = None
    last_error: str | None = None
    consecutive_failures: int = 0
    consecutive_alarms: int = 0  # runs in a row (the last one included) that raised an alarm
    # live announcements published in the last 30 days, undated ones first seen in them: how much the
    # site publishes as the crawls see it (0 for weeks from a site that publishes weekly: look at it)
    items_30_days: int = 0
    announcements: int = 0  # live announcements stored, of any date
    alarms: list[str] = field(default_factory=list)
    failed_pages: int = 0  # articles that failed, which the next crawl asks for again
    walk_listings: str | None = None  # why the next crawl walks every listing page, if it does

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("last_success", "last_failure"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


def source_statuses(
    session: Session, now: datetime | None = None, failing_after: int = FAILING_AFTER
) -> list[SourceStatus]:
    now = now or datetime.now(UTC)
    month_ago = now - timedelta(days=30)
    recent = dict(
        session.execute(
            select(Announcement.source_id, func.count())
            .where(
                Announcement.deleted_at.is_(None),
                or_(
                    Announcement.published_at >= month_ago,
                    and_(Announcement.published_at.is_(None), Announcement.first_seen_at >= month_ago),
                ),
            )
            .group_by(Announcement.source_id)
        ).all()
    )
    totals = dict(
        session.execute(
            select(Announcement.source_id, func.count())
            .where(Announcement.deleted_at.is_(None))  # tombstones are not announcements any more
            .group_by(Announcement.source_id)
        ).all()
    )
    pages = dict(
        session.execute(
            select(FailedPage.source_id, func.count()).where(FailedPage.kind == ARTICLE).group_by(FailedPage.source_id)
        ).all()
    )
    walks: dict[str, str] = {}
    for source_id, kind, url, reason in session.execute(
        select(FailedPage.source_id, FailedPage.kind, FailedPage.url, FailedPage.reason)
        .where(FailedPage.kind.in_([LISTING, CRAWL]))
        .order_by(FailedPage.first_failed_at)
    ):
        why = reason if kind == CRAWL else f"listing page {url} failed ({reason})"
        walks[source_id] = f"{walks[source_id]}; {why}" if source_id in walks else why
    locked = held_keys(session)
    statuses = []
    for source in load_sources():
        runs = session.scalars(
            select(CrawlRun)
            .where(CrawlRun.source_id == source.id, CrawlRun.finished_at.is_not(None), CrawlRun.crawled())
            .order_by(CrawlRun.id.desc())
            .limit(50)
        ).all()
        status = SourceStatus(source.id, source.institution, source.enabled, "never")
        status.failed_pages = int(pages.get(source.id, 0))
        status.walk_listings = walks.get(source.id)
        status.items_30_days = int(recent.get(source.id, 0))
        status.announcements = int(totals.get(source.id, 0))
        for run in runs:
            if run.status == "ok":
                status.last_success = status.last_success or run.finished_at
                break
            status.consecutive_failures += 1
        # A layout alarm loses no stored data and fails no run, so alone it never reached anyone;
        # the same alarm night after night is a site that changed its layout (alerts.py).
        status.consecutive_alarms = next((n for n, run in enumerate(runs) if not run.alarms), len(runs))
        failure = next((r for r in runs if r.status != "ok"), None)
        if failure is not None:
            status.last_failure = failure.finished_at
            status.last_error = (failure.errors or ["(no message)"])[0]
        if runs:
            status.alarms = list(runs[0].alarms or [])
            if status.consecutive_failures >= failing_after:
                status.health = "failing"
            elif status.consecutive_failures:
                status.health = "failed"
            else:
                status.health = "alarm" if status.alarms else "ok"
        if source.id not in locked:
            killed(session, status, runs[0] if runs else None)
        statuses.append(status)
    return statuses


def killed(session: Session, status: SourceStatus, last: CrawlRun | None) -> None:
    """A run of the source still `running` after its last recorded one, while no run holds the
    source's lock: its process is gone. It fails the source until the next crawl records it as
    interrupted (and counts it); the alert machinery waits for that record."""
    query = select(CrawlRun).where(CrawlRun.source_id == status.source_id, CrawlRun.status == "running")
    if last is not None:
        query = query.where(CrawlRun.id > last.id)
    run = session.scalars(query.order_by(CrawlRun.id.desc()).limit(1)).first()
    if run is None:
        return
    status.last_failure = run.started_at
    status.last_error = (f"crawl run {run.id} started {run.started_at:%Y-%m-%d %H:%M} UTC is still 'running' "
                         f"and nothing holds its lock: {INTERRUPTED}; the next crawl records it and walks every "
                         "listing page")  # fmt: skip
    if status.health != "failing":
        status.health = "failed"
