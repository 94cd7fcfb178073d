"""Machine-readable timestamps (APIs, JSON-LD, meta tags, RSS) → aware UTC datetimes.

Visible Polish dates go through aggregator.dates; this module only handles the formats machines
write, where a naive value means Warsaw wall time unless the source says it is GMT.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

WARSAW = ZoneInfo("Europe/Warsaw")


def parse_iso(value: str | None, *, naive_is_utc: bool = False) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC if naive_is_utc else WARSAW)
    return parsed.astimezone(UTC)


def parse_rfc822(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def iso_granularity(value: str | None) -> str:
    """How precise a machine timestamp is: a bare date is a day, not midnight."""
    text = (value or "").strip()
    if len(text) <= 10:
        return "day"
    clock = text[11:].split("+")[0].split("Z")[0].split("-")[0]
    return "second" if clock.count(":") >= 2 else "minute"
