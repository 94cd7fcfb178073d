"""Subscribers: validated, normalised addresses and their digest settings.

An address is stored in the form email-validator normalises it to (lower-case domain, IDNA
resolved, Unicode NFC), so a second subscription of the same address updates the one row instead
of adding another. Operator adds (`ropsfeed subscribers add`) are confirmed at once; web
subscriptions stay unconfirmed until the emailed link is followed.
"""

from __future__ import annotations

from dataclasses import InitVar, asdict, dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from aggregator.choices import FREQUENCIES, WEEKDAYS
from aggregator.diacritics import strip_diacritics
from db.models import Subscriber
from scrapers.registry import VOIVODESHIPS, load_sources, voivodeship_named

WEEKDAYS_PL = ("poniedziałek", "wtorek", "środa", "czwartek", "piątek", "sobota", "niedziela")
MAX_FILTER_VALUES = 50


class SubscriberError(ValueError):
    """Bad input from an operator or a form: the message says what is wrong, in English."""


def normalise_email(address: str) -> str:
    """The canonical form of an address; raises SubscriberError on anything that is not one.

    The local part is lower-cased too: RFC 5321 lets a server tell `Jan` from `jan`, but no
    provider does, and one person must not become two subscribers. Deliverability (DNS) is not
    checked: the confirmation email is the real test, and the machine may have no resolver."""
    try:
        normalized = validate_email(address.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise SubscriberError(f"not a valid email address: {address!r} ({exc})") from exc
    local, domain = normalized.rsplit("@", 1)
    return f"{local.lower()}@{domain}"


def transport_address(address: str) -> str:
    """The form to hand to SMTP: an internationalised domain in its ASCII (punycode) form, which
    every server accepts; a non-ASCII local part stays (it needs an SMTPUTF8 server)."""
    try:
        return validate_email(address, check_deliverability=False).ascii_email or address
    except EmailNotValidError:
        return address


def parse_weekday(value: str | int) -> int:
    """0 = Monday; English or Polish names (with or without diacritics) or ISO numbers 1–7."""
    text = str(value).strip()
    if isinstance(value, int) or (text.isascii() and text.isdigit()):  # not "²": isdigit() takes it, int() not
        number = int(value)
        if 1 <= number <= 7:
            return number - 1
        raise SubscriberError(f"weekday number must be 1 (Monday) to 7 (Sunday), not {number}")
    wanted = _plain(str(value))
    for names in (WEEKDAYS, WEEKDAYS_PL):
        for index, name in enumerate(names):
            if _plain(name) == wanted or (len(wanted) >= 3 and _plain(name).startswith(wanted)):
                return index
    raise SubscriberError(f"unknown weekday {value!r}; use one of: {', '.join(WEEKDAYS)}")


@cache
def _known_sources() -> frozenset[str]:
    return frozenset(s.id for s in load_sources())


def _plain(text: str) -> str:
    return strip_diacritics(text.strip().lower())


@dataclass(frozen=True)
class DigestSettings:
    """What a subscriber asked for; validated on construction.

    `check_sources=False` for settings read back (a subscriber's row, a confirmation link we signed):
    their sources were checked when asked for, and the operator may since have taken one out of the
    registry. Its stored announcements still match; refusing the row stopped `digest send` for
    everyone after that subscriber, and `subscribers list`."""

    frequency: str = "daily"
    weekday: int | None = None
    voivodeships: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()
    keywords: tuple[str, ...] = field(default=())
    check_sources: InitVar[bool] = True

    def __post_init__(self, check_sources: bool) -> None:
        if self.frequency not in FREQUENCIES:
            raise SubscriberError(f"frequency must be one of {', '.join(FREQUENCIES)}, not {self.frequency!r}")
        if self.frequency == "weekly" and self.weekday is None:
            object.__setattr__(self, "weekday", 0)
        if self.frequency == "daily":
            object.__setattr__(self, "weekday", None)
        if self.weekday is not None and not 0 <= self.weekday <= 6:
            raise SubscriberError("weekday must be 0 (Monday) to 6 (Sunday)")
        for name in ("voivodeships", "sources", "entities", "keywords"):
            values = tuple(dict.fromkeys(" ".join(str(v).split()) for v in getattr(self, name)))
            values = tuple(v for v in values if v)
            if len(values) > MAX_FILTER_VALUES or any(len(v) > 200 for v in values):
                raise SubscriberError(f"too many or too long {name}")
            object.__setattr__(self, name, values)
        unknown = [v for v in self.voivodeships if voivodeship_named(v) is None]
        if unknown:
            raise SubscriberError(f"unknown voivodeship {unknown[0]!r}; use one of: {', '.join(VOIVODESHIPS)}")
        # "slaskie" is stored as "śląskie", as the feed's --voivodeship reads it
        object.__setattr__(self, "voivodeships", tuple(dict.fromkeys(map(voivodeship_named, self.voivodeships))))
        unknown = [s for s in self.sources if s not in _known_sources()] if check_sources else []
        if unknown:
            raise SubscriberError(f"unknown source {unknown[0]!r}; see `ropsfeed sources`")

    def as_json(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DigestSettings:
        return cls(
            frequency=data.get("frequency", "daily"),
            weekday=data.get("weekday"),
            **{k: tuple(data.get(k) or ()) for k in ("voivodeships", "sources", "entities", "keywords")},
            check_sources=False,
        )

    @classmethod
    def of(cls, subscriber: Subscriber) -> DigestSettings:
        return cls(
            frequency=subscriber.frequency,
            weekday=subscriber.weekday,
            voivodeships=tuple(subscriber.voivodeships or ()),
            sources=tuple(subscriber.sources or ()),
            entities=tuple(subscriber.entities or ()),
            keywords=tuple(subscriber.keywords or ()),
            check_sources=False,
        )


def _columns(settings: DigestSettings) -> dict[str, Any]:
    return settings.as_json()


def find(session: Session, email: str) -> Subscriber | None:
    return session.scalar(select(Subscriber).where(Subscriber.email == normalise_email(email)))


def subscribe(session: Session, email: str, settings: DigestSettings, *, confirmed: bool) -> tuple[Subscriber, bool]:
    """Add or update; returns (subscriber, created). `confirmed=True` (an operator, or a followed
    confirmation link) confirms and re-activates an unsubscribed address, whose digests start
    afresh; an unconfirmed web request for an existing address changes nothing (the link it gets
    carries the new settings)."""
    address = normalise_email(email)
    now = datetime.now(UTC)
    existing = session.scalar(select(Subscriber).where(Subscriber.email == address))
    if existing is None:
        subscriber = Subscriber(email=address, created_at=now, confirmed_at=now if confirmed else None,
                                **_columns(settings))  # fmt: skip
        session.add(subscriber)
        session.flush()
        return subscriber, True
    if confirmed:
        for key, value in _columns(settings).items():
            setattr(existing, key, value)
        if existing.confirmed_at is None or existing.unsubscribed_at is not None:
            existing.confirmed_at = now
        if existing.unsubscribed_at is not None:
            # back after unsubscribing: the news from now on (a first digest's period), not all that
            # appeared while they asked for no mail
            existing.last_digest_at = None
        existing.unsubscribed_at = None
        existing.bounce_count = 0
        session.flush()
    return existing, False


def unsubscribe(session: Session, subscriber_id: int, email: str) -> bool:
    """Stop the digests at once; False when no such active subscription (already off, or gone)."""
    result = session.execute(
        update(Subscriber)
        .where(Subscriber.id == subscriber_id, Subscriber.email == email, Subscriber.unsubscribed_at.is_(None))
        .values(unsubscribed_at=datetime.now(UTC))
    )
    return bool(result.rowcount)


def remove(session: Session, email: str) -> bool:
    """Delete the subscriber and their delivery records (an operator's action, e.g. on request)."""
    return bool(session.execute(delete(Subscriber).where(Subscriber.email == normalise_email(email))).rowcount)


def all_subscribers(session: Session) -> list[Subscriber]:
    return list(session.scalars(select(Subscriber).order_by(Subscriber.email)))


def state(subscriber: Subscriber, max_bounces: int) -> str:
    if subscriber.unsubscribed_at:
        return "unsubscribed"
    if subscriber.confirmed_at is None:
        return "unconfirmed"
    if subscriber.bounce_count >= max_bounces:
        return "bouncing"
    return "active"
