"""Polish for readers — the web page, the digests, the operator's alert mail: plural forms,
dates with genitive month names, dictionary order. One module, so the page and the mail that
quote the same announcement say its dates the same way.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

WARSAW = ZoneInfo("Europe/Warsaw")

# "12 marca 2024": a day of the month takes the month's genitive
MONTHS_GENITIVE = (
    "stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca",
    "lipca", "sierpnia", "września", "października", "listopada", "grudnia",
)  # fmt: skip


def plural(count: int, one: str, few: str, many: str) -> str:
    """The form for `count`: 1 ogłoszenie; 2–4, 22–24, 102–104 … ogłoszenia (but 12–14
    ogłoszeń); 0, 5–21, 25–31 … ogłoszeń."""
    if count == 1:
        return one
    if count % 10 in (2, 3, 4) and count % 100 not in (12, 13, 14):
        return few
    return many


def count_noun(count: int, one: str, few: str, many: str) -> str:
    """ "3 źródła", "5 źródeł" – the number followed by the form it needs."""
    return f"{count} {plural(count, one, few, many)}"


def stories_count(count: int) -> str:
    """`5 nowych ogłoszeń` — a digest's count."""
    return count_noun(count, "nowe ogłoszenie", "nowe ogłoszenia", "nowych ogłoszeń")


_FILE_SIZE = re.compile(r"(\d+)(?:([.,])(\d+))?\s*([kKmMgG]i?[bB]|bajt(?:y|ów)?)")
_UNITS = {"kb": "kB", "mb": "MB", "gb": "GB", "kib": "KiB", "mib": "MiB", "gib": "GiB"}


def file_size(size: str | None) -> str | None:
    """A file's size as a site wrote it, said in Polish: `1,2 MB` (a decimal comma: "1.2 MB" is
    English), `245 kB` (SI's small k: "245 KB", "245 kb"), a no-break space before the unit; "1.234
    KB" stays (a thousands separator or a decimal point: who knows). Anything else as written."""
    if not size:
        return size
    match = _FILE_SIZE.fullmatch(size.strip())
    if match is None:
        return size
    whole, separator, fraction, unit = match.groups()
    if separator == "." and len(fraction) == 3:
        return size
    number = f"{whole},{fraction}" if fraction else whole
    return f"{number}\u00a0{_UNITS.get(unit.lower(), unit)}"


def file_label(file_type: str | None, size: str | None) -> str:
    """What follows a file's name: `PDF, 1,2 MB` (the type as Polish writes it, "plik PDF"), ""
    when nothing is known."""
    return ", ".join(part for part in ((file_type or "").upper(), file_size(size)) if part)


def day(value: date | datetime | None, *, with_time: bool = False) -> str:
    """ "12 marca 2024" (and ", 14:05" with a time of day); datetimes are shown in Warsaw time."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        local = value.astimezone(WARSAW) if value.tzinfo else value
        text = f"{local.day} {MONTHS_GENITIVE[local.month - 1]} {local.year}"
        return f"{text}, {local:%H:%M}" if with_time else text
    return f"{value.day} {MONTHS_GENITIVE[value.month - 1]} {value.year}"


def period(start: date, end: date) -> str:
    """`6 grudnia 2026`, `6–7 grudnia 2026`, `30 listopada – 6 grudnia 2026`, `28 grudnia 2025 –
    3 stycznia 2026`: what the two days share is said once."""
    if start >= end:
        return day(end)
    if start.year != end.year:
        return f"{day(start)} – {day(end)}"
    if start.month != end.month:
        return f"{start.day} {MONTHS_GENITIVE[start.month - 1]} – {day(end)}"
    return f"{start.day}–{day(end)}"


def date_span(start: date, end: date | None, kind: str) -> str:
    """A date mentioned in a text, read the way `kind` says (event_dates.kind): `do 15 marca 2024`
    (a deadline), `od 1 marca 2024`, `19–20 maja 2022`, `12 października 2023`."""
    if kind == "until":
        return f"do {day(end or start)}"
    if kind == "from":
        return f"od {day(start)}"
    if end and end != start:
        return period(start, end)
    return day(start)


_ALPHABET = "aąbcćdeęfghijklłmnńoópqrsśtuvwxyzźż"
_RANK = {letter: index for index, letter in enumerate(_ALPHABET)}


def sort_key(text: str) -> tuple[int, ...]:
    """Dictionary order for Polish (ł after l, ś after s, ż last), case ignored; not byte order."""
    return tuple(_RANK.get(ch, 100 + ord(ch)) for ch in text.lower())
