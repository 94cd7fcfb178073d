"""Full-text search that works for Polish, the same on SQLite (FTS5) and PostgreSQL (tsvector).

Why we tokenise and lemmatise ourselves instead of leaving it to the engines:
- neither engine folds "ł" (SQLite's unicode61 `remove_diacritics` leaves it, PostgreSQL ≤ 18
  has no `polish` configuration), and "nabor" must find "Nabór";
- Polish inflects: "spółdzielnia" must find "spółdzielni" and "spółdzielniach". morfeusz2 (already
  used for institution names) gives every word's lemmas, so the index holds the folded words *and*
  their folded lemmas, and a query word matches a prefix of an indexed word or one of its lemmas;
  a query word typed without its diacritics, which morfeusz2 does not know ("spoleczna"), takes the
  lemmas of the Polish words it can be the spelling of (społeczna → społeczny: "ekonomia spoleczna"
  finds "ekonomii społecznej"), see `_restored_lemmas`;
- the two engines split text differently (PostgreSQL's parser keeps "mcps.com.pl" or "2024-05-14"
  whole, FTS5 does not), so both are fed one string of plain folded words separated by spaces,
  `announcements.search_terms`, and split it the same way: the same query finds the same rows.

SQLite: an external-content FTS5 table `announcements_fts` over that column, kept in sync by
triggers (migration 0006). PostgreSQL: a GIN index on `to_tsvector('simple', search_terms)`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, product
from math import prod

from sqlalchemy import ColumnElement, func, literal, literal_column, select, text
from sqlalchemy.orm import InstrumentedAttribute

from aggregator.diacritics import strip_diacritics

#: The FTS5 table on SQLite and the text-search configuration on PostgreSQL (both in migration 0006).
FTS_TABLE = "announcements_fts"
TS_CONFIG = "'simple'::regconfig"
_WORD = re.compile(r"[^\W_]+")


# The letters that may stand for a letter with a diacritic, when a word is typed without them.
_DIACRITICS = {"a": "aą", "c": "cć", "e": "eę", "l": "lł", "n": "nń", "o": "oó", "s": "sś", "z": "zźż"}
_DIACRITICS |= {k.upper(): v.upper() for k, v in _DIACRITICS.items()}
_VOWELS = frozenset("aąeęioóuyAĄEĘIOÓUY")
# Spellings tried for a word, at most: 2,048 dictionary look-ups take about 20 ms, once per word
# (memoised); beyond it (12 letters that may all take a diacritic) the word is left as typed. And
# the words of one query restored, at most: a query made of made-up words costs at most ~80 ms.
_MAX_SPELLINGS = 2048
_MAX_RESTORED = 4


def fold(text: str) -> str:
    """Lower case without diacritics, ł included ("Łódź" → "lodz")."""
    return strip_diacritics(text).lower()


def search_fields(title: str, lead: str | None, body_text: str) -> tuple[str, str]:
    """`announcements.search_text` (folded words) and `search_terms` (words and lemmas, see
    index_terms) of an announcement. Pure and picklable, so the annotation worker computes them
    while the crawler goes on: the lemmas are the costly part of storing a page."""
    chunks = _chunks(" ".join((title, lead or "", body_text)))
    return " ".join(filter(None, map(_CHUNK_FOLDS.__getitem__, chunks))), _terms(chunks)


@lru_cache(maxsize=200_000)
def _word_terms(word: str) -> tuple[str, ...]:
    """The folded word and its folded lemmas (one word can fold into several tokens: "x²")."""
    from aggregator.entities.morphology import analyse

    if word.isdigit() and word.isascii():
        # morfeusz2 reads a number as one segment, itself its lemma ("dig"): the folded word is
        # all there is. Numbers are most of the words a page brings that no earlier page had
        # (dates, amounts, case numbers), and a dictionary look-up costs tens of microseconds.
        return (word,)
    terms = dict.fromkeys(_WORD.findall(fold(word)))
    # a word's readings mostly share their lemma ("społecznej": five readings of "społeczny"):
    # each lemma is folded once
    for lemma in dict.fromkeys(reading.base_lemma for reading in analyse(word)):
        for lemma_word in _WORD.findall(fold(lemma)):
            terms.setdefault(lemma_word)
    return tuple(terms)


@lru_cache(maxsize=4096)
def _restored_lemmas(word: str) -> tuple[str, ...]:
    """The folded lemmas of the Polish words that `word`, a word without diacritics morfeusz2 does
    not know, may be typed for: "spoleczne" → społeczne → "spoleczny", "Lodzkie" → Łódzkie →
    "lodzki". The index holds every word's folded lemmas, so these find every form of them. Every
    spelling with diacritics is looked up, except those Polish never writes (ń before a vowel)."""
    from aggregator.entities.morphology import morfeusz

    pools = []
    for index, letter in enumerate(word):
        choices = _DIACRITICS.get(letter, letter)
        if letter in "nN" and index + 1 < len(word) and word[index + 1] in _VOWELS:
            choices = letter
        pools.append(choices)
    if prod(map(len, pools)) > _MAX_SPELLINGS:
        return ()
    analyser = morfeusz()  # not morphology.analyse: its cache would fill with spellings of no word
    lemmas: dict[str, None] = {}
    for spelling in product(*pools):
        for _, _, (_, lemma, tag, *_) in analyser.analyse("".join(spelling)):
            if tag != "ign":
                lemmas.update(dict.fromkeys(_WORD.findall(fold(lemma.split(":", 1)[0]))))
    return tuple(lemmas)


def index_terms(*parts: str | None) -> str:
    """What `announcements.search_terms` holds: each distinct folded word and lemma once, in order
    of first appearance, separated by single spaces (order and repeats do not matter to a search)."""
    # Joining the parts with a space finds the same words, since words never contain one.
    return _terms(_chunks(" ".join(part or "" for part in parts)))


# Both columns are computed chunk by chunk (the text cut at whitespace by `str.split`, in C), each
# chunk's part memoised: a page's chunks ("Ośrodka", "w", "2024", "r.") come back on the next page,
# and a regular expression or a normalisation over the whole text visits every character again.
# The results are those of the whole text: a word (`_WORD`) never contains whitespace, and folding
# works character by character and keeps whitespace whitespace (a few characters fold into a space,
# as "¨" does, or into nothing, as a lone combining mark does: hence each chunk's folded words are
# split and joined again, and empty ones dropped).
class _ChunkTerms(dict[str, tuple[str, ...]]):
    """chunk → the terms of its words (the `_WORD` matches) in order: `_word_terms` of each,
    repeats kept."""

    def __missing__(self, chunk: str) -> tuple[str, ...]:
        terms = self[chunk] = tuple(chain.from_iterable(map(_word_terms, _WORD.findall(chunk))))
        return terms


class _ChunkFolds(dict[str, str]):
    """chunk → its folded words separated by single spaces (usually one word; "" for none)."""

    def __missing__(self, chunk: str) -> str:
        folded = self[chunk] = " ".join(fold(chunk).split())
        return folded


_CHUNK_TERMS = _ChunkTerms()
_CHUNK_FOLDS = _ChunkFolds()
_CHUNK_CACHE = 100_000


def _chunks(text: str) -> list[str]:
    """``text`` cut at whitespace; bounds the chunk memos first."""
    for cache in (_CHUNK_TERMS, _CHUNK_FOLDS):
        if len(cache) >= _CHUNK_CACHE:
            cache.clear()
    return text.split()


def _terms(chunks: list[str]) -> str:
    # Each term once, in order of first appearance, and no Python loop per word or term: this runs
    # for every stored page. (The same as the terms of each distinct word in order of first
    # appearance: a repeated word's terms all appeared with its first occurrence.)
    return " ".join(dict.fromkeys(chain.from_iterable(map(_CHUNK_TERMS.__getitem__, chunks))))


class QueryWithoutWords(ValueError):
    """A query of punctuation or spaces only: nothing to search for. Its own class so that the web
    page can say so in Polish instead of showing this module's English message."""


@dataclass(frozen=True)
class QueryWord:
    """One word of a query: matches an indexed term starting with `prefix` or equal to a lemma."""

    prefix: str
    lemmas: tuple[str, ...]


def parse_query(query: str) -> list[QueryWord]:
    """The words of a user's query; every one must match (AND). Raises QueryWithoutWords (a
    ValueError) when none."""
    words = []
    restored = 0
    for word in _WORD.findall(query):
        folded = _WORD.findall(fold(word))
        if not folded:
            continue
        # A word that folds into several tokens ("x²") needs all of them: each becomes a query word.
        for extra in folded[:-1]:
            words.append(QueryWord(extra, ()))
        last = folded[-1]
        lemmas = tuple(t for t in _word_terms(word) if t not in folded)
        if (not lemmas and len(folded) == 1 and word.isascii() and word.isalpha() and restored < _MAX_RESTORED
                and not _known(word)):  # fmt: skip
            lemmas = tuple(t for t in _restored_lemmas(word) if t != last)
            restored += 1
        words.append(QueryWord(last, lemmas if len(folded) == 1 else ()))
    if not words:
        raise QueryWithoutWords(f"the search query {query!r} has no words to search for")
    return words


def _known(word: str) -> bool:
    """Whether morfeusz2 knows `word` as typed (a known word without diacritics is taken as meant)."""
    from aggregator.entities.morphology import analyse

    return any(reading.pos != "ign" for reading in analyse(word))


def fts5_match(words: list[QueryWord]) -> str:
    """An FTS5 MATCH expression: `"nabor"* AND ("spoldzielnia"* OR "spoldzielnia")`."""
    groups = []
    for word in words:
        alternatives = [f'"{word.prefix}"*', *(f'"{lemma}"' for lemma in word.lemmas)]
        groups.append(alternatives[0] if len(alternatives) == 1 else "(" + " OR ".join(alternatives) + ")")
    return " AND ".join(groups)


def tsquery(words: list[QueryWord]) -> str:
    """The same for PostgreSQL's to_tsquery: `nabor:* & (spoldzielnia:* | spoldzielnia)`.

    Terms are plain letters and digits (see _WORD), so nothing needs quoting."""
    groups = []
    for word in words:
        alternatives = [f"{word.prefix}:*", *word.lemmas]
        groups.append(alternatives[0] if len(alternatives) == 1 else "(" + " | ".join(alternatives) + ")")
    return " & ".join(groups)


def search_vector(column: InstrumentedAttribute[str] | ColumnElement[str]) -> ColumnElement[object]:
    """`to_tsvector('simple'::regconfig, search_terms)`: exactly the expression of the GIN index,
    with the configuration as a literal (a bound parameter would keep the planner off the index)."""
    return func.to_tsvector(literal_column(TS_CONFIG), column)


def search_condition(
    dialect: str, id_column: InstrumentedAttribute[int], terms_column: InstrumentedAttribute[str], query: str
) -> ColumnElement[bool]:
    """A condition on announcements: `id_column` is one of the rows whose search terms match `query`."""
    words = parse_query(query)
    if dialect == "sqlite":
        rowids = (
            select(literal_column("rowid"))
            .select_from(text(FTS_TABLE))
            # an anonymous parameter, so several searches (a digest's keywords) fit in one statement
            .where(literal_column(FTS_TABLE).op("MATCH")(literal(fts5_match(words))))
        )
        # `id + 0`: SQLite then reads the story keys of thousands of matches from a covering index
        # scan instead of one lookup per match into the wide announcement rows (5x faster at 100k).
        return (id_column + 0).in_(rowids)
    if dialect == "postgresql":
        return search_vector(terms_column).op("@@")(func.to_tsquery(literal_column(TS_CONFIG), tsquery(words)))
    raise NotImplementedError(f"full-text search is implemented for sqlite and postgresql, not {dialect}")
