"""Canonicalisation: an inflected mention → its nominative-singular name → its entity.

Only the head noun phrase is inflected back: the head noun, the agreeing adjectives before it
("Regionalnego", "Warmińsko-Mazurskiego") and the few that follow it ("Spółdzielni Socjalnej",
"Urzędu Marszałkowskiego"). Everything after the first genitive complement, the place ("w
Białymstoku") and quoted names („Pożytek”) is kept exactly as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import cache, lru_cache

from aggregator.entities import categories
from aggregator.entities.gazetteer import FUZZY_RELEVANT, QuickRatioBounds, load, pick_with_margin, split_place
from aggregator.entities.model import Entity
from aggregator.entities.morphology import Reading, analyse, has_singular, nominative
from aggregator.entities.text import (
    fold,
    restore_case,
    slugify,
    title_word,
    tokenize,
)

#: Nouns that head institution names. A word with both a noun and an adjective reading
#: ("Mazowieckiego", "Socjalna") is only taken as the head when its noun lemma is one of these.
HEAD_LEMMAS: frozenset[str] = frozenset(
    {
        "ośrodek",
        "centrum",
        "urząd",
        "ministerstwo",
        "spółdzielnia",
        "fundacja",
        "stowarzyszenie",
        "zakład",
        "warsztat",
        "warsztaty",
        "klub",
        "dom",
        "uniwersytet",
        "politechnika",
        "akademia",
        "szkoła",
        "uczelnia",
        "instytut",
        "komitet",
        "zarząd",
        "sejmik",
        "rada",
        "biuro",
        "federacja",
        "towarzystwo",
        "związek",
        "fundusz",
        "bank",
        "agencja",
        "caritas",
    }
)

#: Adjectives that follow the head and belong to it even when the next noun could also take them
#: ("Urzędu Marszałkowskiego Województwa …"). Others in that position belong to the next noun
#: ("Domu Polskiego Dziecka" → "Dom Polskiego Dziecka").
POSTPOSED_HEAD_ADJECTIVES: frozenset[str] = frozenset(
    {
        "marszałkowski",
        "socjalny",
        "miejski",
        "gminny",
        "powiatowy",
        "wojewódzki",
        "główny",
        "wyższy",
        "ekonomiczny",
        "medyczny",
        "przyrodniczy",
        "rolniczy",
        "techniczny",
        "pedagogiczny",
        "warszawski",
        "jagielloński",
        "śląski",
        "łódzki",
        "gdański",
        "opolski",
        "zielonogórski",
    }
)

_ACRONYM_RE = re.compile(
    r"(?P<acr>[A-ZĄĆĘŁŃÓŚŹŻ](?:[A-Za-ząćęłńóśźżĄĆĘŁŃÓŚŹŻ]|-(?=[A-ZĄĆĘŁŃÓŚŹŻ]))*)"
    r"(?:-(?P<suffix>[a-ząćęłńóśźż]{1,4}))?"
    r"(?:\s+(?P<place>(?:w|we|W|WE|We)\s+\S.*))?"
)
_TRAILING = " \t\n,;:–—-"


@dataclass(frozen=True)
class Phrase:
    """The result of the morphological step, before linking."""

    canonical: str
    head_lemma: str | None
    plural: bool


def normalise_mention(mention: str) -> str:
    """Collapse whitespace, trim trailing separators, and bring ALL-CAPS names (quoted parts
    excepted) back to normal capitalisation so the analyser and the gazetteer see usual forms."""
    text = " ".join(mention.split()).strip(_TRAILING)
    tokens = tokenize(text)
    words = [t for t in tokens if t.kind == "word"]
    if len(words) >= 2 and all(t.text.isupper() for t in words) and any(len(t.text) > 4 for t in words):
        parts: list[str] = []
        last = 0
        for tok in tokens:
            parts.append(text[last : tok.start])
            parts.append(title_word(tok.text) if tok.kind == "word" else tok.text)
            last = tok.end
        parts.append(text[last:])
        text = "".join(parts)
    return text


def _head_rank(reading: Reading, features: frozenset[tuple[str, str, str]]) -> tuple[int, int, int]:
    return (
        reading.base_lemma in HEAD_LEMMAS,
        any(f[0] == "sg" for f in features),
        "nazwa_pospolita" in reading.qualifiers,
    )


@lru_cache(maxsize=65536)
def nominative_phrase(text: str) -> Phrase:
    """Put the head noun phrase of ``text`` into the nominative singular (see module doc).

    Cached like `canonicalize`: the scanner asks again for every mention it keeps or links in
    context, and the same names recur from page to page."""
    tokens = tokenize(text)
    feasible: frozenset[tuple[str, str, str]] | None = None
    pre: list[int] = []
    head_index = -1
    head: tuple[Reading, frozenset[tuple[str, str, str]]] | None = None
    for i, tok in enumerate(tokens):
        if tok.kind != "word":
            break
        readings = analyse(tok.text)
        adjectives = [r for r in readings if r.pos == "adj"]
        nouns = [
            r
            for r in readings
            if r.pos == "subst" and r.base_lemma[:1].islower() and (not adjectives or r.base_lemma in HEAD_LEMMAS)
        ]
        options = []
        for noun in nouns:
            shared = noun.features() if feasible is None else noun.features() & feasible
            if shared:
                options.append((noun, shared))
        if options:
            head_index = i
            head = max(options, key=lambda o: _head_rank(*o))
            break
        if not adjectives:
            break
        adj_features = frozenset().union(*(a.features() for a in adjectives))
        feasible = adj_features if feasible is None else feasible & adj_features
        if not feasible:
            break
        pre.append(i)
    if head is None:
        return Phrase(text, None, False)

    head_reading, features = head
    # Invariant nouns ("centrum") have one reading per case: pool the cases of the chosen lemma.
    features = frozenset().union(*(f for r, f in options if r.lemma == head_reading.lemma))
    singular = any(f[0] == "sg" for f in features)
    number = "sg" if singular else "pl"
    gender = sorted(head_reading.genders)[0]
    cases = frozenset(f[1] for f in features if f[0] == number)
    target = "sg" if singular or has_singular(head_reading) else "pl"

    def agreeing(readings: tuple[Reading, ...]) -> Reading | None:
        for r in readings:
            if r.pos == "adj" and r.number == number and r.cases & cases and gender in r.genders:
                return r
        return None

    post: list[int] = []
    j = head_index + 1
    while j < len(tokens) and tokens[j].kind == "word":
        adj = agreeing(analyse(tokens[j].text))
        if adj is None:
            break
        if adj.base_lemma not in POSTPOSED_HEAD_ADJECTIVES and _next_noun_takes(adj, tokens, j + 1):
            break
        post.append(j)
        j += 1

    replacements: dict[int, str] = {}
    for i in (*pre, *post):
        adj = agreeing(analyse(tokens[i].text))
        form = nominative(adj, target, gender) if adj else None
        if form:
            replacements[i] = form
    head_form = nominative(head_reading, target, gender)
    if head_form:
        replacements[head_index] = head_form

    parts: list[str] = []
    last = 0
    for i, tok in enumerate(tokens):
        if i not in replacements:
            continue
        prefix, _, tail = tok.text.rpartition("-")
        new = restore_case(replacements[i], tail)
        parts.append(text[last : tok.start])
        parts.append(f"{prefix}-{new}" if prefix else new)
        last = tok.end
    parts.append(text[last:])
    return Phrase("".join(parts), head_reading.base_lemma, not singular)


def _next_noun_takes(adj: Reading, tokens: list, index: int) -> bool:
    """Whether the word after a postposed adjective is a noun the adjective also agrees with."""
    if index >= len(tokens) or tokens[index].kind != "word":
        return False
    for r in analyse(tokens[index].text):
        if r.pos == "subst" and r.number == adj.number and r.cases & adj.cases and r.genders & adj.genders:
            return True
    return False


def _acronym_entity(text: str) -> Entity | None:
    """Resolve "MCPS", "MCPS-u", "ROPS w Białymstoku", "CIS w Legionowie", "UM WM"."""
    gaz = load()
    if " " in text and all(part.isupper() for part in text.split()):
        whole = gaz.by_acronym(text)
        if whole:
            return whole
    match = _ACRONYM_RE.fullmatch(text)
    if not match:
        return _expanded_acronym(text)
    acronym = match["acr"]
    if sum(ch.isupper() for ch in acronym) < 2 or not _acronym_like(acronym, gaz.known_acronyms()):
        return None
    place = match["place"]
    if place:
        place = " ".join(title_word(w) if w.isupper() else w for w in place.split())
    entity = gaz.by_acronym(acronym, place)
    if entity:
        return entity
    category = categories.by_acronym().get(acronym.upper())
    if category:
        if not place:
            return categories.category_entity(category)
        name = f"{category.name} {place}"
        return gaz.exact(name) or Entity(slugify(name), name, category.acronym, category.kind)
    kinds = gaz.acronym_kinds(acronym)
    name = f"{acronym} {place}" if place else acronym
    kind = next(iter(kinds)) if len(kinds) == 1 else "other"
    return Entity(slugify(name), name, acronym, kind)


def _expanded_acronym(text: str) -> Entity | None:
    """ "ROPS Województwa Śląskiego", "OWES Instytutu …": a category acronym followed by the rest
    of a name is read as the category's full name followed by that rest."""
    first, _, rest = text.partition(" ")
    match = _ACRONYM_RE.fullmatch(first)
    category = categories.by_acronym().get(match["acr"].upper()) if match else None
    if category is None or not rest:
        return None
    name = f"{category.name} {rest}"
    gaz = load()
    found = gaz.exact(name)
    if found:
        return found
    close = _fuzzy(Phrase(name, _head_of(category.name), False))
    if close:
        return close
    return Entity(slugify(name), name, category.acronym, category.kind)


def _acronym_like(word: str, known: set[str]) -> bool:
    """Known acronyms always; unknown all-caps words only when short and not dictionary words."""
    if word.upper() in known or word.upper() in categories.by_acronym():
        return True
    if len(word) > 6:
        return False
    return not any(r.pos in {"subst", "adj"} for r in analyse(word.lower()))


@lru_cache(maxsize=4096)
def _head_of(name: str) -> str | None:
    return nominative_phrase(name).head_lemma


@cache
def _category_matchers() -> tuple[tuple[tuple[categories.Category, SequenceMatcher[str]], ...], QuickRatioBounds]:
    """One matcher per category, its folded name as the second sequence: difflib analyses that
    sequence once and keeps it, so each new mention costs only the comparison (as for the
    gazetteer's names); and the bounds that leave out at once those a mention cannot be close to."""
    keys = [fold(c.name) for c in categories.CATEGORIES]
    matchers = tuple((c, SequenceMatcher(None, "", key)) for c, key in zip(categories.CATEGORIES, keys, strict=True))
    return matchers, QuickRatioBounds(keys)


def _fuzzy(phrase: Phrase) -> Entity | None:
    """Gazetteer names and category names scored together, so a misspelt generic name
    ("Komitetu Rozowju …") is not pulled to a similar specific one. A candidate must keep the
    place and the numbers, and the head noun when both heads are known ("Minister …" is not
    "Ministerstwo …")."""
    scores = load().fuzzy_scores(phrase.canonical)
    body, place = split_place(phrase.canonical)
    if place is None and not any(ch.isdigit() for ch in body):
        key = fold(body)
        matchers, bounds = _category_matchers()
        for category, matcher in map(matchers.__getitem__, bounds.near(key)):
            matcher.set_seq1(key)
            if matcher.real_quick_ratio() < FUZZY_RELEVANT or matcher.quick_ratio() < FUZZY_RELEVANT:
                continue  # cannot win nor be a close runner-up (see gazetteer.FUZZY_RELEVANT)
            entity = categories.category_entity(category)
            scores[entity] = max(matcher.ratio(), scores.get(entity, 0.0))
    if phrase.head_lemma:
        scores = {e: v for e, v in scores.items() if _head_of(e.canonical) in (None, phrase.head_lemma)}
    return pick_with_margin(scores)


def _capitalise(name: str) -> str:
    return name[:1].upper() + name[1:]


@lru_cache(maxsize=65536)
def canonicalize(mention: str) -> Entity:
    """The entity an inflected mention refers to.

    Gazetteer-linked when it names a known institution (exactly, by acronym, or fuzzily with a
    margin and the same place and numbers); the category entity for generic and plural mentions
    ("Ośrodków Wsparcia Ekonomii Społecznej"); otherwise a new entity with the nominative
    singular name and a kind guessed from the name.
    """
    text = normalise_mention(mention)
    acronym_entity = _acronym_entity(text)
    if acronym_entity:
        return acronym_entity
    gaz = load()
    phrase = nominative_phrase(text)
    for name in (phrase.canonical, text):
        found = gaz.exact(name)
        if found:
            return found
        category = categories.by_key().get(fold(name))
        if category:
            return categories.category_entity(category)
    close = _fuzzy(phrase)
    if close:
        return close
    name = _capitalise(phrase.canonical)
    kind, acronym = categories.classify(name, phrase.head_lemma)
    return Entity(slugify(name), name, acronym, kind)
