"""Loud reporting of sources that keep failing: an ERROR log line each, and one email to the operator.

`ROPSFEED_ALERT_EMAIL` names the recipient; without it only the log lines are written. A failed
run is mailed about once: after sending, its crawl_runs row gets `alerted_at`, so calling
`ropsfeed status` ten times sends one email, and the next failed night sends the next one. When
sending fails, nothing is marked and the next call tries again. The email is in Polish, like
everything a person reads from ropsfeed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select, update

from aggregator.alert_mail import AlertMailError, send_alert
from aggregator.status import SourceStatus
from db.engine import session_scope
from db.models import CrawlRun

log = logging.getLogger("ropsfeed.alerts")


def plural(n: int, one: str, few: str, many: str) -> str:
    """Polish number agreement: 1 źródło, 2–4 and 22–24 źródła, 0, 5–21 and 25+ źródeł."""
    return one if n == 1 else few if n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14) else many


def compose(failing: Sequence[SourceStatus], failing_after: int) -> tuple[str, str]:
    """The subject and the plain-text body of the alert."""
    n = len(failing)
    sources = plural(n, "źródło nie działa", "źródła nie działają", "źródeł nie działa")
    runs = plural(failing_after, "nieudane pobranie", "nieudane pobrania", "nieudanych pobrań")
    subject = f"ropsfeed: {n} {sources} ({failing_after} {runs} z rzędu lub więcej)"
    lines = [f"Te źródła zawiodły co najmniej {failing_after} razy z rzędu:", ""]
    for s in failing:
        success = f"{s.last_success:%Y-%m-%d %H:%M} UTC" if s.last_success else "nigdy"
        lines += [
            f"• {s.source_id} — {s.institution}",
            f"  nieudane pobrania z rzędu: {s.consecutive_failures}",
            f"  ostatnie udane pobranie: {success}",
            f"  ostatni błąd: {s.last_error or '(brak komunikatu)'}",
            "",
        ]
    lines.append("Szczegóły: ropsfeed status (lub ropsfeed status --json).")
    return subject, "\n".join(lines) + "\n"


def report_failing(database_url: str, statuses: Sequence[SourceStatus], failing_after: int) -> list[SourceStatus]:
    """Log every source failing `failing_after`+ runs in a row; mail the operator about new failures."""
    failing = [s for s in statuses if s.consecutive_failures >= failing_after]
    for s in failing:
        log.error("%s has failed %d runs in a row; last error: %s", s.source_id, s.consecutive_failures, s.last_error)
    recipient = os.environ.get("ROPSFEED_ALERT_EMAIL")
    if not failing or not recipient:
        return failing
    with session_scope(database_url) as session:
        latest = {
            s.source_id: session.scalars(
                select(CrawlRun)
                .where(CrawlRun.source_id == s.source_id, CrawlRun.status == "failed")
                .order_by(CrawlRun.id.desc())
                .limit(1)
            ).one()
            for s in failing
        }
    news = [s for s in failing if latest[s.source_id].alerted_at is None]
    if not news:
        log.info("alert already mailed for the latest failure of %s", ", ".join(s.source_id for s in failing))
        return failing
    subject, body = compose(news, failing_after)
    try:
        send_alert(recipient, subject, body)
    except AlertMailError as exc:
        log.error("%s; will try again at the next check", exc)
        return failing
    with session_scope(database_url, write=True) as session:
        session.execute(
            update(CrawlRun)
            .where(CrawlRun.id.in_([latest[s.source_id].id for s in news]))
            .values(alerted_at=datetime.now(UTC))
        )
    log.warning("alert mailed to %s: %s", recipient, subject)
    return failing
