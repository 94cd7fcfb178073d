"""String helpers shared by the entity modules: folding, slugs, tokens, casing.

Linking compares *folded* keys (lower case, no diacritics, no punctuation) so that "Ośrodek",
"OSRODEK" and "Osrodek" meet, while the canonical names keep their exact Polish spelling.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from aggregator.diacritics import strip_diacritics

_NON_ALNUM = re.compile(r"[^0-9a-z]+")

#: Lower-case words that stay lower-case inside an institution name (prepositions, conjunctions,
#: abbreviations). Used when an ALL-CAPS mention is brought back to normal capitalisation.
FUNCTION_WORDS: frozenset[str] = frozenset(
    {
        "w",
        "we",
        "i",
        "oraz",
        "na",
        "do",
        "z",
        "ze",
        "dla",
        "o",
        "od",
        "po",
        "przy",
        "pod",
        "nad",
        "u",
        "a",
        "im.",
        "ds.",
        "im",
        "ds",
        "rzecz",
        "spraw",
    }
)

QUOTE_OPEN = '„“"«”'
QUOTE_CLOSE = {"„": '”“"', "“": '”"', '"': '"”“', "«": "»", "”": '”"'}


def fold(text: str) -> str:
    """Lower-case, strip diacritics and punctuation, collapse spaces: the linking key."""
    return _NON_ALNUM.sub(" ", strip_diacritics(text).lower()).strip()


def slugify(text: str) -> str:
    """A URL- and database-friendly stable key built from a name."""
    return fold(text).replace(" ", "-")


def is_capitalised(word: str) -> bool:
    """True when the word starts with an upper-case letter."""
    return bool(word) and word[0].isupper()


def is_all_caps(word: str) -> bool:
    """True for words written entirely in capitals (at least two letters)."""
    letters = [ch for ch in word if ch.isalpha()]
    return len(letters) >= 2 and all(ch.isupper() for ch in letters)


def restore_case(generated: str, original: str) -> str:
    """Give a generated (lower-case) form the capitalisation of the word it replaces."""
    if is_all_caps(original):
        return generated.upper()
    if is_capitalised(original):
        return generated[:1].upper() + generated[1:]
    return generated


def title_word(word: str) -> str:
    """Normal name capitalisation of one ALL-CAPS word, hyphenated parts included."""
    if word.lower() in FUNCTION_WORDS:
        return word.lower()
    return "-".join(part[:1].upper() + part[1:].lower() for part in word.split("-"))


class Token(NamedTuple):
    """A piece of text with its offsets. ``kind`` is word, quote, number, abbrev or punct.

    A named tuple rather than a frozen dataclass: every announcement is cut into a few hundred
    tokens, and building a frozen dataclass (one `object.__setattr__` per field) cost more than
    the regular expression that finds them."""

    text: str
    start: int
    end: int
    kind: str


_TOKEN_RE = re.compile(
    r"""
    (?P<quote>„[^”“"\n]{1,80}[”“"]|“[^”\n]{1,80}”|"[^"\n]{1,80}"|«[^»\n]{1,80}»|”[^”\n]{1,60}”)
    |(?P<abbrev>S\.A\.|[Ss]p\.\s?z\s?o\.\s?o\.|(?:ds|im|Nr|nr|św|Św)\.)
    |(?P<word>[^\W\d_]+(?:['’][^\W\d_]+)?(?:-[^\W\d_]+)*)
    |(?P<number>\d+(?:[./]\d+)*)
    |(?P<punct>\S)
    """,
    re.VERBOSE,
)


# Tokenising every announcement (a few hundred tokens each) cost more than the rest of the entity
# scanner. Python's regular expressions spend most of that on visiting every character, so
# `tokenize` runs the pattern only where it has to and otherwise cuts the text at whitespace in C
# (`str.split`), reusing the tokens of each whitespace-separated chunk: the same chunks ("Ośrodka",
# "w", "r.", "2024") come back on every page.
#
# Why that gives the pattern's own tokens: the pattern skips only whitespace (`\S` matches
# anything else), and only a quote or "Sp. z o.o." can run over whitespace. A chunk without their
# opening characters (`_OPENERS`) is therefore tokenised on its own exactly as inside the text: the
# scan reaches it fresh after the whitespace before it, and none of its tokens reaches past it (no
# alternative looks further than the text it consumes). The other chunks, and the rest of a chunk
# a quote ended inside of, are scanned in the text itself.

#: `_TOKEN_RE` without its named groups: the same tokens (names do not change what an alternative
#: matches), found faster, as a scan that records no groups does less work per token.
_TOKEN_SPAN_RE = re.compile(re.sub(r"\(\?P<\w+>", "(?:", _TOKEN_RE.pattern), re.VERBOSE)
#: What a quote or "Sp. z o.o." (the tokens that may contain whitespace) starts with.
_OPENERS = ("„", "“", '"', "«", "”", "p.")
_CACHE_SIZE = 100_000


class _Kinds(dict[str, str]):
    """token text → its kind: the group of `_TOKEN_RE` that matches it, the same wherever it stands.

    The pattern has no look-around, so an alternative that matches the token's text in one place
    matches it in every place; the first one that does is the token's kind."""

    def __missing__(self, token: str) -> str:
        match = _TOKEN_RE.match(token)
        kind = self[token] = (match.lastgroup if match else None) or "punct"
        return kind


class _Chunks(dict[str, tuple[tuple[str, int, int, str], ...]]):
    """chunk → its tokens (text, start, end and kind within the chunk); empty for a chunk that
    holds an opener of `_OPENERS`, which is scanned in the text instead."""

    def __missing__(self, chunk: str) -> tuple[tuple[str, int, int, str], ...]:
        if any(opener in chunk for opener in _OPENERS):
            tokens: tuple[tuple[str, int, int, str], ...] = ()
        else:
            tokens = tuple((m.group(), m.start(), m.end(), _KINDS[m.group()]) for m in _TOKEN_SPAN_RE.finditer(chunk))
        self[chunk] = tokens
        return tokens


_KINDS = _Kinds()
_CHUNKS = _Chunks()


def tokenize(text: str) -> list[Token]:
    """Split text into tokens; quoted names are single tokens so they are never inflected.

    The tokens `_TOKEN_RE.finditer(text)` gives (kind = the group that matched), found as the
    comment above `_TOKEN_SPAN_RE` explains. Tokens are built with `tuple.__new__`: the named
    tuple's own `__new__` is a Python function, a frame per token."""
    for cache in (_KINDS, _CHUNKS):
        if len(cache) >= _CACHE_SIZE:
            cache.clear()
    tokens: list[Token] = []
    append = tokens.append
    new = tuple.__new__
    find = text.find
    done = 0  # tokens of text[:done] are in `tokens`
    chunk_end = 0
    for chunk in text.split():
        # the next occurrence after the previous chunk: only whitespace stands before this one
        chunk_start = find(chunk, chunk_end)
        chunk_end = chunk_start + len(chunk)
        if chunk_end <= done:
            continue  # inside a quote already taken
        parts = _CHUNKS[chunk]
        if parts and chunk_start >= done:
            for token, start, end, kind in parts:
                append(new(Token, (token, chunk_start + start, chunk_start + end, kind)))
            done = chunk_end
            continue
        # From `done` on (whitespace up to this chunk, or the rest of a chunk a quote ended in),
        # as the pattern scans the whole text, until a token covers the chunk's last character.
        for m in _TOKEN_SPAN_RE.finditer(text, done):
            token = m.group()
            done = m.end()
            append(new(Token, (token, m.start(), done, _KINDS[token])))
            if done >= chunk_end:
                break
    return tokens
