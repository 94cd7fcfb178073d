"""What an announcement mentions: institutions (aggregator.entities) and dates (aggregator.dates).

Runs at ingest for new and edited announcements only, so an unchanged page costs nothing; the
same function serves `reparse`, so a rebuilt database equals a fresh crawl.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from aggregator.dates import DateSpan, find_dates, to_utc
from aggregator.entities import Entity, extract_mentions

WARSAW = ZoneInfo("Europe/Warsaw")
CONTEXT_CHARS = 80
#: "ustawy z dnia 24 kwietnia 2003 r.", "uchwały nr 123/2024 Zarządu … z dnia 5 marca 2024 r.": the date
#: names a legal act, it is not an event or a deadline of the announcement.
_LEGAL_ACT_BEFORE = re.compile(
    r"\b(?:ustaw|rozporządze|uchwał|zarządze|obwieszcze|postanowie|decyzj|dyrektyw|kodeks)\w*"
    r"(?:\s+[^\s.;:]+){0,10}?\s+z\s+(?:dnia|dn\.)\s*$",
    re.IGNORECASE,
)
# How `_LEGAL_ACT_BEFORE` ends: the text before a date that ends otherwise (once its trailing
# whitespace is cut) cannot name a legal act, and most do; this is tried on their last characters
# only, where the whole pattern would be tried at each of the 160 characters before the date.
_LEGAL_ACT_END = re.compile(r"(?:dnia|dn\.)\Z", re.IGNORECASE)


@dataclass(frozen=True)
class MentionRecord:
    field: str
    surface: str
    char_start: int
    char_end: int
    entity: Entity


@dataclass(frozen=True)
class DateRecord:
    field: str
    match: str
    context: str
    char_start: int
    start_date: date
    end_date: date | None
    start_at: datetime | None
    end_at: datetime | None
    granularity: str
    kind: str


@dataclass(frozen=True)
class Annotations:
    mentions: list[MentionRecord]
    dates: list[DateRecord]


def _day(value: date | datetime) -> date:
    if isinstance(value, datetime):
        return (value.astimezone(WARSAW) if value.tzinfo else value).date()
    return value


def _instant(value: date | datetime | None) -> datetime | None:
    return to_utc(value) if isinstance(value, datetime) else None


def _context(text: str, start: int, end: int) -> str:
    """The date's line, at most CONTEXT_CHARS either side, cut between words (a reader and an
    analyst's `v_event_dates` saw "…ewódzkiego Ośrodka…" and "…monitorin…")."""
    left = text.rfind("\n", 0, start) + 1
    right = text.find("\n", end)
    right = len(text) if right == -1 else right
    if start - CONTEXT_CHARS > left:
        cut = start - CONTEXT_CHARS
        space = text.find(" ", cut, start)
        left = space + 1 if space != -1 and not text[cut - 1].isspace() else cut
    if end + CONTEXT_CHARS < right:
        cut = end + CONTEXT_CHARS
        space = text.rfind(" ", end, cut + 1)
        right = space if space != -1 and not text[cut].isspace() else cut
    return (
        ("…" if left > 0 and text[left - 1] != "\n" else "")
        + " ".join(text[left:right].split())
        + ("…" if right < len(text) and text[right] != "\n" else "")
    )


def _names_a_legal_act(text: str, start: int) -> bool:
    """Whether the date at ``start`` is that of a legal act (`_LEGAL_ACT_BEFORE` right before it)."""
    lo = max(0, start - 160)
    before = text[lo:start].rstrip()
    if _LEGAL_ACT_END.search(before, max(0, len(before) - 4)) is None:
        return False
    return _LEGAL_ACT_BEFORE.search(text, lo, start) is not None


def dating_sight(seen: datetime, first_crawl_end: datetime | None) -> datetime | None:
    """When a page was first seen (aware), if that dates it: only a page first met after its
    source's first crawl (`db.store.first_crawl_end`, the feed's rule too) is one the site published
    since. The first crawl meets years of backlog at once, and the day it met an old page says
    nothing of its year."""
    if first_crawl_end is None:
        return None
    return seen if seen > first_crawl_end else None


#: Two days decades apart: a date found alike against both leans on no reference day.
_PROBES = (date(1950, 7, 1), date(1990, 1, 15))


def _dates(text: str, reference: date | None) -> list[DateSpan]:
    """`find_dates` against the reference day; without one (an undated page), only the dates
    that do not need one: "11 grudnia", "br." and "Dziś" are left out rather than given the
    year of the crawl."""
    if reference is not None:
        return find_dates(text, reference)
    probe, other = (find_dates(text, day) for day in _PROBES)
    fixed = {(s.char_start, s.match, s.start, s.end) for s in other}
    return [s for s in probe if (s.char_start, s.match, s.start, s.end) in fixed]


def annotate(title: str, body_text: str, published: datetime | None, seen: datetime | None) -> Annotations:
    """Mentions and dates of title and body; year-less dates resolve against the publication day,
    or the day the page was first seen when the site gives no date and that day dates the page
    (`dating_sight`); with neither, they are left out."""
    anchor = published or seen
    reference = _day(anchor) if anchor is not None else None
    mentions: list[MentionRecord] = []
    dates: list[DateRecord] = []
    for field, text in (("title", title), ("body", body_text)):
        for mention in extract_mentions(text):
            mentions.append(MentionRecord(field, mention.text, mention.char_start, mention.char_end, mention.entity))
        for span in _dates(text, reference):
            if _names_a_legal_act(text, span.char_start):
                continue
            dates.append(
                DateRecord(
                    field=field,
                    match=span.match,
                    context=_context(text, span.char_start, span.char_end),
                    char_start=span.char_start,
                    start_date=_day(span.start),
                    end_date=_day(span.end) if span.end is not None else None,
                    start_at=_instant(span.start),
                    end_at=_instant(span.end),
                    granularity=span.granularity,
                    kind=span.kind,
                )
            )
    return Annotations(mentions, dates)
