"""Text normalisation for deduplication: one canonical token stream per announcement.

Why: the same news reaches us from several CMSs that print it differently. WordPress "texturizes"
``-`` into ``–`` and ``"`` into ``„”``, another site keeps ASCII; one site writes ``25.06.2019 r.``,
its sister portal ``25 czerwca 2019 roku``; raw dumps carry menus ("Menu Zamknij"), credits
("źródło: ROPS…", "oprac.: …") and footers ("Opublikowano w…", "Powrót na początek strony",
"error: Nie kopiuj!!!"). None of that is the news, so none of it may split a story.

Decisions (documented because the fingerprint depends on them):

* **Diacritics are folded** (``ą→a``, ``ł→l``, …) after case folding. Re-posts sometimes lose them
  (slugs, old encodings, careless copying) and two different announcements never differ only by
  diacritics, so folding costs nothing in precision.
* **Quotes and other punctuation are dropped**; dashes become separators. The token stream keeps
  only letters and digits, so ``„Zakup Prospołeczny” – 2019`` and ``"Zakup Prospołeczny" - 2019``
  give the same tokens.
* **Numbers**: digit runs lose leading zeros (``08.06.2018`` ≡ ``8.6.2018``); month names in the
  genitive and nominative become their number and ``roku`` becomes ``r``, so ``25 czerwca 2019 roku``
  ≡ ``25.06.2019 r.``; the cardinal number words one to ten become digits (``dwie`` → ``2``). Ordinals
  and Roman numerals are left alone: their many inflected forms and the clash of ``i``/``v`` with
  ordinary words make them expensive to map safely.
* **Boilerplate lines are removed** by a short list of anchored patterns (menus, credits, footers,
  date labels of the CMS, share widgets). "Do pobrania:" and attachment lists stay: they are content.
  Inline pointers of truncated re-posts ("… więcej informacji na stronie es.rops-katowice.pl",
  "Czytaj więcej…") are removed too, so the shortened copy stays a prefix of the original.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from itertools import chain, compress

__all__ = [
    "body_of_lines",
    "body_tokens",
    "content_lines",
    "fingerprint",
    "fingerprint_of_tokens",
    "fold",
    "lines_and_content",
    "normalise_text",
    "tokens",
]

# Line patterns, tested on the folded (lower-case, diacritic-free) stripped line.
_BOILERPLATE_LINES = re.compile(
    r"""^(?:
        menu(?:\s+zamknij)? | zamknij | skip\ to\ content | przejdz\ do\ (?:glownej\ )?tresci.*
      | przejdz\ na\ poczatek | powrot\ na\ poczatek\ strony | do\ gory | wstecz | drukuj
      | error:?\s*nie\ kopiuj.* | opublikowano\ w.* | powiazane | udostepnij.* | dodaj\ komentarz
      | (?:zrodlo|zrodla)(?:\ grafiki|\ zdjec|\ zdjecia|\ foto)?\s*:.* | oprac+\..{0,80} | opracowanie\s*:.{0,80}
      | fot(?:o)?(?:\.|\s*:).{0,80} | logo\ serwisu.* | facebook(?:\ instagram)? | twitter
      | (?:czytaj|zobacz)\ (?:wiecej|dalej).{0,80} | wiecej\s*[»>]* | mapa\ dojazdu
      | dodan[ao]\s*:.* | zmodyfikowan[ao]\s*:.* | data\ (?:dodania|opublikowania|publikacji|modyfikacji)\s*:.*
      | dodano\ \d.{0,40} | uwaga | informacje\ opublikowane\ przed\ 1\ stycznia\ 2021.*
      | you\ are\ currently\ viewing.* | galeria\ zdjec | fotorelacja\ tutaj
      | moze\ cie\ zainteresowac | wyniki\ wyszukiwania\ dla | brak\ wynikow\ wyszukiwania
      | bez\ kategorii | \(?wwim\)? | licznik\ odwiedzin.* | ten\ adres\ pocztowy\ jest\ chroniony.*
      | adres\ poczty\ elektronicznej\ jest\ chroniony.*
    )$""",
    re.VERBOSE,
)
# Inline pointers that truncated re-posts and teasers append to the copied text.
_POINTERS = re.compile(
    r"(?:\.\.\.)?[ \t]*(?:"
    r"wiecej[ \t]+informacji[ \t]+"
    r"(?:na[ \t]+stronie|pod[ \t]+adresem|znajdziecie[ \t]+panstwo[ \t]+pod)[ \t]*:?[ \t]*\S*"
    r"|czytaj[ \t]+(?:wiecej|dalej)[ \t]*(?:\.\.\.|»)?"
    r"|pelna[ \t]+tresc[ \t]*:?[ \t]*\S*"
    r"|\[\.\.\.\]"
    r")"
)
# Every pointer starts with one of these words: a text with none of them (most) has no pointer, and
# a substring test is much cheaper than running _POINTERS over the whole text.
_POINTER_WORDS = ("wiecej", "czytaj", "pelna", "[...]")
_TOKEN = re.compile(r"[^\W\d_]+|\d+")
# The line breaks of `str.splitlines` other than "\n" ("\r\n" included).
_OTHER_LINE_BREAKS = "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"

_MONTHS = {
    **dict.fromkeys(("stycznia", "styczen"), "1"),
    **dict.fromkeys(("lutego", "luty"), "2"),
    **dict.fromkeys(("marca", "marzec"), "3"),
    **dict.fromkeys(("kwietnia", "kwiecien"), "4"),
    **dict.fromkeys(("maja", "maj"), "5"),
    **dict.fromkeys(("czerwca", "czerwiec"), "6"),
    **dict.fromkeys(("lipca", "lipiec"), "7"),
    **dict.fromkeys(("sierpnia", "sierpien"), "8"),
    **dict.fromkeys(("wrzesnia", "wrzesien"), "9"),
    **dict.fromkeys(("pazdziernika", "pazdziernik"), "10"),
    **dict.fromkeys(("listopada", "listopad"), "11"),
    **dict.fromkeys(("grudnia", "grudzien"), "12"),
}
_NUMBER_WORDS = {
    **dict.fromkeys(("jeden", "jedna", "jedno"), "1"),
    **dict.fromkeys(("dwa", "dwie", "dwoch", "dwoma"), "2"),
    **dict.fromkeys(("trzy", "trzech"), "3"),
    **dict.fromkeys(("cztery", "czterech"), "4"),
    **dict.fromkeys(("piec", "pieciu"), "5"),
    **dict.fromkeys(("szesc", "szesciu"), "6"),
    **dict.fromkeys(("siedem", "siedmiu"), "7"),
    **dict.fromkeys(("osiem", "osmiu"), "8"),
    **dict.fromkeys(("dziewiec", "dziewieciu"), "9"),
    **dict.fromkeys(("dziesiec", "dziesieciu"), "10"),
    "roku": "r",
}
_CANONICAL = {**_MONTHS, **_NUMBER_WORDS}
# Non-ASCII characters folded to ASCII: Polish letters and typographic quotes/dashes up front,
# anything else learnt on first sight through NFKD (the fold of each character is memoised).
_FOLDED: dict[str, str] = {
    **dict(zip("ąćęłńóśźżáéíúüöäčšžřěůýñç", "acelnoszzaeiuuoacszreuync", strict=True)),
    **dict.fromkeys("„”“«»″", '"'),
    **dict.fromkeys("’‘‚´`", "'"),
    **dict.fromkeys("–—‐‑‒−", "-"),
    "…": "...",
    "•": "*",
    "ø": "o",
    "đ": "d",
    "ß": "ss",
}
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# The characters that make most of the non-ASCII text once case-folded, with their (ASCII) folds:
# `fold` replaces each present one in a single C pass before the per-character fold of the rest.
_COMMON_FOLDS = tuple((char, _FOLDED[char]) for char in "ąćęłńóśźż„”“–—’")
# Inside a raw dump the title is printed after a menu or a section label; look for it this far in.
_TITLE_SEARCH_LINES = 6


def _fold_char(match: re.Match[str]) -> str:
    char = match.group()
    folded = _FOLDED.get(char)
    if folded is None:
        folded = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        _FOLDED[char] = folded
    return folded


def fold(text: str) -> str:
    """Case-fold, strip diacritics (``Łódź`` → ``lodz``) and make typographic quotes and dashes ASCII.

    Only non-ASCII characters go through the (memoised) per-character fold, which keeps this
    cheap on Polish text, where most characters are ASCII already. The Polish letters and the
    typographic quotes and dashes (`_COMMON_FOLDS`) are replaced first, one `str.replace` per
    character present: a regular expression visits every character of the text, and usually no
    other non-ASCII character is left for it. (Replacing them first gives the same text, as their
    folds are ASCII, which the per-character fold leaves alone.)
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    if folded.isascii():
        return folded
    for char, ascii_fold in _COMMON_FOLDS:
        if char in folded:
            folded = folded.replace(char, ascii_fold)
    return folded if folded.isascii() else _NON_ASCII.sub(_fold_char, folded)


def _kept(lines: list[str]) -> list[bool]:
    """Which of a folded text's lines are not boilerplate (an empty line, between paragraphs, is
    kept: the pattern matches none, and skipping it saves the test)."""
    return [not line or not _BOILERPLATE_LINES.match(" ".join(line.split())) for line in lines]


def _drop_boilerplate_lines(folded: str) -> str:
    lines = folded.splitlines()
    return "\n".join(compress(lines, _kept(lines)))


def content_lines(text: str) -> str:
    """``text`` as printed (diacritics and all) without its boilerplate lines (date lines included)."""
    folded = fold(text)
    lines = folded.splitlines()
    return _content(text, folded, lines, _kept(lines))


def _content_lines_one_by_one(text: str) -> str:
    """`content_lines`, each line folded on its own (the rule; `content_lines` folds the text once)."""
    return "\n".join(line for line in text.splitlines() if not _BOILERPLATE_LINES.match(" ".join(fold(line).split())))


def _content(text: str, folded: str, lines: list[str], keep: list[bool]) -> str:
    """`content_lines` of ``text`` from its folded text, the folded text's lines and which of them
    are kept (not boilerplate).

    Both keep the same lines, tested on their folded form, so the text is folded once, whole, and
    its lines are paired with the folded lines. That pairing is exact when ``"\n"`` is the text's
    only line break and folding made or removed none: `fold` is the same line by line and whole
    (NFKC cannot compose or reorder across a newline, the rest works character by character).
    Otherwise (a ``"\r"``, a line folded to nothing at the end) each line is folded on its own."""
    originals = text.splitlines()
    if (
        len(originals) != len(lines)
        or folded.count("\n") != text.count("\n")
        or any(char in text or char in folded for char in _OTHER_LINE_BREAKS)
    ):
        return _content_lines_one_by_one(text)
    if all(keep) and not text.endswith("\n"):  # nothing to drop: the content is the whole text
        return text
    return "\n".join(compress(originals, keep))


def _lines(text: str) -> list[list[str]]:
    """Canonical tokens of ``text``, line by line (boilerplate lines and pointers removed)."""
    return _lines_of_folded(_drop_boilerplate_lines(fold(text)))


def _lines_of_folded(folded: str) -> list[list[str]]:
    """`_lines` of a text already folded and without its boilerplate lines."""
    if any(word in folded for word in _POINTER_WORDS):
        folded = _POINTERS.sub(" ", folded)
    if len(_CHUNK_TOKENS) >= _CHUNK_CACHE:
        _CHUNK_TOKENS.clear()
    tokens_of = _CHUNK_TOKENS.__getitem__
    out = []
    for line in folded.splitlines():
        words = list(chain.from_iterable(map(tokens_of, line.split())))
        if words:
            out.append(words)
    return out


class _ChunkTokens(dict[str, tuple[str, ...]]):
    """A chunk of folded text (cut at whitespace) → its canonical tokens.

    `_lines` takes a line's tokens chunk by chunk: a token holds no whitespace, so a chunk has the
    same tokens alone as in its line, and the same chunks come back on every page, where the token
    pattern would visit every character of every line again."""

    def __missing__(self, chunk: str) -> tuple[str, ...]:
        canon = _CANONICAL.get
        # the token regex splits digits from letters, so a token starting with "0" is a number
        words = tuple((t.lstrip("0") or "0") if t[0] == "0" else canon(t, t) for t in _TOKEN.findall(chunk))
        self[chunk] = words
        return words


_CHUNK_TOKENS = _ChunkTokens()
_CHUNK_CACHE = 100_000


def tokens(text: str) -> list[str]:
    """The canonical word tokens of ``text`` (boilerplate removed), the unit of every comparison."""
    return list(chain.from_iterable(_lines(text)))


def normalise_text(text: str) -> str:
    """``text`` as one canonical line: the exact-duplicate form (see the module docstring)."""
    return " ".join(tokens(text))


def body_tokens(text: str, title: Sequence[str]) -> list[str]:
    """The tokens of ``text`` without a printed copy of ``title`` and whatever stands before it.

    Raw dumps and some CMSs print the title as a line of its own near the top, after a menu or a
    section label ("SECON", "Aktualności"); another copy of the same page may not. Dropping that
    line (and the labels above it) keeps the bodies comparable and stops the title from counting
    twice. Only a line that *is* the title counts: a first sentence that merely contains the title
    words ("… odbyło się trzecie posiedzenie Regionalnej Grupy Interesariuszy projektu …") stays.
    """
    return body_of_lines(_lines(text), title)


def body_of_lines(lines: list[list[str]], title: Sequence[str]) -> list[str]:
    """`body_tokens` of a text's `_lines`."""
    wanted = list(title)
    if wanted:
        for i, line in enumerate(lines[:_TITLE_SEARCH_LINES]):
            if line == wanted:
                lines = lines[i + 1 :]
                break
    return list(chain.from_iterable(lines))


def lines_and_content(text: str) -> tuple[list[list[str]], str]:
    """`_lines` and `content_lines` of ``text`` at once (the story features want both, see
    `aggregator.dedup.features.features_and_content`): the text is folded and its lines tested for
    boilerplate once, and each line is cut into its chunks once, for that test and for its tokens
    (when the text has no pointer to cut first). `body_of_lines` makes `body_tokens` of these lines."""
    folded = fold(text)
    lines = folded.splitlines()
    if any(word in folded for word in _POINTER_WORDS):  # pointers are cut from the kept lines first
        keep = _kept(lines)
        return _lines_of_folded("\n".join(compress(lines, keep))), _content(text, folded, lines, keep)
    if len(_CHUNK_TOKENS) >= _CHUNK_CACHE:
        _CHUNK_TOKENS.clear()
    tokens_of = _CHUNK_TOKENS.__getitem__
    keep: list[bool] = []
    out: list[list[str]] = []
    for line in lines:
        chunks = line.split()
        if chunks and _BOILERPLATE_LINES.match(" ".join(chunks)):
            keep.append(False)
            continue
        keep.append(True)
        words = list(chain.from_iterable(map(tokens_of, chunks)))
        if words:
            out.append(words)
    return out, _content(text, folded, lines, keep)


def fingerprint(doc: object) -> str:
    """Exact-duplicate key: a hash of the normalised title and the normalised body.

    Accepts any object with ``title`` and ``text`` attributes (a :class:`~aggregator.dedup.Doc`).
    Two pages get the same key when they differ only in whitespace, quotes, dashes, case,
    diacritics, number spelling or boilerplate lines.
    """
    title = tokens(str(getattr(doc, "title", "") or ""))
    return fingerprint_of_tokens(title, body_tokens(str(getattr(doc, "text", "") or ""), title))


def fingerprint_of_tokens(title: Sequence[str], body: Sequence[str]) -> str:
    """:func:`fingerprint` for already tokenised title and body (the body without the title)."""
    payload = " ".join(title) + "\x1f" + " ".join(body)
    return hashlib.blake2b(payload.encode("utf-8"), digest_size=16).hexdigest()
