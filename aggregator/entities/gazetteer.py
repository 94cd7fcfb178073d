"""The gazetteer of known institutions and the ways a mention is linked to it.

Linking is deliberately conservative: a wrong link merges two institutions in every analyst
query, a missing link only leaves one more entity to merge later. So:
1. exact match of the folded canonical name (or an alias);
2. acronym + place ("ROPS w Białymstoku") or an acronym that names exactly one entry ("MCPS");
3. fuzzy match only above a threshold, with a margin over the runner-up, and with the place and
   every number identical ("w Olsztynie" never becomes "w Olsztynku", "Nr 1" never "Nr 2").
"""

from __future__ import annotations

import re
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import cache
from importlib import resources
from typing import Any

from aggregator.entities.model import KINDS, Entity
from aggregator.entities.text import fold

FUZZY_THRESHOLD = 0.9
FUZZY_MARGIN = 0.03
#: A score below this can neither win (< threshold) nor be a runner-up within the margin of a
#: winner, so fuzzy_scores() leaves such candidates out and never computes their exact ratio.
FUZZY_RELEVANT = FUZZY_THRESHOLD - FUZZY_MARGIN

_PLACE_RE = re.compile(r"\s(we|w|W|WE|We)\s+(?=[A-ZĄĆĘŁŃÓŚŹŻ])")
_NUMBER_RE = re.compile(r"\d+")


def _outside_quotes(prefix: str) -> bool:
    """True when every quote opened in ``prefix`` is closed (curly and straight quotes)."""
    curly = sum(prefix.count(q) for q in "„“”«»")
    return curly % 2 == 0 and prefix.count('"') % 2 == 0


def split_place(name: str) -> tuple[str, str | None]:
    """Split "Ośrodek … w Białymstoku" into the body and the place phrase ("w Białymstoku").

    The last "w"/"we" followed by a capitalised word outside quotes starts the place.
    """
    last = None
    for match in _PLACE_RE.finditer(name):
        if _outside_quotes(name[: match.start()]):
            last = match
    if last is None:
        return name, None
    return name[: last.start()], name[last.start() + 1 :]


def numbers(name: str) -> tuple[str, ...]:
    """The numbers in a name, which must match exactly for a fuzzy link."""
    return tuple(_NUMBER_RE.findall(name))


@dataclass(frozen=True)
class _Name:
    key: str
    place: str | None
    numbers: tuple[str, ...]
    entity: Entity
    # difflib caches its analysis of the second sequence: one matcher per name, reused
    matcher: SequenceMatcher[str] = field(compare=False, hash=False, repr=False, default_factory=SequenceMatcher)

    def __post_init__(self) -> None:
        self.matcher.set_seq2(self.key)


class QuickRatioBounds:
    """difflib's two cheap upper bounds of a similarity (`real_quick_ratio`, `quick_ratio`) of one
    string to each of a fixed list of folded keys, as a few array operations: the keys' lengths
    and their counts of each character are kept as arrays.

    Every new mention is compared with up to a hundred gazetteer names and every category name,
    and difflib computes `quick_ratio` by a Python loop over the mention's characters for each of
    them: a tenth of the time spent on a page seen for the first time. Folded keys hold only ASCII
    letters, digits and spaces (`text.fold`), so a count per code point below 128 is all there is.
    """

    def __init__(self, keys: list[str]) -> None:
        import numpy as np  # not at import: the registry check reads the gazetteer too

        self.lengths = np.array([len(k) for k in keys], dtype=np.int64)
        self.counts = np.stack([_char_counts(k) for k in keys]) if keys else np.zeros((0, 128), dtype=np.int64)

    def near(self, key: str) -> list[int]:
        """The indexes, in order, of the keys that folded ``key`` may be FUZZY_RELEVANT-similar to.

        With a little slack (the arrays' float arithmetic need not round as difflib's does): the
        caller tests these with difflib's own bounds, so what passes is exactly what passed."""
        import numpy as np

        total = self.lengths + len(key)
        shared = np.minimum(self.counts, _char_counts(key)).sum(axis=1)
        # quick_ratio, which is never above real_quick_ratio (the characters two strings share are
        # at most the shorter one's), and 1.0 for two empty strings as difflib has it
        bound = np.divide(2.0 * shared, total, out=np.ones(len(total)), where=total > 0)
        return np.flatnonzero(bound >= FUZZY_RELEVANT - 1e-9).tolist()  # type: ignore[no-any-return]


def _char_counts(key: str) -> Any:
    """How often each character (by code point, ASCII) occurs in a folded key."""
    import numpy as np

    return np.bincount(np.frombuffer(key.encode("ascii"), dtype=np.uint8), minlength=128)


class _NameGroup:
    """Names that share a place and numbers (a fuzzy candidate must have both equal to the
    mention's), with the bounds of their keys."""

    def __init__(self, names: list[_Name]) -> None:
        self.names = names
        self.bounds = QuickRatioBounds([n.key for n in names])

    def near(self, key: str) -> list[_Name]:
        """The names, in order, that passed `QuickRatioBounds.near`."""
        return [self.names[i] for i in self.bounds.near(key)]


class Gazetteer:
    """Known institutions with indexes by folded name, acronym and acronym + place."""

    def __init__(self, entries: list[dict[str, object]]) -> None:
        self.entities: list[Entity] = []
        self._names: list[_Name] = []
        self._by_key: dict[str, Entity] = {}
        self._by_acronym: dict[str, set[Entity]] = defaultdict(set)
        self._by_acronym_place: dict[tuple[str, str], set[Entity]] = defaultdict(set)
        self._entity_set: frozenset[Entity] | None = None
        self._groups: dict[tuple[str | None, tuple[str, ...]], _NameGroup] | None = None
        for raw in entries:
            self._add(raw)

    def _add(self, raw: dict[str, object]) -> None:
        entity = Entity(
            key=str(raw["key"]),
            canonical=str(raw["canonical"]),
            acronym=str(raw["acronym"]) if raw.get("acronym") else None,
            kind=str(raw["kind"]),
            voivodeship=str(raw["voivodeship"]) if raw.get("voivodeship") else None,
            website=str(raw["website"]) if raw.get("website") else None,
        )
        if entity.kind not in KINDS:
            raise ValueError(f"gazetteer entry {entity.key}: unknown kind {entity.kind!r}")
        self.entities.append(entity)
        self._entity_set = None
        self._groups = None
        names = [entity.canonical, *_strings(raw.get("aliases"))]
        places = set(_strings(raw.get("places")))
        for name in names:
            key = fold(name)
            if key in self._by_key and self._by_key[key] != entity:
                raise ValueError(f"gazetteer name {name!r} is given to two entries")
            self._by_key[key] = entity
            _, place = split_place(name)
            if place:
                places.add(place)
            self._names.append(_Name(key, fold(place) if place else None, numbers(name), entity))
        acronyms = [a for a in [entity.acronym, *_strings(raw.get("acronyms"))] if a]
        for acronym in acronyms:
            self._by_acronym[acronym.upper()].add(entity)
            for place in places:
                self._by_acronym_place[(acronym.upper(), fold(place))].add(entity)

    def exact(self, name: str) -> Entity | None:
        """The entry whose canonical name or alias equals ``name`` after folding."""
        return self._by_key.get(fold(name))

    def by_acronym(self, acronym: str, place: str | None = None) -> Entity | None:
        """The one entry with this acronym (and place, when given); None if none or ambiguous."""
        acr = acronym.upper()
        if place:
            found = self._by_acronym_place.get((acr, fold(place)), set())
            if len(found) == 1:
                return next(iter(found))
        found = self._by_acronym.get(acr, set())
        # A unique acronym wins whatever place follows: "MCPS w Warszawie" is still MCPS.
        if len(found) == 1:
            return next(iter(found))
        return None

    def acronym_kinds(self, acronym: str) -> set[str]:
        """Kinds of all entries with this acronym (to type an ambiguous acronym)."""
        return {e.kind for e in self._by_acronym.get(acronym.upper(), set())}

    def entity_set(self) -> frozenset[Entity]:
        """All known entities, for membership tests ("is this mention gazetteer-linked?").

        Built once and kept: the scanner asks for every candidate mention, and rebuilding the set
        hashed every entry each time (a tenth of the time spent extracting mentions)."""
        if self._entity_set is None:
            self._entity_set = frozenset(self.entities)
        return self._entity_set

    def known_acronyms(self) -> set[str]:
        """Every acronym (upper-cased) that names at least one entry."""
        return set(self._by_acronym)

    def fuzzy_scores(self, name: str) -> dict[Entity, float]:
        """Similarity of ``name`` to the entries with the same place and numbers that score at least
        FUZZY_RELEVANT (the only scores pick_with_margin can act on)."""
        key = fold(name)
        _, place = split_place(name)
        place_key = fold(place) if place else None
        group = self._fuzzy_groups().get((place_key, numbers(name)))
        best: dict[Entity, float] = {}
        if group is None:
            return best
        for cand in group.near(key):
            matcher = cand.matcher
            matcher.set_seq1(key)
            # cheap upper bounds first: most names are nowhere near each other
            if matcher.real_quick_ratio() < FUZZY_RELEVANT or matcher.quick_ratio() < FUZZY_RELEVANT:
                continue
            score = matcher.ratio()
            if score >= FUZZY_RELEVANT and score > best.get(cand.entity, 0.0):
                best[cand.entity] = score
        return best

    def _fuzzy_groups(self) -> dict[tuple[str | None, tuple[str, ...]], _NameGroup]:
        """The names by place and numbers (a fuzzy candidate must have both equal), built once."""
        if self._groups is None:
            by_place: dict[tuple[str | None, tuple[str, ...]], list[_Name]] = defaultdict(list)
            for cand in self._names:
                by_place[(cand.place, cand.numbers)].append(cand)
            self._groups = {where: _NameGroup(names) for where, names in by_place.items()}
        return self._groups

    def fuzzy(self, name: str) -> Entity | None:
        """Best entry by string similarity, only with a clear margin and the same place/numbers."""
        return pick_with_margin(self.fuzzy_scores(name))


def pick_with_margin(scores: dict[Entity, float]) -> Entity | None:
    """The best-scoring entity if it clears the threshold and beats the runner-up by the margin."""
    if not scores:
        return None
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    top_entity, top = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    if top >= FUZZY_THRESHOLD and top - runner_up >= FUZZY_MARGIN:
        return top_entity
    return None


def _strings(value: object) -> list[str]:
    if not value:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


@cache
def load() -> Gazetteer:
    """The bundled gazetteer (``gazetteer.toml`` next to this module), parsed once."""
    data = resources.files("aggregator.entities").joinpath("gazetteer.toml").read_bytes()
    return Gazetteer(list(tomllib.loads(data.decode("utf-8"))["entity"]))
