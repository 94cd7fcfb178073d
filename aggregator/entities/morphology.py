"""Polish inflection through morfeusz2 (SGJP dictionary): analysis and nominative generation.

Why morfeusz2 and not suffix rules: institution names mix nouns of every declension, adjectives,
hyphenated compounds and irregular forms ("Ośrodka" → "Ośrodek", "Centrów" → "Centrum"); the SGJP
dictionary knows them all, and ``generate`` gives the exact nominative instead of a guess.

The analyser is loaded lazily, once per process, and every per-word result is cached, because
the same few hundred words ("Ośrodka", "Społecznej", "w") make up most institution names.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

#: Parts of speech whose forms agree with a noun in number, case and gender.
ADJ_POS: frozenset[str] = frozenset({"adj"})
NOUN_POS: frozenset[str] = frozenset({"subst"})


@dataclass(frozen=True)
class Reading:
    """One morfeusz2 interpretation of a word, with the agreement features unpacked."""

    lemma: str
    pos: str
    number: str | None
    cases: frozenset[str]
    genders: frozenset[str]
    degree: str | None
    qualifiers: tuple[str, ...]

    @property
    def base_lemma(self) -> str:
        """The lemma without morfeusz2's homonym marker (``polski:A`` → ``polski``)."""
        return self.lemma.split(":", 1)[0]

    def features(self) -> frozenset[tuple[str, str, str]]:
        """All (number, case, gender) combinations this reading can stand for."""
        if self.number is None:
            return frozenset()
        return frozenset((self.number, c, g) for c in self.cases for g in self.genders)


@cache
def morfeusz() -> Any:
    """The process-wide morfeusz2 instance (loading the dictionary takes ~0.1 s and ~100 MB)."""
    import morfeusz2

    return morfeusz2.Morfeusz(expand_tags=False)


def _parse(lemma: str, tag: str, qualifiers: list[str]) -> Reading:
    parts = tag.split(":")
    pos = parts[0]
    if pos in NOUN_POS | ADJ_POS and len(parts) >= 4:
        degree = parts[4] if pos in ADJ_POS and len(parts) > 4 else None
        return Reading(
            lemma,
            pos,
            parts[1],
            frozenset(parts[2].split(".")),
            frozenset(parts[3].split(".")),
            degree,
            tuple(qualifiers),
        )
    return Reading(lemma, pos, None, frozenset(), frozenset(), None, tuple(qualifiers))


@lru_cache(maxsize=65536)
def analyse(word: str) -> tuple[Reading, ...]:
    """Readings of a single word. For hyphenated words, the readings of the last part, provided
    every earlier part is a compound-adjective prefix ("Warmińsko-", "Miejsko-"); otherwise none,
    so place names like "Kędzierzyn-Koźle" are left alone.
    """
    results = morfeusz().analyse(word)
    if not results:
        return ()
    last = max(r[1] for r in results)
    if last > 1:  # several segments: "Warmińsko", "-", "Mazurskiego"
        earlier = [r for r in results if r[1] < last]
        if not all(r[2][2] in {"adja", "interp"} for r in earlier):
            return ()
    return tuple(_parse(r[2][1], r[2][2], list(r[2][3])) for r in results if r[1] == last)


@lru_cache(maxsize=65536)
def _generated(lemma: str) -> tuple[tuple[str, Reading], ...]:
    try:
        forms = morfeusz().generate(lemma)
    except RuntimeError:  # unknown lemma
        return ()
    return tuple((f[0], _parse(f[1], f[2], list(f[3]))) for f in forms)


def nominative(reading: Reading, number: str, gender: str) -> str | None:
    """The nominative form of ``reading``'s lemma in the given number and gender (lower case as
    the dictionary gives it), keeping an adjective's degree; None when the dictionary has none.
    """
    candidates = [
        form
        for form, r in _generated(reading.lemma)
        if r.pos == reading.pos
        and r.number == number
        and "nom" in r.cases
        and (gender in r.genders or reading.pos in NOUN_POS)
        and (reading.pos not in ADJ_POS or r.degree == reading.degree)
    ]
    if not candidates:
        return None
    # Prefer the form spelled like the lemma (the dictionary's citation form) when it fits.
    base = reading.base_lemma
    for form in candidates:
        if form.lower() == base.lower():
            return form
    return candidates[0]


def has_singular(reading: Reading) -> bool:
    """Whether the lemma has a singular nominative (false for pluralia tantum like "warsztaty")."""
    return any(r.number == "sg" and "nom" in r.cases for _, r in _generated(reading.lemma) if r.pos == reading.pos)
