"""`digest send`: every due subscriber gets one digest of what they have not received, exactly once.

For each subscriber, in this order:
1. take the subscriber's lease (an atomic UPDATE … WHERE the lease is free or expired, committed
   at once), so a second concurrent run skips them instead of mailing them too;
2. build the digest (stories not in `deliveries` for them) — none: nothing sent, the period is
   marked covered;
3. hand the message to the SMTP server;
4. only once the server accepted it, in one transaction: a `deliveries` row per story, the
   period marked covered, bounces reset, the lease released.
A crash or SMTP failure before 4 leaves no delivery rows: the next run sends those stories again
(and nothing already delivered). The only gap is a crash between the server's "250 OK" and the
commit of step 4, which no SMTP client can close.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, or_, select, update

from aggregator.feeds import WARSAW
from aggregator.mail.digest import Digest, DigestBuilder
from aggregator.mail.message import compose, unsubscribe_url
from aggregator.mail.render import render_digest
from aggregator.mail.settings import MailConfigError, MailSettings
from aggregator.mail.smtp import ConnectionLost, Deferred, Refused, SenderRefused, SmtpSender
from aggregator.mail.subscribers import transport_address
from aggregator.mail.tokens import unsubscribe_token
from db.engine import database_away, database_reason, session_scope
from db.migrate import ensure_schema
from db.models import Delivery, Subscriber
from db.upsert import insert_for

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=10)
MAX_BOUNCES = 3  # permanent refusals in a row after which an address gets no more digests


@dataclass
class SendReport:
    sent: int = 0
    stories: int = 0
    empty: int = 0
    deferred: int = 0
    refused: int = 0
    locked: int = 0  # another run held the subscriber
    crashed: int = 0  # subscribers whose digest failed for an unexpected reason (tried again next run)
    aborted: str | None = None  # why the run stopped early (the SMTP server went away)
    errors: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.deferred or self.crashed or self.aborted)

    def summary(self) -> str:
        text = (
            f"{self.sent} digest(s) sent with {self.stories} story(ies); {self.empty} with nothing new; "
            f"{self.deferred} deferred; {self.refused} refused; {self.locked} left to a concurrent run"
        )
        if self.crashed:
            text += f"; {self.crashed} failed"
        return text + (f"; stopped: {self.aborted}" if self.aborted else "")


def period_start(frequency: str, weekday: int | None, now: datetime) -> datetime:
    """Warsaw midnight of today (daily) or of the latest chosen weekday up to today (weekly)."""
    today = now.astimezone(WARSAW).date()
    if frequency == "weekly":
        today -= timedelta(days=(today.weekday() - (weekday or 0)) % 7)
    return datetime.combine(today, datetime.min.time(), WARSAW).astimezone(UTC)


def is_due(subscriber: Subscriber, now: datetime) -> bool:
    """A digest a period, the first one too: a weekly subscriber's first digest goes out on their
    weekday (someone who subscribes on a Monday for Fridays gets nothing that Monday and a week's
    news on Friday, not two digests in four days), or at the first run after that weekday passed
    unseen since they confirmed."""
    if subscriber.unsubscribed_at or subscriber.confirmed_at is None or subscriber.bounce_count >= MAX_BOUNCES:
        return False
    start = period_start(subscriber.frequency, subscriber.weekday, now)
    last = subscriber.last_digest_at
    if last is not None:
        return last < start
    if subscriber.frequency != "weekly":
        return True
    on_their_day = now.astimezone(WARSAW).date() == start.astimezone(WARSAW).date()
    return on_their_day or subscriber.confirmed_at < start


def due_subscribers(url: str, now: datetime, frequency: str | None = None) -> list[int]:
    with session_scope(url) as session:
        query = select(Subscriber).where(
            Subscriber.unsubscribed_at.is_(None),
            Subscriber.confirmed_at.is_not(None),
            Subscriber.bounce_count < MAX_BOUNCES,
        )
        if frequency:
            query = query.where(Subscriber.frequency == frequency)
        return [s.id for s in session.scalars(query.order_by(Subscriber.id)) if is_due(s, now)]


def _take_lease(url: str, subscriber_id: int, owner: str) -> bool:
    """The clock, not the run's start: a long run must not take leases that are already expired."""
    now = datetime.now(UTC)
    with session_scope(url, write=True) as session:
        result = session.execute(
            update(Subscriber)
            .where(
                Subscriber.id == subscriber_id,
                or_(Subscriber.lease_expires_at.is_(None), Subscriber.lease_expires_at < now),
            )
            .values(lease_owner=owner, lease_expires_at=now + LEASE)
        )
        return result.rowcount == 1


def _release(url: str, subscriber_id: int, owner: str, **values: object) -> None:
    """Release the lease (only if still ours), with whatever else the outcome records."""
    with session_scope(url, write=True) as session:
        session.execute(
            update(Subscriber)
            .where(and_(Subscriber.id == subscriber_id, Subscriber.lease_owner == owner))
            .values(lease_owner=None, lease_expires_at=None, **values)
        )


def _record_delivery(url: str, digest: Digest, owner: str, message_id: str, run_started: datetime) -> None:
    with session_scope(url, write=True) as session:
        rows = [{"subscriber_id": digest.subscriber_id, "story_key": s.key, "announcement_id": s.announcement_id,
                 "message_id": message_id, "sent_at": datetime.now(UTC)} for s in digest.stories]  # fmt: skip
        statement = insert_for(session, Delivery.__table__).on_conflict_do_nothing(
            index_elements=["subscriber_id", "story_key"]
        )
        if rows:
            session.execute(statement, rows)
        if digest.edited:  # the edit is said: the next digest says only a later one
            session.execute(
                update(Delivery)
                .where(Delivery.subscriber_id == digest.subscriber_id,
                       Delivery.story_key.in_([s.key for s in digest.edited]))
                .values(message_id=message_id, sent_at=datetime.now(UTC))
            )  # fmt: skip
        session.execute(
            update(Subscriber)
            .where(Subscriber.id == digest.subscriber_id, Subscriber.lease_owner == owner)
            .values(last_digest_at=run_started, bounce_count=0, lease_owner=None, lease_expires_at=None)
        )


def send_digests(url: str, settings: MailSettings, *, frequency: str | None = None, dry_run: bool = False,
                 now: datetime | None = None, echo: Callable[[str], None] = print,
                 sender: SmtpSender | None = None,
                 stop: Callable[[], object] = lambda: None) -> SendReport:  # fmt: skip
    """Send every due digest; `dry_run` prints what would be sent and changes nothing. Once `stop()`
    is true (`run` asked to stop by SIGTERM) no other digest is begun: the one on its way is sent
    and recorded, the rest wait for the next run (deliveries make that exactly once)."""
    ensure_schema(url)
    now = now or datetime.now(UTC)
    if not dry_run and settings.smtp is None and sender is None:
        raise MailConfigError("ROPSFEED_SMTP_URL is not set: nowhere to send digests (use --dry-run to preview)")
    report = SendReport()
    builder = DigestBuilder()
    owner = str(uuid.uuid4())
    smtp = sender or SmtpSender(settings.smtp)  # type: ignore[arg-type]
    try:
        for subscriber_id in due_subscribers(url, now, frequency):
            if stop():
                break
            if dry_run:
                try:
                    _dry_run_one(url, builder, subscriber_id, now, report, echo)
                except Exception as exc:
                    if _stops_the_run(exc, subscriber_id, report):
                        break
                continue
            if not _take_lease(url, subscriber_id, owner):
                report.locked += 1
                continue
            try:
                _send_one(url, settings, builder, smtp, subscriber_id, owner, now, report)  # releases the lease
            except ConnectionLost as exc:
                _release(url, subscriber_id, owner)
                report.aborted = str(exc)
                log.error("digest run stopped, the rest waits for the next run: %s", exc)
                break
            except Exception as exc:
                with contextlib.suppress(Exception):  # else the lease runs out (LEASE)
                    _release(url, subscriber_id, owner)
                if _stops_the_run(exc, subscriber_id, report):
                    break
            except BaseException:
                _release(url, subscriber_id, owner)
                raise
    finally:
        if sender is None:
            smtp.close()
    return report


def _stops_the_run(exc: Exception, subscriber_id: int, report: SendReport) -> bool:
    """An unexpected failure of one subscriber's digest (a value in their row no code expects, a
    bug): said in one line, their digest left for the next run (nothing recorded as sent), and the
    others' digests go on — one subscriber's digest no longer stops everyone's, night after night.
    True when the failure is the database going away: every later subscriber would fail alike."""
    if database_away(exc):
        report.aborted = f"the database is away: {database_reason(exc)}"
        log.error("digest run stopped, the rest waits for the next run: the database is away: %s",
                  database_reason(exc))  # fmt: skip
        return True
    report.crashed += 1
    reason = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else '(no message)'}"
    report.errors.append(f"subscriber {subscriber_id}: {reason}")
    log.error("digest for subscriber %d failed, the next run tries it again (the others go on): %s", subscriber_id,
              reason)  # fmt: skip
    log.debug("digest for subscriber %d failed", subscriber_id, exc_info=exc)
    return False


def _dry_run_one(url: str, builder: DigestBuilder, subscriber_id: int, now: datetime, report: SendReport,
                 echo: Callable[[str], None]) -> None:  # fmt: skip
    with session_scope(url) as session:
        subscriber = session.get_one(Subscriber, subscriber_id)
        digest = builder.build(session, subscriber, now)
    if digest.empty:
        report.empty += 1
        echo(f"{digest.email}: nothing new since {digest.since:%Y-%m-%d %H:%M} UTC")
        return
    report.sent += 1
    report.stories += len(digest.stories)
    echo(f"{digest.email}: {digest.subject}")
    for voivodeship, stories in digest.groups():
        for story in stories:
            echo(f"  [{voivodeship}] {story.title} <{story.url}>")
    for story in digest.edited:
        echo(f"  [zmienione] {story.title} <{story.url}>")


def _send_one(url: str, settings: MailSettings, builder: DigestBuilder, smtp: SmtpSender, subscriber_id: int,
              owner: str, now: datetime, report: SendReport) -> None:  # fmt: skip
    with session_scope(url) as session:
        subscriber = session.get_one(Subscriber, subscriber_id)
        if not is_due(subscriber, now):  # a concurrent run finished them between listing and leasing
            report.locked += 1
            _release(url, subscriber_id, owner)
            return
        digest = builder.build(session, subscriber, now)
        frequency, weekday = subscriber.frequency, subscriber.weekday
    if digest.empty:
        report.empty += 1
        _release(url, subscriber_id, owner, last_digest_at=now)
        return
    token = unsubscribe_token(settings.secret_key, digest.subscriber_id, digest.email)
    rendered = render_digest(digest, unsubscribe_url=unsubscribe_url(settings, token), home_url=settings.base_url,
                             frequency=frequency, weekday=weekday)  # fmt: skip
    message = compose(settings, digest.email, rendered, unsubscribe_token=token)
    try:
        smtp.send(message, settings.sender.addr_spec, transport_address(digest.email))
    except SenderRefused as exc:
        # our sender address (ROPSFEED_MAIL_FROM) or the message's size, not the subscriber's
        # address: no bounce of theirs (three in a row would end everyone's digests for good after
        # a relay's misconfiguration), their digest is tried again by the next run
        report.deferred += 1
        sender = settings.sender.addr_spec
        reason = f"the server refused our sender address {sender} (ROPSFEED_MAIL_FROM) or the message's size: {exc}"
        report.errors.append(f"{digest.email}: deferred: {reason}")
        log.error("digest for %s deferred to the next run: %s", digest.email, reason)
        _release(url, subscriber_id, owner)
        return
    except Refused as exc:
        report.refused += 1
        report.errors.append(f"{digest.email}: refused: {exc}")
        log.warning("digest for %s refused: %s", digest.email, exc)
        _record_bounce(url, subscriber_id, owner, str(exc), permanent=True)
        return
    except Deferred as exc:
        report.deferred += 1
        report.errors.append(f"{digest.email}: deferred: {exc}")
        log.warning("digest for %s deferred to the next run: %s", digest.email, exc)
        _record_bounce(url, subscriber_id, owner, str(exc), permanent=False)
        return
    _record_delivery(url, digest, owner, str(message["Message-ID"]), now)
    report.sent += 1
    report.stories += len(digest.stories)


def _record_bounce(url: str, subscriber_id: int, owner: str, reason: str, *, permanent: bool) -> None:
    with session_scope(url, write=True) as session:
        values: dict[str, object] = {"last_bounce_at": datetime.now(UTC), "last_bounce": reason[:1000]}
        if permanent:
            values["bounce_count"] = Subscriber.bounce_count + 1
        session.execute(
            update(Subscriber)
            .where(Subscriber.id == subscriber_id, Subscriber.lease_owner == owner)
            .values(lease_owner=None, lease_expires_at=None, **values)
        )
