"""String helpers shared by the entity modules: folding, slugs, tokens, casing.

Linking compares *folded* keys (lower case, no diacritics, no punctuation) so that "Ośrodek",
"OSRODEK" and "Osrodek" meet, while the canonical names keep their exact Polish spelling.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import accumulate, chain, compress, count, repeat
from operator import add, is_
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
# scanner. Python's regular expressions spend most of that on visiting every character, and a
# Python loop per chunk or per token costs about as much, so `token_columns` runs the pattern only
# where it has to and otherwise works on whole lists in C: it cuts the text at single spaces
# (`str.split(" ")`, line breaks made spaces first: same length, so the same offsets), reuses the
# tokens of each piece (the same pieces — "Ośrodka", "w", "r.", "2024" — come back on every page),
# computes where each piece starts from the lengths alone (one space after each), and shifts the
# pieces' tokens to their places with `map`/`zip`.
#
# Why that gives the pattern's own tokens: the pattern skips only whitespace (`\S` matches
# anything else), and only a quote or "Sp. z o.o." can run over whitespace. A piece without
# whitespace and without their opening characters (`_OPENERS`) is therefore tokenised on its own
# exactly as inside the text: the scan reaches it fresh after the whitespace before it, and none
# of its tokens reaches past it (no alternative looks further than the text it consumes). The other
# pieces — those holding an opener or whitespace other than a space or line break (a tab, a
# non-breaking space), and those a quote reaches into — are walked (`_walk`): cut at whitespace,
# each chunk taken from the memo when it is plain, scanned in the text from where the last token
# ended otherwise.

#: `_TOKEN_RE` without its named groups: the same tokens (names do not change what an alternative
#: matches), found faster, as a scan that records no groups does less work per token.
_TOKEN_SPAN_RE = re.compile(re.sub(r"\(\?P<\w+>", "(?:", _TOKEN_RE.pattern), re.VERBOSE)
#: What a quote or "Sp. z o.o." (the tokens that may contain whitespace) starts with: the token
#: pattern's alternatives that may run over whitespace are the quotes and `[Ss]p\.\s?z…` only.
_OPENERS = ("„", "“", '"', "«", "”", "Sp.", "sp.")
_CACHE_SIZE = 100_000

#: Tokens of a piece: (text, start, kind), the start counted from the piece's start.
_PieceTokens = tuple[tuple[str, int, str], ...]


class _Kinds(dict[str, str]):
    """token text → its kind: the group of `_TOKEN_RE` that matches it, the same wherever it stands.

    The pattern has no look-around, so an alternative that matches the token's text in one place
    matches it in every place; the first one that does is the token's kind."""

    def __missing__(self, token: str) -> str:
        match = _TOKEN_RE.match(token)
        kind = self[token] = (match.lastgroup if match else None) or "punct"
        return kind


class _Pieces(dict[str, "_PieceTokens | None"]):
    """piece (text between two spaces, or a chunk of a walked piece) → its tokens; None for a
    piece that must be walked: it holds an opener of `_OPENERS` or whitespace. Empty for the empty
    piece between two spaces."""

    def __missing__(self, piece: str) -> _PieceTokens | None:
        tokens: _PieceTokens | None
        if not piece:
            tokens = ()
        elif piece.split() != [piece] or any(opener in piece for opener in _OPENERS):
            tokens = None
        else:
            tokens = tuple((m.group(), m.start(), _KINDS[m.group()]) for m in _TOKEN_SPAN_RE.finditer(piece))
        self[piece] = tokens
        return tokens


_KINDS = _Kinds()
_PIECES = _Pieces()


def kind_of(token: str) -> str:
    """The kind of a token with this text (the same wherever it stands, see `_Kinds`)."""
    return _KINDS[token]


class TokenColumns(NamedTuple):
    """The tokens of a text as parallel sequences, index i for token i: what `tokenize` gives,
    without building an object per token (the entity scanner reads only a few of them). A token
    ends at its start plus the length of its text: `end`."""

    text: Sequence[str]
    start: Sequence[int]
    kind: Sequence[str]

    def end(self, i: int) -> int:
        """Where token i ends."""
        return self.start[i] + len(self.text[i])


def token_columns(text: str) -> TokenColumns:
    """The tokens `_TOKEN_RE.finditer(text)` gives (kind = the group that matched), as columns,
    found as the comment above `_TOKEN_SPAN_RE` explains."""
    for cache in (_KINDS, _PIECES):
        if len(cache) >= _CACHE_SIZE:
            cache.clear()
    pieces = text.replace("\n", " ").split(" ")
    # where each piece starts: the lengths of those before it, and one space after each
    starts = list(map(add, accumulate(map(len, pieces), initial=0), count()))
    found = list(map(_PIECES.__getitem__, pieces))
    if None in found:
        _walk(text, pieces, starts, found)
    relative = list(chain.from_iterable(found))  # type: ignore[arg-type]  # no None left
    if not relative:
        return TokenColumns((), (), ())
    words, rel_starts, kinds = zip(*relative, strict=True)
    offsets = list(chain.from_iterable(map(repeat, starts, map(len, found))))  # type: ignore[arg-type]
    return TokenColumns(words, list(map(add, offsets, rel_starts)), kinds)


def tokenize(text: str) -> list[Token]:
    """Split text into tokens; quoted names are single tokens so they are never inflected.

    Tokens are built with `tuple.__new__`: the named tuple's own `__new__` is a Python function,
    a frame per token."""
    words, starts, kinds = token_columns(text)
    ends = map(add, starts, map(len, words))
    return list(map(tuple.__new__, repeat(Token), zip(words, starts, ends, kinds, strict=True)))


def _walk(text: str, pieces: list[str], starts: list[int], found: list[_PieceTokens | None]) -> None:
    """Put into ``found`` the tokens of the pieces `token_columns` cannot take from the memo as
    they are: those marked None, and those the tokens found here reach into. A token belongs to
    the piece it starts in; a piece a quote covers whole has none."""
    find = text.find
    done = 0  # where the last token found here ends
    j = 0  # the pieces before j are walked or left as they were
    n = len(pieces)
    for k in compress(count(), map(is_, found, repeat(None))):
        j = max(j, k)
        # Only whitespace stands between the last token of the text before piece j and the piece,
        # or that token is one found here (it then ends at `done`, past the piece's start): so
        # scanning from the later of `done` and a chunk's start is scanning from where the text's
        # last token ended, as the pattern does.
        while j < n and (found[j] is None or starts[j] < done):
            base = starts[j]
            tokens: list[tuple[str, int, str]] = []
            append = tokens.append
            chunk_end = base
            for chunk in pieces[j].split():
                chunk_start = find(chunk, chunk_end)
                chunk_end = chunk_start + len(chunk)
                if chunk_end <= done:
                    continue  # inside a quote already taken
                parts = _PIECES[chunk]
                if parts and chunk_start >= done:
                    shift = chunk_start - base
                    for token, start, kind in parts:
                        append((token, shift + start, kind))
                    done = chunk_end
                    continue
                # as the pattern scans the whole text, until a token covers the chunk's last character
                for m in _TOKEN_SPAN_RE.finditer(text, max(done, chunk_start)):
                    token = m.group()
                    done = m.end()
                    append((token, m.start() - base, _KINDS[token]))
                    if done >= chunk_end:
                        break
            found[j] = tuple(tokens)
            j += 1
