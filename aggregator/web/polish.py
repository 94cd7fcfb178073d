"""Polish for the page's readers: dates with genitive month names and plural forms of nouns."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

WARSAW = ZoneInfo("Europe/Warsaw")

# "12 marca 2024": a day of the month takes the month's genitive
MONTHS_GENITIVE = (
    "stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca",
    "lipca", "sierpnia", "września", "października", "listopada", "grudnia",
)  # fmt: skip


def plural(count: int, one: str, few: str, many: str) -> str:
    """The noun form for `count`: 1 źródło, 2–4 (but not 12–14) źródła, otherwise źródeł."""
    if count == 1:
        return one
    if count % 10 in (2, 3, 4) and count % 100 not in (12, 13, 14):
        return few
    return many


def count_noun(count: int, one: str, few: str, many: str) -> str:
    """ "3 źródła", "5 źródeł" – the number followed by the form it needs."""
    return f"{count} {plural(count, one, few, many)}"


def polish_date(value: date | datetime | None, *, with_time: bool = False) -> str:
    """ "12 marca 2024" (and ", 14:05" with a time of day); datetimes are shown in Warsaw time."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        local = value.astimezone(WARSAW) if value.tzinfo else value
        text = f"{local.day} {MONTHS_GENITIVE[local.month - 1]} {local.year}"
        return f"{text}, {local:%H:%M}" if with_time else text
    return f"{value.day} {MONTHS_GENITIVE[value.month - 1]} {value.year}"


def polish_period(start: date, end: date | None, kind: str) -> str:
    """A date mentioned in a text, read the way `kind` says (event_dates.kind)."""
    if kind == "until":
        return f"do {polish_date(end or start)}"
    if kind == "from":
        return f"od {polish_date(start)}"
    if end and end != start:
        if start.year == end.year and start.month == end.month:
            return f"{start.day}–{polish_date(end)}"
        return f"{polish_date(start)} – {polish_date(end)}"
    return polish_date(start)


_ALPHABET = "aąbcćdeęfghijklłmnńoópqrsśtuvwxyzźż"
_RANK = {letter: index for index, letter in enumerate(_ALPHABET)}


def polish_sort_key(text: str) -> tuple[int, ...]:
    """Dictionary order for Polish (ł after l, ś after s, ż last), case ignored; not byte order."""
    return tuple(_RANK.get(ch, 100 + ord(ch)) for ch in text.lower())
