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


class Gazetteer:
    """Known institutions with indexes by folded name, acronym and acronym + place."""

    def __init__(self, entries: list[dict[str, object]]) -> None:
        self.entities: list[Entity] = []
        self._names: list[_Name] = []
        self._by_key: dict[str, Entity] = {}
        self._by_acronym: dict[str, set[Entity]] = defaultdict(set)
        self._by_acronym_place: dict[tuple[str, str], set[Entity]] = defaultdict(set)
        self._entity_set: frozenset[Entity] | None = None
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
        nums = numbers(name)
        best: dict[Entity, float] = {}
        for cand in self._names:
            if cand.place != place_key or cand.numbers != nums:
                continue
            matcher = cand.matcher
            matcher.set_seq1(key)
            # cheap upper bounds first: most names are nowhere near each other
            if matcher.real_quick_ratio() < FUZZY_RELEVANT or matcher.quick_ratio() < FUZZY_RELEVANT:
                continue
            score = matcher.ratio()
            if score >= FUZZY_RELEVANT and score > best.get(cand.entity, 0.0):
                best[cand.entity] = score
        return best

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
