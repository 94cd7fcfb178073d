"""Loud reporting of sources that keep failing or keep raising layout alarms: an ERROR log line
each, and one email to the operator.

A source is *failing* after `failing_after` failed runs in a row, and *alarming* after
`alarming_after` runs in a row that raised a layout alarm (a listing, feed or API that named no
announcement, …) without failing: such runs store nothing wrong, so only their repetition says that
a site changed its layout. A source that is both is reported as failing.

`ROPSFEED_ALERT_EMAIL` names the recipient; without it only the log lines are written. A run is
mailed about once: after sending, its crawl_runs row (the latest failed run of a failing source,
the latest run of an alarming one) gets `alerted_at`, so calling `ropsfeed status` ten times sends
one email, and the next bad night sends the next one. When sending fails, nothing is marked and the
next call tries again. The email is in Polish, like everything a person reads from ropsfeed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from aggregator.alert_mail import AlertMailError, send_alert
from aggregator.polish import plural
from aggregator.status import ALARMING_AFTER, SourceStatus
from db.engine import session_scope
from db.models import CrawlRun

log = logging.getLogger("ropsfeed.alerts")
ALARMS_MAILED = 5  # alarms of a source's last run listed in the email; the rest are counted


def partition(
    statuses: Sequence[SourceStatus], failing_after: int, alarming_after: int = ALARMING_AFTER
) -> tuple[list[SourceStatus], list[SourceStatus]]:
    """(failing, alarming) sources; `ropsfeed status` and the alert agree through this."""
    failing = [s for s in statuses if s.consecutive_failures >= failing_after]
    failing_ids = {s.source_id for s in failing}
    alarming = [s for s in statuses if s.consecutive_alarms >= alarming_after and s.source_id not in failing_ids]
    return failing, alarming


def compose(
    failing: Sequence[SourceStatus],
    failing_after: int,
    alarming: Sequence[SourceStatus] = (),
    alarming_after: int = ALARMING_AFTER,
) -> tuple[str, str]:
    """The subject and the plain-text body of the alert."""
    subject, lines = [], []
    if failing:
        n = len(failing)
        sources = plural(n, "źródło nie działa", "źródła nie działają", "źródeł nie działa")
        runs = plural(failing_after, "nieudane pobranie", "nieudane pobrania", "nieudanych pobrań")
        subject.append(f"{n} {sources} ({failing_after} {runs} z rzędu lub więcej)")
        lines += [f"Te źródła zawiodły co najmniej {failing_after} razy z rzędu:", ""]
        for s in failing:
            success = f"{s.last_success:%Y-%m-%d %H:%M} UTC" if s.last_success else "nigdy"
            lines += [
                f"• {s.source_id} — {s.institution}",
                f"  nieudane pobrania z rzędu: {s.consecutive_failures}",
                f"  ostatnie udane pobranie: {success}",
                f"  ostatni błąd: {s.last_error or '(brak komunikatu)'}",
                "",
            ]
    if alarming:
        n = len(alarming)
        runs = plural(alarming_after, "pobranie", "pobrania", "pobrań")
        subject.append(f"{n} {plural(n, 'źródło', 'źródła', 'źródeł')} z alarmem zmiany układu strony "
                       f"({alarming_after} {runs} z rzędu lub więcej)")  # fmt: skip
        lines += [
            f"Te źródła co najmniej {alarming_after} razy z rzędu zgłosiły alarm: pobranie się udaje, ale strona",
            "mogła zmienić układ i nowe ogłoszenia mogą do nas nie docierać:",
            "",
        ]
        for s in alarming:
            lines += [f"• {s.source_id} — {s.institution}", f"  pobrania z alarmem z rzędu: {s.consecutive_alarms}"]
            lines += [f"  alarm: {alarm}" for alarm in s.alarms[:ALARMS_MAILED]]
            if len(s.alarms) > ALARMS_MAILED:
                lines.append(f"  … i {len(s.alarms) - ALARMS_MAILED} więcej")
            lines.append("")
    lines.append("Szczegóły: ropsfeed status (lub ropsfeed status --json).")
    return "ropsfeed: " + "; ".join(subject), "\n".join(lines) + "\n"


def latest_run(session: Session, source_id: str, *conditions: Any) -> CrawlRun:
    """The newest finished run of the source that meets `conditions`, skipped and stopped ones aside."""
    done = (CrawlRun.source_id == source_id, CrawlRun.finished_at.is_not(None), CrawlRun.crawled())
    return session.scalars(select(CrawlRun).where(*done, *conditions).order_by(CrawlRun.id.desc()).limit(1)).one()


def report_problems(
    database_url: str, statuses: Sequence[SourceStatus], failing_after: int, alarming_after: int = ALARMING_AFTER
) -> tuple[list[SourceStatus], list[SourceStatus]]:
    """Log every failing and alarming source; mail the operator about the runs not mailed yet.
    Returns (failing, alarming)."""
    failing, alarming = partition(statuses, failing_after, alarming_after)
    for s in failing:
        log.error("%s has failed %d runs in a row; last error: %s", s.source_id, s.consecutive_failures, s.last_error,
                  extra={"source": s.source_id, "event": "failing"})  # fmt: skip
    for s in alarming:
        last = s.alarms[0] if s.alarms else "(none)"
        log.error("%s raised a layout alarm %d runs in a row; last alarm: %s", s.source_id, s.consecutive_alarms, last,
                  extra={"source": s.source_id, "event": "alarming"})  # fmt: skip
    recipient = os.environ.get("ROPSFEED_ALERT_EMAIL")
    if not (failing or alarming) or not recipient:
        return failing, alarming
    with session_scope(database_url) as session:
        latest = {s.source_id: latest_run(session, s.source_id, CrawlRun.status == "failed") for s in failing}
        latest |= {s.source_id: latest_run(session, s.source_id) for s in alarming}
    news = [s for s in failing if latest[s.source_id].alerted_at is None]
    news_alarming = [s for s in alarming if latest[s.source_id].alerted_at is None]
    if not news and not news_alarming:
        log.info("alert already mailed for the latest run of %s", ", ".join(s.source_id for s in failing + alarming))
        return failing, alarming
    subject, body = compose(news, failing_after, news_alarming, alarming_after)
    try:
        send_alert(recipient, subject, body)
    except AlertMailError as exc:
        log.error("%s; will try again at the next check", exc)
        return failing, alarming
    with session_scope(database_url, write=True) as session:
        mailed = [latest[s.source_id].id for s in news + news_alarming]
        session.execute(update(CrawlRun).where(CrawlRun.id.in_(mailed)).values(alerted_at=datetime.now(UTC)))
    log.warning("alert mailed to %s: %s", recipient, subject)
    return failing, alarming
