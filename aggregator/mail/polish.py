"""Polish wording for digests: plural forms and dates as a reader writes them."""

from __future__ import annotations

from datetime import date

MONTHS_GENITIVE = ("stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca", "sierpnia",
                   "września", "października", "listopada", "grudnia")  # fmt: skip


def plural(n: int, one: str, few: str, many: str) -> str:
    """1 ogłoszenie, 2–4 ogłoszenia (but 12–14 ogłoszeń), 0 and 5+ ogłoszeń; 22 ogłoszenia."""
    if n == 1:
        return one
    if n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14):
        return few
    return many


def stories_count(n: int) -> str:
    """`5 nowych ogłoszeń` — the subject's count."""
    return f"{n} " + plural(n, "nowe ogłoszenie", "nowe ogłoszenia", "nowych ogłoszeń")


def day(value: date) -> str:
    """`6 grudnia 2026`."""
    return f"{value.day} {MONTHS_GENITIVE[value.month - 1]} {value.year}"


def period(start: date, end: date) -> str:
    """`6 grudnia 2026`, `30 listopada – 6 grudnia 2026`, `28 grudnia 2025 – 3 stycznia 2026`."""
    if start >= end:
        return day(end)
    if start.year != end.year:
        return f"{day(start)} – {day(end)}"
    if start.month != end.month:
        return f"{start.day} {MONTHS_GENITIVE[start.month - 1]} – {day(end)}"
    return f"{start.day}–{day(end)}"


def date_span(start: date, end: date | None, kind: str) -> str:
    """An event date as the digest lists it: `do 15 marca 2024` (a deadline), `od 1 marca 2024`,
    `19–20 maja 2022`, `12 października 2023`."""
    if kind == "until":
        return f"do {day(end or start)}"
    if kind == "from":
        return f"od {day(start)}"
    if end and end != start:
        return period(start, end)
    return day(start)
