"""Polish date expressions in announcement text → exact dates and ranges.

Why a scanner of our own (DESIGN.md §3): dateparser alone reads only about 60% of the date
expressions found on the regional social-policy sites, costs ~1.4 ms per call, and its
``search_dates`` invents dates out of ordinary words ("się" → August, "nie" → Sunday).  The
forms that matter are few and regular, so one precompiled regular expression finds them and a
small amount of code resolves them.  dateparser is kept for the one thing it does well:
relative words ("wczoraj", "3 dni temu", "w zeszłym tygodniu"), through a single cached parser.

Why it is fast: every expression holds a digit run or one of a few keywords, found with
``str.find``; the full pattern is only tried at those anchors and at the two words before them,
and only with the alternatives that can start with the character found there.  Word lists are
compiled as tries.  All quantifiers are bounded, so there is no catastrophic backtracking.

How an expression is represented (:class:`DateSpan`):

* ``start``/``end`` are ``date`` values, or ``datetime`` values when a time is attached.  Naive
  datetimes are Europe/Warsaw wall time; only ISO 8601 input with an offset gives an aware one.
* ``end`` is ``None`` for single points.  A day range, a month, a quarter, a half-year or a year
  is a range from its first to its last day (``"we wrześniu 2018"`` → 2018-09-01..2018-09-30).
* ``kind`` says how the text frames the value: ``"point"``, ``"range"``, ``"from"`` (an open
  start, "od 1 marca 2024") or ``"until"`` (a deadline, "do 15 lipca 2022 r.").  Open forms keep
  a single value in ``start`` and ``end=None``: for ``"from"`` the first day of the period, for
  ``"until"`` the last one (``"do końca marca"`` → 03-31, ``"do 2030 roku"`` → 2030-12-31).
  Consumers that only want the contract shape can ignore ``kind``.

Year-less dates, ``br.``/``b.r.``/``bieżącego roku`` resolve to the year of ``reference`` (the
publication date of the page), never to "today"; a weekday next to a year-less date picks the
neighbouring year where that weekday fits.
"""

from __future__ import annotations

import calendar
import functools
import re
from collections.abc import Callable, Iterable
from copy import copy
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from datetime import timezone as dt_timezone
from itertools import compress
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["DateSpan", "find_dates", "four_digit_runs", "parse_date", "span_to_json", "to_utc"]

GRANULARITIES = ("minute", "day", "month", "quarter", "half-year", "year")
KINDS = ("point", "range", "from", "until")
WARSAW = "Europe/Warsaw"


@dataclass(frozen=True)
class DateSpan:
    """One date expression found in a text, resolved to concrete calendar values."""

    match: str
    char_start: int
    char_end: int
    start: date | datetime
    end: date | datetime | None
    granularity: str
    kind: str = "point"


# --------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------

# Per month: genitive, nominative, locative forms (with the diacritic-less spellings seen in
# slugs and careless typing) and abbreviations.  Abbreviations are only trusted with a dot or a
# year next to them, because "sie"/"mar"/"lis" are also ordinary syllables.
_MONTH_GEN = {
    1: ("stycznia",),
    2: ("lutego",),
    3: ("marca",),
    4: ("kwietnia",),
    5: ("maja",),
    6: ("czerwca",),
    7: ("lipca",),
    8: ("sierpnia",),
    9: ("września", "wrzesnia"),
    10: ("października", "pazdziernika"),
    11: ("listopada",),
    12: ("grudnia",),
}
_MONTH_NOM = {
    1: ("styczeń", "styczen"),
    2: ("luty",),
    3: ("marzec",),
    4: ("kwiecień", "kwiecien"),
    5: ("maj",),
    6: ("czerwiec",),
    7: ("lipiec",),
    8: ("sierpień", "sierpien"),
    9: ("wrzesień", "wrzesien"),
    10: ("październik", "pazdziernik"),
    11: ("listopad",),
    12: ("grudzień", "grudzien"),
}
_MONTH_LOC = {
    1: ("styczniu",),
    2: ("lutym",),
    3: ("marcu",),
    4: ("kwietniu",),
    5: ("maju",),
    6: ("czerwcu",),
    7: ("lipcu",),
    8: ("sierpniu",),
    9: ("wrześniu", "wrzesniu"),
    10: ("październiku", "pazdzierniku"),
    11: ("listopadzie",),
    12: ("grudniu",),
}
_MONTH_ABBR = {
    1: ("sty", "stycz"),
    2: ("lut",),
    3: ("mar",),
    4: ("kwi", "kwiec"),
    5: (),
    6: ("cze", "czer", "czerw"),
    7: ("lip",),
    8: ("sie", "sierp"),
    9: ("wrz", "wrze", "wrześ"),
    10: ("paź", "paz", "paźdz", "pazdz", "paźd"),
    11: ("lis", "list"),
    12: ("gru", "grud"),
}


def _forms(*tables: dict[int, tuple[str, ...]]) -> dict[str, int]:
    """Flatten month tables into one lower-case word → month number lookup."""
    return {word: month for table in tables for month, words in table.items() for word in words}


_GEN = _forms(_MONTH_GEN)
_NOM = _forms(_MONTH_NOM)
_LOC = _forms(_MONTH_LOC)
_ABBR = _forms(_MONTH_ABBR)
_DAY_FORMS = {**_ABBR, **_NOM, **_GEN}
_ROMAN = {
    "I": 1,
    "II": 2,
    "III": 3,
    "IV": 4,
    "V": 5,
    "VI": 6,
    "VII": 7,
    "VIII": 8,
    "IX": 9,
    "X": 10,
    "XI": 11,
    "XII": 12,
}
_WEEKDAYS = {
    "poniedziałek": 0,
    "pon.": 0,
    "wtorek": 1,
    "wt.": 1,
    "środa": 2,
    "środę": 2,
    "śr.": 2,
    "czwartek": 3,
    "czw.": 3,
    "piątek": 4,
    "pt.": 4,
    "sobota": 5,
    "sobotę": 5,
    "sob.": 5,
    "niedziela": 6,
    "niedzielę": 6,
    "niedz.": 6,
    "ndz.": 6,
}
_ORDINALS = (("pierwsz", 1), ("drug", 2), ("trzec", 3), ("czwart", 4))


def _alt(words: Iterable[str]) -> str:
    """Regex matching any of ``words``, written as a trie.

    Python's ``re`` tries the branches of an alternation one by one; a trie lets a failing
    attempt stop after a character or two, which is most of the scanner's speed.
    """
    trie: dict[str, Any] = {}
    for word in set(words):
        node = trie
        for ch in word.lower():
            node = node.setdefault(ch, {})
        node[""] = {}
    return _render_trie(trie)


def _render_trie(node: dict[str, Any]) -> str:
    branches = [re.escape(ch) + _render_trie(child) for ch, child in sorted(node.items()) if ch]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if "" in node:
        return f"(?:{body})?"
    return body


# --------------------------------------------------------------------------------------------
# The pattern
# --------------------------------------------------------------------------------------------

_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MON = r"(?:0?[1-9]|1[0-2])"
_YEAR = r"(?:19|20)\d\d"
_ROM = r"(?-i:XII|XI|X|IX|VIII|VII|VI|V|IV|III|II|I)"
_YSUF = r"(?:\s{0,2}(?:roku\b|rok\b|r\b\.?))"
_RELYEAR = (
    r"(?:b\.\s?r\b\.?|br\b\.?|bież\.\s?r\b\.?|bieżącego\s+roku|roku\s+bieżącego|tego\s+roku"
    r"|ub\.\s?r\b\.?|ubiegłego\s+roku|roku\s+ubiegłego|zeszłego\s+roku"
    r"|przyszłego\s+roku|następnego\s+roku)"
)
_WD = _alt(_WEEKDAYS)


def _ypart(p: str) -> str:
    """Optional year after a day or month: '2024 roku', ', 2023', 'br.', 'ubiegłego roku'."""
    return (
        rf"(?:\s{{0,2}},?\s{{0,2}}(?P<{p}_y>{_YEAR})(?!\d){_YSUF}?"
        rf"|\s{{0,3}}(?P<{p}_rel>{_RELYEAR}))"
    )


_ALTERNATIVES = [
    # ISO and year-first numeric dates: 2024-05-14, 2018.10.25, 2024-05-14T13:36:00+02:00
    rf"(?P<iso>(?<![\d.,/])(?P<iso_y>{_YEAR})(?P<iso_s>[-.])(?P<iso_m>0[1-9]|1[0-2])(?P=iso_s)"
    rf"(?P<iso_d>0[1-9]|[12]\d|3[01])(?:T(?P<iso_h>[01]\d|2[0-3]):(?P<iso_mi>[0-5]\d)"
    rf"(?::(?P<iso_sec>[0-5]\d)(?:\.\d+)?)?(?P<iso_tz>Z|[+-]\d\d:?\d\d)?)?(?!\d|[.,]\d))",
    # Day-first numeric dates, optionally with a leading day for a range: 19-20.05.2022 r., (od) 1 do 15.05.2024
    rf"(?P<num>(?<![\d.,/])(?:(?P<num_d0>{_DAY})(?P<num_c>\s{{0,2}}[-–]\s{{0,2}}|\s{{1,2}}do\s{{1,2}}))?(?P<num_d>{_DAY})"
    rf"(?P<num_s>[./-])\s?(?P<num_m>{_MON})(?P=num_s)\s?(?P<num_y>{_YEAR})(?!\d|[.,]\d){_YSUF}?)",
    # Roman-numeral months: 15.IV.2019, 15 IV 2019
    rf"(?P<rom>(?<![\w.,/])(?P<rom_d>{_DAY})(?:\.\s?|\s)(?P<rom_m>{_ROM})(?:\.\s?|\s)"
    rf"(?P<rom_y>{_YEAR})(?!\d){_YSUF}?)",
    # Text dates: [19:40] [w środę,] 23[-24 | i 24 | do 24] lutego [2024 roku | br.]
    rf"(?P<txt>(?:(?P<txt_ph>[01]?\d|2[0-3]):(?P<txt_pm>[0-5]\d)\s{{1,3}})?"
    rf"(?:(?P<txt_wd>{_WD})(?!\w)\s{{0,2}},?\s{{0,3}})?(?<![\w.,/:])(?P<txt_d>{_DAY})"
    rf"(?:\s{{0,2}}(?P<txt_c>[-–—]|do|i|oraz|a)\s{{0,2}}(?P<txt_d2>{_DAY}))?"
    rf"\s{{0,3}}(?P<txt_m>{_alt(_DAY_FORMS)})(?!\w)(?P<txt_dot>\.)?{_ypart('txt')}?)",
    # Quarters: I kwartał 2024, w IV kwartale 2015 r., pierwszym kwartale
    rf"(?P<qtr>(?<![\w.])(?P<qtr_n>{_ROM}|[1-4]|pierwsz\w*|drug\w*|trzec\w*|czwart\w*)\.?\s+"
    rf"(?P<qtr_w>kwarta(?:łach|łem|łu|ły|le|ł|lu|l)|kw\.)(?!\w){_ypart('qtr')}?)",
    # Half-years: I półrocze 2020 r., w pierwszej połowie 2017 roku
    rf"(?P<half>(?<![\w.])(?P<half_n>(?-i:II|I)|[12]|pierwsz\w*|drug\w*)\.?\s+"
    rf"(?P<half_w>półrocz\w*|polrocz\w*|połow\w*){_ypart('half')}?)",
    # Locative month with a year: we wrześniu 2018 roku, w grudniu bieżącego roku
    rf"(?P<loc>\bw(?:e)?\s+(?P<loc_m>{_alt(_LOC)})(?!\w){_ypart('loc')})",
    # Genitive month after a framing word: do końca marca, od maja 2018, w połowie grudnia 2022
    rf"(?P<gen>\b(?P<gen_p>(?:(?:do|od|pod|na|w|z|przed)\s+)?(?:końca|koniec|końcem|końcu|początku"
    rf"|początek|początkiem|połowy|połowie|połowa|przełomie)|od|do|z|od\s+początku)\s+"
    rf"(?P<gen_m>{_alt(_GEN)})(?!\w){_ypart('gen')}?)",
    # Nominative month, with a year (Sierpień 2020, marzec 2023 r.) or as a range end (styczeń-)
    rf"(?P<nom>\b(?P<nom_m>{_alt(_NOM)})(?!\w){_ypart('nom')}?)",
    # Numeric month/year: 03/2020, XI/2019 and ISO year-month 2020-10
    rf"(?P<my>(?<![\w.,/-])(?:(?P<my_m>0[1-9]|1[0-2])|(?P<my_r>{_ROM}))/(?P<my_y>{_YEAR})(?![\d/]))",
    rf"(?P<ym>(?<![\w.,/-])(?P<ym_y>{_YEAR})-(?P<ym_m>0[1-9]|1[0-2])(?![\w-]))",
    # Years: w 2021 roku, na lata 2014-2020, do 2030 roku, Rok 2010, za rok 2017
    rf"(?P<yr>(?:\b(?P<yr_p>w|we|na|za|do|od|po|przed|sprzed|początku|końca|końcu|połowie|połowy"
    rf"|latach|lata|perspektywie)\s+)?(?:(?P<yr_in>roku|rok)\s+)?(?<![\w.,/-])(?P<yr_1>{_YEAR})"
    rf"(?:\s{{0,2}}[-–—]\s{{0,2}}(?P<yr_2>{_YEAR}))?(?!\d)(?:\s{{0,2}}(?P<yr_s>roku\b|rok\b|r\b\.?))?)",
    # Year-less numeric day.month: 21.10 br., (20.09.), od 19.05-20.05.2022
    rf"(?P<dm>(?<![\d.,/])(?P<dm_d>{_DAY})\.(?P<dm_m>{_MON})(?P<dm_dot>\.)?(?!\d|\.\d)"
    rf"(?:\s{{0,3}}(?P<dm_rel>{_RELYEAR}))?)",
    # Relative words, resolved by dateparser against the reference date
    r"(?P<rel>\b(?:przedwczoraj|wczoraj|dzisiaj|dziś|jutro|pojutrze|w\s+dniu\s+dzisiejszym"
    r"|(?:\d{1,3}|jeden|jedną|dwa|dwie|trzy|cztery|pięć|sześć|siedem|osiem|dziewięć|dziesięć)"
    r"\s+(?:dni|dzień|tygodni|tygodnie|tydzień|miesięcy|miesiące|miesiąc|lat|lata|rok|godzin|godziny"
    r"|godzinę)\s+temu|(?:tydzień|miesiąc|rok|godzinę)\s+temu"
    r"|w\s+(?:zeszłym|ubiegłym|przyszłym|następnym)\s+(?:tygodniu|miesiącu))(?!\w))",
]
# Which alternatives can start with a given character.  The scanner picks a pattern built from
# only those, so a failing attempt at an ordinary word costs one dictionary look-up.
_GUARDS = [
    r"\d",
    r"\d",
    r"\d",
    r"[\dpwśscn]",
    r"[\dIVXpdtc]",
    r"[12IVpd]",
    r"w",
    r"[dopnwzk]",
    r"[slmkcwpg]",
    r"\d|(?-i:[IVX])",
    r"\d",
    r"[\dwnzdopskrl]",
    r"\d",
    r"[\dpwdjtcsomrg]",
]
_GUARD_RES = [re.compile(g, re.IGNORECASE) for g in _GUARDS]
# How many digits (`\d`) an alternative can start with, when it starts with one: the whole run of
# digits there, as each alternative's number is followed by something else than a digit (a
# separator, a space, a month, `(?!\d)`). Days and months have one or two digits (iso: "2024-05-14"
# four), "3 dni temu" up to three; a run of five or more (a phone or a case number) starts none.
# Most candidates start with a digit, and a failed alternative costs about a microsecond: a year
# needs only the three alternatives that start with one.
_DIGIT_RUNS = [
    {4},  # iso
    {1, 2},  # num
    {1, 2},  # rom
    {1, 2},  # txt (a day, or the hour of "19:40 ")
    {1},  # qtr
    {1},  # half
    set(),  # loc
    set(),  # gen
    set(),  # nom
    {2},  # my
    {4},  # ym
    {4},  # yr
    {1, 2},  # dm
    {1, 2, 3},  # rel
]
_LONGEST_DIGIT_RUN = max(max(runs, default=0) for runs in _DIGIT_RUNS)
_DIGIT_RUN = re.compile(rf"\d{{0,{_LONGEST_DIGIT_RUN + 1}}}")


@functools.lru_cache(maxsize=64)
def _compile_alternatives(indices: tuple[int, ...]) -> re.Pattern[str]:
    return re.compile("|".join(_ALTERNATIVES[i] for i in indices), re.IGNORECASE)


@functools.lru_cache(maxsize=4096)
def _pattern_for(ch: str, digits: int = 0) -> re.Pattern[str] | None:
    """The combined pattern of the alternatives that may start with ``ch`` followed by ``digits``
    digits in all (0: ``ch`` is no digit; any count above `_LONGEST_DIGIT_RUN` stands for all longer
    runs), None when none may. Leaving out alternatives that cannot match there changes no match:
    the first alternative that matches is still the first."""
    indices = tuple(
        i for i, guard in enumerate(_GUARD_RES) if guard.match(ch) and (not digits or digits in _DIGIT_RUNS[i])
    )
    return _compile_alternatives(indices) if indices else None


def _pattern_at(text: str, start: int) -> re.Pattern[str] | None:
    """`_pattern_for` the character at ``start`` and the run of digits it opens."""
    ch = text[start]
    if not ch.isdecimal():  # `\d` is a decimal digit
        return _pattern_for(ch)
    return _pattern_for(ch, _DIGIT_RUN.match(text, start).end() - start)  # type: ignore[union-attr]


_TIME_RE = re.compile(
    r"\s{0,3}(?:[,;]\s{0,3})?(?:[-–—]\s{0,3})?"
    r"(?:(?P<kw>(?:(?:w|o|od|do)\s+)?(?:godz(?:inach|inie|ina|iny)?|g)\b\.?)\s{0,3}(?:od\s+)?)?"
    r"(?P<h>[01]?\d|2[0-3])(?:(?P<sep>[:.])(?P<mi>[0-5]\d))?(?::(?P<sec>[0-5]\d))?"
    r"(?:\s{0,3}(?:[-–—]|do)\s{0,3}(?:godz\.?\s{0,3})?(?P<h2>[01]?\d|2[0-3])(?:[:.](?P<mi2>[0-5]\d))?)?"
    r"(?!\d)",
    re.IGNORECASE,
)

# Context guards and frames, always applied to a short window next to a candidate.
_STREET_BEFORE = re.compile(
    r"(?:\bul\.?|\bulic[aęy]|\bal\.|\balej[ae]?|\baleja|\bpl\.|\bplac(?:u)?|\bos\.|\bosiedl[eu]"
    r"|\brond[oa]|\bskwer(?:u)?)\s*$",
    re.IGNORECASE,
)
_CITATION_BEFORE = re.compile(r"(?:Dz\.\s?U(?:rz)?\.|M\.\s?P\.|Monitor\w*\s+Polsk\w*)[^()\n]{0,25}$", re.IGNORECASE)
# Held by every `_CITATION_BEFORE` match, case-folded ("mon": its "i" may be a case-blind "İ")
_CITATION_WORDS = ("dz.", "m.", "mon")
_CITATION_AFTER = re.compile(r"\s*,?\s*(?:poz\.|nr\b)", re.IGNORECASE)
_NUMBER_BEFORE = re.compile(r"(?:\bnr|\bnumer\w*)\.?\s*$", re.IGNORECASE)
_DAY_TRIGGER_BEFORE = re.compile(
    r"(?:\bdnia|\bdniu|\bdn\.|\bod|\bdo|\bw\s+dniach|\bterminie|\bdata\w*\s*:?)\s*$", re.IGNORECASE
)
_FRAME_BEFORE = re.compile(
    r"(?:(?P<from>\b(?:począwszy\s+)?od)|(?P<until>\b(?:najpóźniej\s+)?do)|(?P<between>\b(?:pomiędzy|między)))"
    r"(?:\s+dnia|\s+dn\.)?\s*$",
    re.IGNORECASE,
)
# How every `_FRAME_BEFORE` match ends, once the whitespace after it is cut
_FRAME_END = re.compile(r"(?:od|do|dzy|dnia|dn\.)\Z", re.IGNORECASE)
_RANGE_OPENER_BEFORE = re.compile(
    r"(?:\bod|\bw\s+dniach|\bw\s+okresie|\bw\s+terminie|\btermin\w*\s*:?)(?:\s+dnia|\s+dn\.)?\s*$", re.IGNORECASE
)
_DASH_GAP = re.compile(r"\s*[-–—−]\s*")
# "od 15.10.2018 r. (poniedziałek) do 29.10.2018 r.": the first day's weekday may stand in the gap
_DO_GAP = re.compile(rf"\s*(?:\(\s*{_WD}\s*\)\s*)?,?\s*do(?:\s+dnia|\s+dn\.)?\s*", re.IGNORECASE)
_A_GAP = re.compile(r"\s*a\s*", re.IGNORECASE)
_LIST_GAP = re.compile(r"\s*(?:,|;|i|oraz)\s*", re.IGNORECASE)
_REL_BRIDGE = re.compile(r"[\s,:;.\-–]*(?:jest|to|tj|czyli)?[\s,:;.\-–]*", re.IGNORECASE)
_DIGIT_AFTER = re.compile(r"[ \t]*\d")
_WINDOW = 30


# --------------------------------------------------------------------------------------------
# Atoms: candidates before ranges are joined and years are filled in
# --------------------------------------------------------------------------------------------


@dataclass
class _Atom:
    """A date expression as written, with the parts the text left out still open."""

    s: int
    e: int
    gran: str  # 'day' | 'month' | 'quarter' | 'half-year' | 'year' | 'fixed'
    month: int = 1
    month_last: int = 1
    day: int | None = None
    day_last: int | None = None
    year: int | None = None
    year_last: int | None = None
    year_rel: int | None = None  # br. → 0, ubiegłego roku → -1
    time: tuple[int, int, int] | None = None
    time_last: tuple[int, int, int] | None = None
    time_ends: bool = False  # "do godz. 15:00": the hour closes the expression, it does not open it
    weekday: int | None = None
    kind: str | None = None  # framing carried inside the match ('from' / 'until')
    partial: bool = False  # only meaningful as one end of a range
    fixed: tuple[date | datetime, date | datetime | None] | None = None
    phrase: str = ""  # relative words, resolved late because they need the reference

    @property
    def has_year(self) -> bool:
        return self.year is not None or self.year_rel is not None


def _rel_year_offset(phrase: str) -> int:
    """'br.' is this year; 'ubiegłego roku' the one before; 'przyszłego roku' the next."""
    low = phrase.lower()
    if low.startswith(("ub", "zeszł")) or "ubiegł" in low:
        return -1
    if low.startswith(("przyszł", "następn")):
        return 1
    return 0


def _set_year(atom: _Atom, m: re.Match[str], p: str) -> None:
    """Copy an explicit or relative year captured by ``_ypart(p)`` onto the atom."""
    y = m.group(f"{p}_y")
    if y:
        atom.year = int(y)
    elif m.group(f"{p}_rel"):
        atom.year_rel = _rel_year_offset(m.group(f"{p}_rel"))


def _attach_time(atom: _Atom, text: str) -> None:
    """Extend a day atom with a following clock time ('o godz. 12:00', '13:36', '10.00–14.00')."""
    m = _TIME_RE.match(text, atom.e)
    if m is None:
        return
    keyword = m.group("kw")
    if not keyword and (m.group("sep") != ":" or m.group("mi") is None):
        return  # a bare number after a date is a count, a page or a street number, not a time
    if m.group("h2") and not keyword and m.group("mi2") is None:
        return
    atom.time = (int(m.group("h")), int(m.group("mi") or 0), int(m.group("sec") or 0))
    if m.group("h2"):
        atom.time_last = (int(m.group("h2")), int(m.group("mi2") or 0), 0)
    else:
        atom.time_ends = bool(keyword) and keyword.lower().startswith("do")
    atom.e = m.end()


def _build_iso(m: re.Match[str], text: str) -> list[_Atom] | None:
    atom = _Atom(
        m.start(), m.end(), "day", month=int(m.group("iso_m")), day=int(m.group("iso_d")), year=int(m.group("iso_y"))
    )
    if m.group("iso_h"):
        tz: tzinfo | None = None
        raw_tz = m.group("iso_tz")
        if raw_tz:
            tz = UTC if raw_tz.upper() == "Z" else _offset(raw_tz)
        try:
            value = datetime(
                atom.year,
                atom.month,
                atom.day,
                int(m.group("iso_h")),  # type: ignore[arg-type]
                int(m.group("iso_mi")),
                int(m.group("iso_sec") or 0),
                tzinfo=tz,
            )
        except ValueError:
            return None
        atom.gran, atom.fixed = "fixed", (value, None)
        return [atom]
    _attach_time(atom, text)
    return [atom]


def _offset(raw: str) -> tzinfo:
    """'+02:00' / '-0130' → a fixed-offset tzinfo."""
    sign = -1 if raw[0] == "-" else 1
    digits = raw[1:].replace(":", "")
    return dt_timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _build_num(m: re.Match[str], text: str) -> list[_Atom] | None:
    atom = _Atom(
        m.start(), m.end(), "day", month=int(m.group("num_m")), day=int(m.group("num_d")), year=int(m.group("num_y"))
    )
    if m.group("num_d0"):
        if m.group("num_c").strip().lower() == "do" and _frame_before(text, m.start())[0] != "from":
            return None  # "dla 20 do 25.05.2024": only "od 1 do 15.05.2024" opens a range with "do"
        atom.day, atom.day_last = int(m.group("num_d0")), atom.day
    _attach_time(atom, text)
    return [atom]


def _build_rom(m: re.Match[str], text: str) -> list[_Atom] | None:
    atom = _Atom(
        m.start(), m.end(), "day", month=_ROMAN[m.group("rom_m")], day=int(m.group("rom_d")), year=int(m.group("rom_y"))
    )
    _attach_time(atom, text)
    return [atom]


def _build_txt(m: re.Match[str], text: str) -> list[_Atom] | None:
    word = m.group("txt_m")
    month = _DAY_FORMS[word.lower()]
    if word.lower() in _ABBR and word.lower() not in _NOM and not (m.group("txt_dot") or m.group("txt_y")):
        return None  # "15 lut" alone is too weak; "15 lut." or "15 lut 2023" is a date
    atom = _Atom(m.start(), m.end(), "day", month=month, day=int(m.group("txt_d")))
    _set_year(atom, m, "txt")
    if m.group("txt_wd"):
        atom.weekday = _WEEKDAYS[m.group("txt_wd").lower()]
    if m.group("txt_ph"):
        atom.time = (int(m.group("txt_ph")), int(m.group("txt_pm")), 0)
    else:
        _attach_time(atom, text)
    if not atom.has_year and _yearless_text_is_not_a_date(m, atom, text, word):
        return None
    second = m.group("txt_d2")
    if not second:
        return [atom]
    d1, d2 = atom.day, int(second)
    if m.group("txt_c").lower() in ("i", "oraz") and d2 != d1 + 1:  # type: ignore[operator]
        # "5 i 19 maja": two separate days sharing the month, not a range
        first = _Atom(
            m.start("txt_d"), m.end("txt_d"), "day", month=month, day=d1, year=atom.year, year_rel=atom.year_rel
        )
        atom.s, atom.day, atom.weekday = m.start("txt_d2"), d2, None
        return [first, atom]
    if d2 <= d1:  # type: ignore[operator]
        return None
    atom.day_last = d2
    return [atom]


def _yearless_text_is_not_a_date(m: re.Match[str], atom: _Atom, text: str, word: str) -> bool:
    """Guards for '3 Maja' the street, the holiday and the name, and '23 listopada 20212'."""
    if _STREET_BEFORE.search(text, max(0, atom.s - _WINDOW), atom.s):
        return True
    if _DIGIT_AFTER.match(text, atom.e):
        return True
    title_case = word[:1].isupper() and not word.isupper()
    return title_case and atom.weekday is None


def _period_number(raw: str) -> int:
    """'IV' / '4' / 'czwartym' → 4."""
    if raw.isdigit():
        return int(raw)
    if raw in _ROMAN:
        return _ROMAN[raw]
    low = raw.lower()
    return next(n for stem, n in _ORDINALS if low.startswith(stem))


def _build_qtr(m: re.Match[str], text: str) -> list[_Atom] | None:
    n = _period_number(m.group("qtr_n"))
    if n > 4:
        return None
    if (m.group("qtr_n").isdigit() or m.group("qtr_w").lower() == "kw.") and not m.group("qtr_y"):
        return None  # "2 kw." is more often square metres than a quarter
    atom = _Atom(m.start(), m.end(), "quarter", month=3 * n - 2, month_last=3 * n)
    _set_year(atom, m, "qtr")
    return [atom]


def _build_half(m: re.Match[str], text: str) -> list[_Atom] | None:
    n = _period_number(m.group("half_n"))
    if n > 2:
        return None
    if m.group("half_w").lower().startswith("połow") and not (m.group("half_y") or m.group("half_rel")):
        return None  # "w pierwszej połowie spotkania" is not a half-year
    atom = _Atom(m.start(), m.end(), "half-year", month=6 * n - 5, month_last=6 * n)
    _set_year(atom, m, "half")
    return [atom]


def _build_loc(m: re.Match[str], text: str) -> list[_Atom] | None:
    month = _LOC[m.group("loc_m").lower()]
    atom = _Atom(m.start(), m.end(), "month", month=month, month_last=month)
    _set_year(atom, m, "loc")
    return [atom]


def _build_gen(m: re.Match[str], text: str) -> list[_Atom] | None:
    month = _GEN[m.group("gen_m").lower()]
    frame = " ".join(m.group("gen_p").lower().split())
    atom = _Atom(m.start(), m.end(), "month", month=month, month_last=month)
    _set_year(atom, m, "gen")
    if frame.startswith("do"):
        atom.kind = "until"
    elif frame.startswith("od"):
        atom.kind = "from"
    if not atom.has_year and frame in ("od", "do", "z"):
        atom.partial = True  # "od stycznia" needs "do marca 2024" after it
    return [atom]


def _build_nom(m: re.Match[str], text: str) -> list[_Atom] | None:
    month = _NOM[m.group("nom_m").lower()]
    atom = _Atom(m.start(), m.end(), "month", month=month, month_last=month)
    _set_year(atom, m, "nom")
    atom.partial = not atom.has_year  # a bare month name is only a date as a range end
    return [atom]


def _build_my(m: re.Match[str], text: str) -> list[_Atom] | None:
    if _NUMBER_BEFORE.search(text, max(0, m.start() - _WINDOW), m.start()):
        return None  # "Nr 10/2020" is a document number
    month = int(m.group("my_m")) if m.group("my_m") else _ROMAN[m.group("my_r")]
    return [_Atom(m.start(), m.end(), "month", month=month, month_last=month, year=int(m.group("my_y")))]


def _build_ym(m: re.Match[str], text: str) -> list[_Atom] | None:
    month = int(m.group("ym_m"))
    return [_Atom(m.start(), m.end(), "month", month=month, month_last=month, year=int(m.group("ym_y")))]


def _cited_before(text: str, start: int) -> bool:
    """`_CITATION_BEFORE` in the `_WINDOW` characters before ``start``, tried only when the window,
    case-folded, holds what each of its matches holds (`_CITATION_WORDS`): most hold none."""
    lo = max(0, start - _WINDOW)
    window = text[lo:start].casefold()
    if not any(word in window for word in _CITATION_WORDS):
        return False
    return _CITATION_BEFORE.search(text, lo, start) is not None


def _build_yr(m: re.Match[str], text: str) -> list[_Atom] | None:
    prefix = (m.group("yr_p") or "").lower()
    if not (m.group("yr_s") or m.group("yr_in") or prefix in ("lata", "latach", "perspektywie")):
        return None  # a bare number such as "RPO 2021-2027" or "2021/BZP" is a name, not a date
    year_start = m.start("yr_in") if m.group("yr_in") else m.start("yr_1")
    if _cited_before(text, year_start):
        return None  # "Dz. U. z 2020 r. poz. 374"
    if _CITATION_AFTER.match(text, m.end()):
        return None
    first = int(m.group("yr_1"))
    last = int(m.group("yr_2")) if m.group("yr_2") else first
    if last < first:
        return None
    atom = _Atom(m.start(), m.end(), "year", month=1, month_last=12, year=first, year_last=last)
    if prefix == "do":
        atom.kind = "until"
    elif prefix == "od":
        atom.kind = "from"
    return [atom]


def _build_dm(m: re.Match[str], text: str) -> list[_Atom] | None:
    atom = _Atom(m.start(), m.end(), "day", month=int(m.group("dm_m")), day=int(m.group("dm_d")))
    if m.group("dm_rel"):
        atom.year_rel = _rel_year_offset(m.group("dm_rel"))
        return [atom]
    padded = len(m.group("dm_d")) == 2 and len(m.group("dm_m")) == 2 and m.group("dm_dot")
    triggered = _DAY_TRIGGER_BEFORE.search(text, max(0, m.start() - _WINDOW), m.start())
    atom.partial = not (padded or triggered)  # "7.3" is a section number unless a range needs it
    return [atom]


def _build_rel(m: re.Match[str], text: str) -> list[_Atom] | None:
    return [_Atom(m.start(), m.end(), "fixed", phrase=m.group("rel"))]


_BUILDERS: dict[str, Callable[[re.Match[str], str], list[_Atom] | None]] = {
    "iso": _build_iso,
    "num": _build_num,
    "rom": _build_rom,
    "txt": _build_txt,
    "qtr": _build_qtr,
    "half": _build_half,
    "loc": _build_loc,
    "gen": _build_gen,
    "nom": _build_nom,
    "my": _build_my,
    "ym": _build_ym,
    "yr": _build_yr,
    "dm": _build_dm,
    "rel": _build_rel,
}


# Anchors: every expression holds a digit run or one of these words.  Looking for them with
# str.find is far cheaper than running the full pattern at every position of the text.
_KEYWORDS = (
    "stycz",
    "lut",
    "mar",
    "kwie",
    "maj",
    "czerw",
    "lip",
    "sierp",
    "wrze",
    "paźdz",
    "pazdz",
    "listop",
    "grud",
    "kwarta",
    "kw.",
    "półrocz",
    "polrocz",
    "połow",
    "wczoraj",
    "dziś",
    "dzisi",
    "jutr",
    "temu",
    "zeszł",
    "ubiegł",
    "przyszł",
    "następn",
)
_DIGITS_RE = re.compile(r"\d+")
_WORD_START_RE = re.compile(r"\b(?=\w)")
_LOOKBACK = 40  # longer than any prefix in front of an anchor ("poniedziałek, ", "przed początkiem ")
_WORDS_BACK = 2  # "do końca marca", "w roku 2020", "dwa dni temu": never more than two


def _anchors(text: str) -> list[int]:
    """Sorted start positions of digit runs and keywords (`_anchors_and_runs`)."""
    return _anchors_and_runs(text)[0]


def _anchors_and_runs(text: str) -> tuple[list[int], frozenset[str]]:
    """Sorted start positions of digit runs and keywords, and the text's runs of exactly four digits.

    The runs of four digits (each maximal: no digit before or after it) are what the story features
    take years from (`four_digit_runs`); a chunk holding one holds an anchor, so they are found in
    the few chunks looked at here (each chunk's memoised), where a search of the text would visit
    every character again.

    Neither a digit run nor a keyword holds whitespace, so they are found chunk by chunk (the text
    cut at whitespace by `str.split`, in C), each chunk's anchors memoised (`_CHUNK_ANCHORS`): the
    same chunks come back on every page, and searching the whole text for every keyword and digit
    run was most of the scanner's time. Only the few chunks with an anchor are looked for in the
    text, each from the end of the previous one: the chunks in between have no anchor, so none
    holds this chunk (it would hold its digits or keyword too), and the first occurrence is the
    chunk itself."""
    if len(_CHUNK_ANCHORS) >= _CHUNK_CACHE:
        _CHUNK_ANCHORS.clear()
        _CHUNK_RUNS.clear()
    chunks = text.split()
    anchors_of = list(map(_CHUNK_ANCHORS.__getitem__, chunks))
    if None in anchors_of:  # lower() changes the length of this text (see _anchors_in)
        return _anchors_in(text), frozenset(run for run in _DIGITS_RE.findall(text) if len(run) == 4)
    found: list[int] = []
    runs: set[str] = set()
    find = text.find
    end = 0
    for chunk, anchors in compress(zip(chunks, anchors_of, strict=True), anchors_of):
        start = find(chunk, end)
        end = start + len(chunk)
        if len(anchors) == 1:  # type: ignore[arg-type]
            found.append(start + anchors[0])  # type: ignore[index]
        else:
            found += [start + anchor for anchor in anchors]  # type: ignore[union-attr]
        chunk_runs = _CHUNK_RUNS[chunk]
        if chunk_runs:
            runs.update(chunk_runs)
    return found, frozenset(runs)


def _anchors_in(text: str) -> list[int]:
    """`_anchors` of one piece of text, searched as a whole."""
    found = [m.start() for m in _DIGITS_RE.finditer(text)]
    low = text.lower()
    if len(low) != len(text):  # lower() changed offsets (e.g. 'İ'): fall back to every word start
        return sorted(set(found) | {m.start() for m in _WORD_START_RE.finditer(text)})
    for word in _KEYWORDS:
        i = low.find(word)
        while i != -1:
            found.append(i)
            i = low.find(word, i + 1)
    return sorted(set(found))


class _ChunkAnchors(dict[str, tuple[int, ...] | None]):
    """chunk → its anchors (offsets in the chunk); None when lowering changes its length, as the
    whole text's then changes too and `_anchors_in` takes every word start instead."""

    def __missing__(self, chunk: str) -> tuple[int, ...] | None:
        anchors = self[chunk] = None if len(chunk.lower()) != len(chunk) else tuple(_anchors_in(chunk))
        return anchors


class _ChunkRuns(dict[str, tuple[str, ...]]):
    """chunk → its runs of exactly four digits."""

    def __missing__(self, chunk: str) -> tuple[str, ...]:
        runs = self[chunk] = tuple(run for run in _DIGITS_RE.findall(chunk) if len(run) == 4)
        return runs


_CHUNK_ANCHORS = _ChunkAnchors()
_CHUNK_RUNS = _ChunkRuns()
_CHUNK_CACHE = 100_000


def _candidates(text: str, anchor: int, floor: int) -> list[int]:
    """The anchor and the starts of the few words before it: where an expression can begin.

    The words are those between the spaces, newlines and tabs of the ``_LOOKBACK`` characters
    before the anchor (not before ``floor``), from the anchor's own word back; each starts at its
    first letter or digit, and an empty one (two separators in a row) counts as a word too."""
    lo = max(floor, anchor - _LOOKBACK)
    # one rsplit in C instead of three rfind calls per word
    pieces = text[lo:anchor].replace("\n", " ").replace("\t", " ").rsplit(" ", _WORDS_BACK + 1)
    starts = [anchor]
    end = anchor
    for piece in pieces[: -_WORDS_BACK - 2 : -1]:  # the anchor's own word, then the words before it
        start = end - len(piece)
        end = start - 1  # before the separator
        if not piece:
            continue
        if piece[0].isalnum():  # most words start with their first letter or digit
            starts.append(start)
            continue
        for skip, char in enumerate(piece):
            if char.isalnum():
                starts.append(start + skip)
                break
    starts.reverse()
    return starts


def _scan(text: str) -> list[_Atom]:
    """Left-to-right scan over the positions next to anchors; non-overlapping atoms in order."""
    return _scan_with_runs(text)[0]


def _scan_with_runs(text: str) -> tuple[list[_Atom], frozenset[str]]:
    """`_scan`, and the runs of four digits of the text (`_anchors_and_runs`).

    Neighbouring anchors share candidates ("14 101 587,54 zł", "nr 685/242/17": the words before
    one anchor are before the next too). What is found at a position depends on the text alone,
    so a position where nothing was found is not tried again."""
    atoms: list[_Atom] = []
    pos = 0
    failed: set[int] = set()
    anchors, runs = _anchors_and_runs(text)
    for anchor in anchors:
        if anchor < pos:
            continue
        for start in _candidates(text, anchor, pos):
            if start < pos or start in failed:
                continue
            pattern = _pattern_at(text, start)
            m = pattern.match(text, start) if pattern is not None else None
            built = _BUILDERS[m.lastgroup](m, text) if m is not None else None  # type: ignore[index]
            if built:
                atoms.extend(built)
                pos = max(m.end(), built[-1].e)  # type: ignore[union-attr]
                break
            failed.add(start)
    return atoms, runs


# --------------------------------------------------------------------------------------------
# Joining ranges, filling years, resolving
# --------------------------------------------------------------------------------------------


def _opens_range(text: str, a: _Atom) -> bool:
    """Whether ``a`` opens a range ('od …', 'w dniach …'): asked by `_link` only for the gaps that
    need it, as it searches the window before ``a``."""
    return a.kind == "from" or _RANGE_OPENER_BEFORE.search(text[max(0, a.s - _WINDOW) : a.s]) is not None


def _link(text: str, a: _Atom, b: _Atom) -> str | None:
    """How two neighbouring atoms relate: 'range', 'list' (shared month/year) or None."""
    gap = text[a.e : b.s]
    if len(gap) > 20:
        return None
    if _DASH_GAP.fullmatch(gap):
        return "range"
    do_gap = _DO_GAP.fullmatch(gap) is not None
    # "od stycznia do marca 2024": the 'do' belongs to the second atom
    until_after_blank = gap.strip() == "" and b.kind == "until" and b.gran != "year"
    if (do_gap or until_after_blank) and _opens_range(text, a):
        return "range"
    if _A_GAP.fullmatch(gap) and _frame_before(text, a.s)[0] == "between":
        return "range"
    if _LIST_GAP.fullmatch(gap):
        return "list"
    return None


def _carry(a: _Atom, b: _Atom) -> None:
    """The left end of 'od 19 października do 10 listopada 2020' takes its year from the right."""
    if not a.has_year and b.has_year:
        a.year, a.year_rel = b.year, b.year_rel
    elif a.has_year and not b.has_year:
        b.year, b.year_rel = a.year, a.year_rel


def _resolve_year(a: _Atom, ref: date) -> int:
    if a.year is not None:
        return a.year
    if a.year_rel is not None:
        return ref.year + a.year_rel
    if a.day is not None and a.weekday is not None:
        for year in (ref.year, ref.year - 1, ref.year + 1):
            try:
                if date(year, a.month, a.day).weekday() == a.weekday:
                    return year
            except ValueError:
                continue
    return ref.year


def _with_time(day: date, clock: tuple[int, int, int] | None) -> date | datetime:
    return datetime.combine(day, time(*clock)) if clock else day


def _bounds(a: _Atom, ref: date) -> tuple[date | datetime, date | datetime | None, str] | None:
    """Concrete (start, end, granularity) of one atom, or None when the date does not exist."""
    if a.gran == "fixed":
        if a.fixed is None:
            a.fixed = _relative(a.phrase, ref)
            if a.fixed is None:
                return None
        start = a.fixed[0]
        return start, a.fixed[1], "minute" if isinstance(start, datetime) else "day"
    year = _resolve_year(a, ref)
    try:
        if a.gran == "day":
            first = date(year, a.month, a.day)  # type: ignore[arg-type]
            last = date(year, a.month, a.day_last) if a.day_last else None
            if last is not None and a.time_ends:
                # "od 1 do 15 maja 2024 do godz. 15:00": the hour is the last day's, as in "od 1 maja
                # do 15 maja 2024 do godz. 15:00" (two atoms, `_joined`): the first day stays a day
                return first, _with_time(last, a.time), "day"
            gran = "minute" if a.time else "day"
            if a.time_last and last is None:
                last = first
            return _with_time(first, a.time), (_with_time(last, a.time_last or a.time) if last else None), gran
        end_year = a.year_last or year
        first = date(year, a.month, 1)
        last = date(end_year, a.month_last, calendar.monthrange(end_year, a.month_last)[1])
    except ValueError:
        return None
    return first, last, a.gran


def _frame_before(text: str, start: int) -> tuple[str | None, int]:
    """'od (dnia)', 'do (dnia)' or 'pomiędzy' right before ``start``, and where it begins.

    The pattern is tried (at each of the 24 characters before ``start``) only when the text before
    ends as it must (`_FRAME_END`, on its last characters): before most dates it does not."""
    lo = max(0, start - 24)
    before = text[lo:start].rstrip()
    if _FRAME_END.search(before, max(0, len(before) - 4)) is None:
        return None, start
    m = _FRAME_BEFORE.search(text, lo, start)
    if m is None:
        return None, start
    return m.lastgroup, m.start()


def _kind_of(text: str, a: _Atom) -> tuple[str | None, int]:
    """Kind of a lone atom and the start of its match, widened over an 'od'/'do' in front of it."""
    if a.kind:
        return a.kind, a.s
    frame, frame_start = _frame_before(text, a.s)
    if frame == "from":
        return "from", frame_start
    if frame == "until":
        return "until", frame_start
    return None, a.s


def _single(text: str, a: _Atom, ref: date) -> DateSpan | None:
    bounds = _bounds(a, ref)
    if bounds is None:
        return None
    start, end, gran = bounds
    kind, s = _kind_of(text, a)
    if kind == "until":
        start, end = (end if end is not None else start), None
    elif kind == "from" and a.day_last is not None:
        kind = "range"  # "od 3 do 7 czerwca 2024": the atom holds both ends; "od" opens it, no more
    elif kind == "from":
        end = None
    else:
        kind = "range" if end is not None else "point"
    return DateSpan(text[s : a.e], s, a.e, start, end, gran, kind)


def _joined(text: str, a: _Atom, b: _Atom, ref: date, year_from_right: bool = False) -> DateSpan | None:
    ba, bb = _bounds(a, ref), _bounds(b, ref)
    if ba is None or bb is None:
        return None
    start, end = ba[0], bb[1] if bb[1] is not None else bb[0]
    if _as_datetime(end) < _as_datetime(start):
        if year_from_right:  # "od 28 grudnia do 3 stycznia 2024": the left end is in the year before
            a.year, a.year_rel = _resolve_year(b, ref) - 1, None
            return _joined(text, a, b, ref)
        return None
    frame, frame_start = _frame_before(text, a.s)
    s = frame_start if frame in ("from", "between") else a.s  # keep 'od'/'pomiędzy': the match re-parses alone
    return DateSpan(text[s : b.e], s, b.e, start, end, ba[2], "range")


def _as_datetime(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return datetime.combine(value, time())


def _drop_bridged_relatives(text: str, atoms: list[_Atom]) -> list[_Atom]:
    """'Dzisiaj jest: Wtorek 29 Sierpnia 2017' – the explicit date says it, not 'dzisiaj'."""
    kept: list[_Atom] = []
    for i, a in enumerate(atoms):
        nxt = atoms[i + 1] if i + 1 < len(atoms) else None
        if (
            a.gran == "fixed"
            and a.phrase
            and nxt is not None
            and nxt.gran != "fixed"
            and nxt.s - a.e <= 15
            and _REL_BRIDGE.fullmatch(text, a.e, nxt.s)
        ):
            continue
        kept.append(a)
    return kept


def _combine(text: str, atoms: list[_Atom], ref: date) -> list[DateSpan]:
    spans: list[DateSpan] = []
    i = 0
    while i < len(atoms):
        a = atoms[i]
        b = atoms[i + 1] if i + 1 < len(atoms) else None
        link = _link(text, a, b) if b is not None else None
        if b is not None and link == "range" and a.gran != "fixed" and b.gran != "fixed":
            year_from_right = not a.has_year
            _carry(a, b)
            span = _joined(text, a, b, ref, year_from_right)
            if span is not None:
                spans.append(span)
                i += 2
                continue
        if b is not None and link == "list" and a.gran == b.gran == "day" and not a.has_year:
            a.year, a.year_rel = b.year, b.year_rel  # "1 czerwca i 2 lipca 2024": the year is written once
        if not a.partial:
            span = _single(text, a, ref)
            if span is not None:
                spans.append(span)
        i += 1
    return spans


# --------------------------------------------------------------------------------------------
# Relative words through one cached dateparser instance
# --------------------------------------------------------------------------------------------

_REL_BASE = datetime(2000, 6, 15)
_NUMBER_WORDS = {
    "jeden": "1",
    "jedną": "1",
    "dwa": "2",
    "dwie": "2",
    "trzy": "3",
    "cztery": "4",
    "pięć": "5",
    "sześć": "6",
    "siedem": "7",
    "osiem": "8",
    "dziewięć": "9",
    "dziesięć": "10",
}


@functools.lru_cache(maxsize=1)
def _relative_parser() -> Any:
    """The only dateparser object we keep: built once, relative to a fixed base date."""
    from dateparser.date import DateDataParser

    return DateDataParser(languages=["pl"], settings={"RELATIVE_BASE": _REL_BASE})


def _normalise_relative(phrase: str) -> str:
    """Rewrite the forms dateparser 1.x misses ('tydzień temu', 'dwa dni temu', 'ubiegłym')."""
    words = phrase.lower().split()
    if words[:3] == ["w", "dniu", "dzisiejszym"]:
        return "dzisiaj"
    words = [_NUMBER_WORDS.get(w, w) for w in words]
    if len(words) == 2 and words[1] == "temu":
        words.insert(0, "1")
    return " ".join(words).replace("ubiegłym", "zeszłym").replace("następnym", "przyszłym")


@functools.lru_cache(maxsize=256)
def _relative_offset(phrase: str) -> tuple[timedelta, int] | None:
    """Offset of a relative phrase as (time delta, calendar months), measured from a fixed base.

    Whole months are kept as months so that "miesiąc temu" from 31 March lands on 29 February
    rather than on a fixed number of days back.
    """
    data = _relative_parser().get_date_data(_normalise_relative(phrase))
    value: datetime | None = data.date_obj
    if value is None:
        return None
    months = (value.year - _REL_BASE.year) * 12 + value.month - _REL_BASE.month
    if months and value.day == _REL_BASE.day:
        clock = datetime.combine(_REL_BASE.date(), value.time())
        return clock - _REL_BASE, months
    return value - _REL_BASE, 0


def _relative(phrase: str, ref: date) -> tuple[date | datetime, None] | None:
    offset = _relative_offset(" ".join(phrase.lower().split()))
    if offset is None:
        return None
    delta, months = offset
    base = datetime.combine(ref, time())
    if months:
        year, month0 = divmod(base.year * 12 + base.month - 1 + months, 12)
        day = min(base.day, calendar.monthrange(year, month0 + 1)[1])
        base = base.replace(year=year, month=month0 + 1, day=day)
    value = base + delta
    if value.time() == time():
        return value.date(), None
    return value, None


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def _reference(reference: date | None) -> date:
    if reference is None:
        return date.today()
    if isinstance(reference, datetime):
        return reference.date()
    return reference


def find_dates(text: str, reference: date | None = None) -> list[DateSpan]:
    """Every date expression in ``text``, in order of appearance.

    ``reference`` is the publication date of the page: ``br.``, ``bieżącego roku``, year-less
    dates and relative words resolve against it (today when it is not known).
    """
    if not text:
        return []
    return list(_found(text, _reference(reference)))


@functools.lru_cache(maxsize=8)
def _found(text: str, ref: date) -> tuple[DateSpan, ...]:
    """`find_dates` of a text against a day, for the few texts just read: annotate and the story
    step's date features read an announcement's title and body with the same day when the page
    gives its date (the spans are frozen, so both may have them)."""
    # copies of the atoms without a year: _combine fills in the years an atom left open (and
    # `_bounds` the day of relative words, which have no year), and the scan is shared
    atoms = _drop_bridged_relatives(text, [atom if atom.has_year else copy(atom) for atom in _scanned(text)[0]])
    return tuple(_combine(text, atoms, ref))


@functools.lru_cache(maxsize=8)
def _scanned(text: str) -> tuple[tuple[_Atom, ...], frozenset[str]]:
    """`_scan` of a text (with its runs of four digits), for the few texts just scanned: an
    announcement's title and body are read for its dates twice, against two references (annotate,
    and the story step's date features), and the scan is nearly all of the cost while it does not
    depend on the reference. (Kept small: it serves one announcement's calls, not a repeat of the
    same text later.)"""
    atoms, runs = _scan_with_runs(text)
    return tuple(atoms), runs


def four_digit_runs(text: str) -> frozenset[str]:
    """The runs of exactly four decimal digits in ``text`` (none next to another digit), which its
    scan for dates finds along the way: the story features' years (`aggregator.dedup.features`)
    are among them, and they read the texts whose dates they just read."""
    return _scanned(text)[1] if text else frozenset()


def parse_date(text: str, reference: date | None = None) -> DateSpan | None:
    """The date of a short field ('Data dodania: 2024-05-14 13:36', a ``<time datetime>`` value).

    The first expression wins: labels put the publication date first and a modification date
    ("Zmodyfikowana: …") after it.
    """
    spans = find_dates(text, reference)
    return spans[0] if spans else None


def to_utc(value: date | datetime, tz: str = WARSAW) -> datetime:
    """Local wall time (Europe/Warsaw by default) → aware UTC; a bare date means local midnight."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time())
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(tz))
    return value.astimezone(UTC)


def _format(value: date | datetime) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(ZoneInfo(WARSAW))
        return value.strftime("%Y-%m-%dT%H:%M")
    return value.isoformat()


def span_to_json(span: DateSpan) -> dict[str, Any]:
    """The CLI/feed contract shape; aware datetimes are shown as Warsaw wall time like the rest."""
    return {
        "match": span.match,
        "start": _format(span.start),
        "end": _format(span.end) if span.end is not None else None,
        "granularity": span.granularity,
        "kind": span.kind,
    }
