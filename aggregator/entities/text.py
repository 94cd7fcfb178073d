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


def tokenize(text: str) -> list[Token]:
    """Split text into tokens; quoted names are single tokens so they are never inflected."""
    return [Token(m.group(), m.start(), m.end(), m.lastgroup or "punct") for m in _TOKEN_RE.finditer(text)]
