"""What the pair decision looks at, computed once per announcement.

* **Shingles**: hashed word 3-grams of the normalised body (title cut off). A 3-gram survives a
  re-post with light edits and is rare enough that unrelated texts share few. Hashes are 32-bit
  CRC-based and *stable across processes* (unlike ``hash()``), so MinHash signatures built from them
  can be stored in the database and compared later.
* **Sketch shingles**, the input of the MinHash signatures: the body's 3-grams over the words only
  (numbers left out), and the **lead**, its first :data:`LEAD_SHINGLES` 3-grams (numbers kept).
  Numbers are left out of the body sketch because dates are what unrelated announcements of one
  busy day share ("W dniu 12 marca 2019 r. …"): with them the LSH candidates of a day would grow
  with the size of the corpus (shared wording such as funding formulas is handled by the index's
  cap on bucket sizes). The lead keeps them because a
  teaser or a truncated re-post is a prefix of the original – whole-text Jaccard is low, the lead
  is the same – and the date in its first sentence is what tells it from other posts that open
  with the same formula. Dates themselves are compared exactly by the judge.
* **Title features**: light stems (first six letters) without stop words, plus the years and the
  Roman edition numbers a title names ("IX posiedzenie", "… 2021”") – a different edition is a
  different story even when the rest of the title is the same.
* **Date features** (computed lazily, ``aggregator.dates.find_dates`` is the expensive part): the
  specific days and the years the text mentions. Year-less dates (``25 marca br.``) of a page with
  no known publication date are kept as *floating* days that match any year, because resolving them
  against "today" would invent a conflict with a dated copy of the same page.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import chain
from zoneinfo import ZoneInfo

import numpy as np

from aggregator.dates import find_dates, four_digit_runs
from aggregator.dedup.model import Doc
from aggregator.dedup.normalise import body_of_lines, content_lines, fingerprint_of_tokens, lines_and_content

__all__ = [
    "LEAD_SHINGLES",
    "SHINGLE",
    "DateFeatures",
    "Features",
    "date_features",
    "date_features_of_content",
    "features",
    "features_and_content",
]

SHINGLE = 3
LEAD_SHINGLES = 12
_WARSAW = ZoneInfo("Europe/Warsaw")  # whose days the publication dates are

_STEM = 6
# Words too common in titles to say anything about the story.
_STOP = frozenset(
    {"oraz", "dla", "przez", "jest", "jako", "ktore", "ktory", "ktora", "sie", "nie", "lub", "tym"}
    | {"tego", "przy", "pod", "nad", "the", "and", "pn", "pt", "ws", "nt", "r"}
)
_ROMAN = re.compile(r"^(?=[ivxlc]{2,6}$)c{0,3}(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})$")
_YEAR = re.compile(r"(?<!\d)(19[5-9]\d|20[0-4]\d)(?!\d)")
# `_YEAR` is a run of four digits (none next to it) that this matches whole
_YEAR_RUN = re.compile(r"19[5-9]\d|20[0-4]\d")
_CITATION = re.compile(r"dz\.\s*u\.[^;)\n]{0,60}", re.IGNORECASE)
_LAW_CONTEXT = re.compile(r"(?:ustaw\w*|rozporz\w*|dz\.\s*u\.?|kodeks\w*)[^.;\n]{0,45}$", re.IGNORECASE)
# What every `_LAW_CONTEXT` match holds, case-folded ("ſ" → "s", "K" → "k": the case-blind match
# takes those for "s" and "k" too)
_LAW_WORDS = ("ustaw", "rozporz", "dz", "kodeks")
# find_dates resolves year-less dates against this reference when the page date is unknown;
# anything it returns near this year is a floating (month, day).
_FLOATING_REFERENCE = date(1900, 7, 1)
_MULT = np.array([0x9E3779B1, 0x85EBCA77, 0xC2B2AE3D], dtype=np.uint64)
_MULT_0, _MULT_1, _MULT_2 = _MULT
_SHIFT_29 = np.uint64(29)


@dataclass(frozen=True)
class DateFeatures:
    """Specific days (``(year or 0, month, day)``; year 0 = floating) and explicit years of a text."""

    days: frozenset[tuple[int, int, int]]
    years: frozenset[int]


@dataclass
class Features:
    """Everything :func:`aggregator.dedup.judge.judge` compares, for one announcement."""

    shingles: np.ndarray  # sorted unique uint32, all words (the judge's containment)
    sketch: np.ndarray  # sorted unique uint32, numbers left out (the body signature)
    lead: np.ndarray  # sorted unique uint32, the first LEAD_SHINGLES shingles (the lead signature)
    title_stems: frozenset[str]
    title_years: frozenset[int]
    title_editions: frozenset[str]
    fingerprint: str
    text: str
    title: str
    published: date | None
    _dates: DateFeatures | None = field(default=None, repr=False)

    @property
    def dates(self) -> DateFeatures:
        """Date features, computed on first use (most pairs are decided without them)."""
        if self._dates is None:
            self._dates = date_features(self.title, self.text, self.published)
        return self._dates


class _TokenHashes(dict[str, int]):
    """word → its CRC-32, plus :data:`_NUMBER` when the word is a number (starts with a digit).

    One look-up per word then serves the shingles (the low 32 bits) and the sketch's "numbers left
    out" (the flag), and a known word costs no Python call (``dict.__getitem__`` only falls back to
    ``__missing__`` for a new one): this runs for every word of every announcement."""

    def __missing__(self, word: str) -> int:
        h = self[word] = zlib.crc32(word.encode("utf-8")) | (_NUMBER if word[0].isdigit() else 0)
        return h


_NUMBER = 1 << 32
_LOW32 = np.uint64(0xFFFFFFFF)
_TOKEN_HASHES = _TokenHashes()
_TOKEN_HASH_CACHE = 500_000


def _tagged_hashes(words: tuple[str, ...]) -> np.ndarray:
    """uint64 per word: its CRC-32, with the :data:`_NUMBER` bit set for numbers (memoised: vocabularies repeat)."""
    if len(_TOKEN_HASHES) >= _TOKEN_HASH_CACHE:
        _TOKEN_HASHES.clear()
    return np.fromiter(map(_TOKEN_HASHES.__getitem__, words), dtype=np.uint64, count=len(words))


def _token_hashes(words: tuple[str, ...]) -> np.ndarray:
    """Stable 32-bit hashes of the words (CRC-32, memoised: vocabularies repeat)."""
    return _tagged_hashes(words) & _LOW32


def shingle_hashes(words: tuple[str, ...]) -> np.ndarray:
    """Hashes of the word ``SHINGLE``-grams of ``words`` in text order (uint32; one per position).

    A text shorter than a shingle yields one hash of all its words, so it is never empty unless
    ``words`` is.
    """
    return _shingles(_token_hashes(words))


def _shingles(h: np.ndarray) -> np.ndarray:
    """:func:`shingle_hashes` from the words' hashes (uint64 holding 32-bit values)."""
    if not len(h):
        return np.zeros(0, dtype=np.uint32)
    if len(h) < SHINGLE:
        h = np.concatenate([h, np.zeros(SHINGLE - len(h), dtype=np.uint64)])
    n = len(h) - SHINGLE + 1
    # in place where a new array is not needed; the cast to uint32 keeps the low 32 bits (the mask)
    mixed = h[0:n] * _MULT_0
    mixed ^= h[1 : n + 1] * _MULT_1
    mixed ^= h[2 : n + 2] * _MULT_2
    mixed ^= mixed >> _SHIFT_29
    return mixed.astype(np.uint32)


def _unique(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` of a 1-D array: sorted, each value once. np.unique's general machinery
    (a hash table, then a sort of what it kept) costs about three times a sort and a mask on the few
    hundred shingles of an announcement, and runs three times per announcement."""
    if values.size <= 1:
        return values.copy()
    ordered = np.sort(values)
    first = np.empty(ordered.size, dtype=bool)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return ordered[first]


def _title_features(words: tuple[str, ...]) -> tuple[frozenset[str], frozenset[int], frozenset[str]]:
    stems = frozenset(w[:_STEM] for w in words if (len(w) >= 3 or w.isdigit()) and w not in _STOP)
    years = frozenset(int(w) for w in words if len(w) == 4 and w.isdigit() and 1950 <= int(w) <= 2049)
    # a Roman number is two to six of these letters: the pattern is tried on the words that may be one
    editions = frozenset(w for w in words if len(w) <= 6 and w[:1] in "ivxlc" and _ROMAN.match(w))
    return stems, years, editions


def _as_date(value: date | datetime | None) -> date | None:
    """The day of a publication time as Polish readers have it (Europe/Warsaw), as annotate resolves
    the text's dates against it: the UTC day made "br." of a page posted just after midnight on New
    Year's Day the year before in the story features, and the other year in its annotations."""
    if isinstance(value, datetime):
        return (value.astimezone(_WARSAW) if value.tzinfo is not None else value).date()
    return value


def features(doc: Doc) -> Features:
    """Compute the comparison features of ``doc`` (everything but the lazy date features)."""
    return features_and_content(doc)[0]


def features_and_content(doc: Doc) -> tuple[Features, str, str]:
    """`features` of ``doc``, and the `content_lines` of its title and text, which the date features
    read (`date_features_of_content`): finding the words of a text finds its boilerplate lines too."""
    title_lines, title_content = lines_and_content(doc.title or "")
    text_lines, text_content = lines_and_content(doc.text or "")
    title_words = tuple(chain.from_iterable(title_lines))
    body_words = tuple(body_of_lines(text_lines, title_words))
    # Only arrays and small sets are kept: the index holds the features of many announcements.
    stems, years, editions = _title_features(title_words)
    tagged = _tagged_hashes(body_words)
    hashes = tagged & _LOW32
    ordered = _shingles(hashes)
    feats = Features(
        shingles=_unique(ordered),
        sketch=_unique(_shingles(hashes[tagged < _NUMBER])),  # the words only, numbers left out
        lead=_unique(ordered[:LEAD_SHINGLES]),
        title_stems=stems,
        title_years=years,
        title_editions=editions,
        fingerprint=fingerprint_of_tokens(title_words, body_words),
        text=doc.text or "",
        title=doc.title or "",
        published=_as_date(doc.published),
    )
    return feats, title_content, text_content


def _is_law_citation(text: str, start: int) -> bool:
    """`_LAW_CONTEXT` in the 60 characters before ``start``. Its match holds one of its words, so
    the pattern is only tried (at each of those characters) when the window, case-folded as the
    pattern's case-blind letters are, holds one: most windows hold none."""
    lo = max(0, start - 60)
    window = text[lo:start].casefold()
    if not any(word in window for word in _LAW_WORDS):
        return False
    return bool(_LAW_CONTEXT.search(text, lo, start))


def _day_key(value: date | datetime, floating: bool) -> tuple[int, int, int]:
    d = _as_date(value)
    assert d is not None
    return (0 if floating else d.year, d.month, d.day)


def date_features(title: str, text: str, published: date | None) -> DateFeatures:
    """The specific days and the explicit years that ``title`` and ``text`` mention.

    Dropped on purpose: boilerplate lines (CMS date lines such as "Dodana: 8 luty 2021 12:31" are
    the page's, not the news's); dates inside law citations ("ustawy z dnia 24 kwietnia 2003 r.", "Dz. U. z
    2020 r.") – every call for NGOs cites the same acts, which would make unrelated news "agree".
    (The publication dates are set aside later, per pair: see ``judge._date_relation``.)
    """
    return date_features_of_content(content_lines(title), content_lines(text), published)


def date_features_of_content(title: str, text: str, published: date | None) -> DateFeatures:
    """`date_features` of the `content_lines` of a title and a text (`features_and_content` gives them)."""
    reference = published or _FLOATING_REFERENCE
    days: set[tuple[int, int, int]] = set()
    # Title and text are read one by one, as annotate reads them (aggregator.dates keeps the scan of
    # the texts it just read, so the crawl's worker scans each once): a date never runs from the title
    # into the text.
    parts = [part for part in (title, text) if part]
    for part in parts:
        for span in find_dates(part, reference):
            if span.granularity not in ("day", "minute") or _is_law_citation(part, span.char_start):
                continue
            start_year = _as_date(span.start).year  # type: ignore[union-attr]
            floating = published is None and abs(start_year - _FLOATING_REFERENCE.year) <= 5
            values = [span.start] if span.end is None else [span.start, span.end]
            days.update(_day_key(v, floating) for v in values)
    if any("z." in part or "Z." in part for part in parts):  # maybe a law citation: see _years
        years = _years("\n".join(parts))
    else:  # the same years, from the runs of four digits the scan of each part just found
        years = {int(run) for part in parts for run in four_digit_runs(part) if _YEAR_RUN.fullmatch(run)}
    return DateFeatures(frozenset(days), frozenset(years))


class _ChunkYears(dict[str, tuple[int, ...]]):
    """chunk → the years (`_YEAR`) in it."""

    def __missing__(self, chunk: str) -> tuple[int, ...]:
        years = self[chunk] = tuple(int(m.group(1)) for m in _YEAR.finditer(chunk))
        return years


_CHUNK_YEARS = _ChunkYears()
_CHUNK_CACHE = 100_000


def _years(text: str) -> set[int]:
    """The years `_YEAR` finds in ``text`` outside law citations.

    Found chunk by chunk (the text cut at whitespace, in C; each chunk's years memoised): a year
    holds no whitespace and its look-arounds only see digits, so a chunk has the same years alone
    as in the text, and the same chunks come back on every page. The citation pattern starts with
    "dz." in any case: most texts have no "z." at all and skip it."""
    if "z." in text or "Z." in text:
        text = _CITATION.sub(" ", text)
    if len(_CHUNK_YEARS) >= _CHUNK_CACHE:
        _CHUNK_YEARS.clear()
    return set(chain.from_iterable(map(_CHUNK_YEARS.__getitem__, text.split())))
