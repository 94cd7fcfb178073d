"""Institution categories: generic names ("Ośrodek Wsparcia Ekonomii Społecznej") with their kind
and acronym, and the rules that give an unknown institution its kind.

A category is itself an entity: a plural mention ("Centrów Integracji Społecznej") or a bare
acronym ("OWES-ów") links to it, so analysts can count category mentions too.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from aggregator.entities.model import Entity
from aggregator.entities.text import fold, slugify


@dataclass(frozen=True)
class Category:
    """A generic institution name, nominative singular, with its kind and usual acronym."""

    name: str
    kind: str
    acronym: str | None


CATEGORIES: tuple[Category, ...] = (
    Category("Regionalny Ośrodek Polityki Społecznej", "regional_social_policy_centre", "ROPS"),
    Category("Urząd Marszałkowski", "marshal_office", None),
    Category("Regionalny Komitet Rozwoju Ekonomii Społecznej", "regional_committee", "RKRES"),
    Category("Ośrodek Wsparcia Ekonomii Społecznej", "owes", "OWES"),
    Category("Centrum Integracji Społecznej", "cis", "CIS"),
    Category("Klub Integracji Społecznej", "kis", "KIS"),
    Category("Zakład Aktywności Zawodowej", "zaz", "ZAZ"),
    Category("Warsztat Terapii Zajęciowej", "wtz", "WTZ"),
    Category("Spółdzielnia Socjalna", "social_cooperative", None),
    Category("Ośrodek Pomocy Społecznej", "social_welfare_centre", "OPS"),
    Category("Miejski Ośrodek Pomocy Społecznej", "social_welfare_centre", "MOPS"),
    Category("Gminny Ośrodek Pomocy Społecznej", "social_welfare_centre", "GOPS"),
    Category("Miejsko-Gminny Ośrodek Pomocy Społecznej", "social_welfare_centre", "MGOPS"),
    Category("Miejski Ośrodek Pomocy Rodzinie", "social_welfare_centre", "MOPR"),
    Category("Centrum Pomocy Społecznej", "social_welfare_centre", "CPS"),
    Category("Centrum Usług Społecznych", "social_welfare_centre", "CUS"),
    Category("Powiatowe Centrum Pomocy Rodzinie", "pcpr", "PCPR"),
    Category("Miejskie Centrum Pomocy Rodzinie", "pcpr", "MCPR"),
    Category("Dom Pomocy Społecznej", "other", "DPS"),
    Category("Środowiskowy Dom Samopomocy", "other", "ŚDS"),
    Category("Powiatowy Urząd Pracy", "other", "PUP"),
    Category("Wojewódzki Urząd Pracy", "other", "WUP"),
    Category("Podmiot Ekonomii Społecznej", "other", "PES"),
)

#: Acronyms worth finding in running text (PES is a sector word, not an institution).
EXTRACTED_CATEGORY_ACRONYMS: frozenset[str] = frozenset(
    c.acronym for c in CATEGORIES if c.acronym and c.acronym != "PES"
)


def category_entity(category: Category) -> Entity:
    """The entity standing for a whole category."""
    return Entity(slugify(category.name), category.name, category.acronym, category.kind)


@cache
def by_key() -> dict[str, Category]:
    """Categories indexed by folded name."""
    return {fold(c.name): c for c in CATEGORIES}


@cache
def by_acronym() -> dict[str, Category]:
    """Categories indexed by upper-case acronym."""
    return {c.acronym.upper(): c for c in CATEGORIES if c.acronym}


@cache
def _longest_first() -> tuple[tuple[Category, str], ...]:
    """Categories with their folded names, longest name first (the most specific one wins)."""
    return tuple((c, fold(c.name)) for c in sorted(CATEGORIES, key=lambda c: -len(c.name)))


# Substring rules for names that contain a category phrase after other words
# ("Kielecko-Ostrowiecki Ośrodek Wsparcia Ekonomii Społecznej").
_CONTAINS_RULES: tuple[tuple[str, str], ...] = (
    ("osrodek wsparcia ekonomii spolecznej", "owes"),
    ("osrodek wspierania ekonomii spolecznej", "owes"),
    ("centrum integracji spolecznej", "cis"),
    ("klub integracji spolecznej", "kis"),
    ("zaklad aktywnosci zawodowej", "zaz"),
    ("warsztat terapii zajeciowej", "wtz"),
    ("centrum pomocy rodzinie", "pcpr"),
    ("osrodek pomocy spolecznej", "social_welfare_centre"),
    ("centrum pomocy spolecznej", "social_welfare_centre"),
    ("osrodek pomocy rodzinie", "social_welfare_centre"),
    ("centrum uslug spolecznych", "social_welfare_centre"),
    ("osrodek polityki spolecznej", "regional_social_policy_centre"),
    ("centrum polityki spolecznej", "regional_social_policy_centre"),
    ("krajowy komitet rozwoju ekonomii spolecznej", "national_body"),
    ("komitet rozwoju ekonomii spolecznej", "regional_committee"),
    ("komitet ekonomii spolecznej", "regional_committee"),
    ("urzad marszalkowski", "marshal_office"),
)

# Kinds by head noun lemma, for names that match no category phrase.
_HEAD_KINDS: dict[str, str] = {
    "spółdzielnia": "social_cooperative",
    "fundacja": "foundation",
    "stowarzyszenie": "association",
    "towarzystwo": "association",
    "federacja": "association",
    "związek": "association",
    "ministerstwo": "ministry",
    "rada": "council",  # boards ("Zarząd …") stay "other": only the 32 voivodeship ones are in the gazetteer
    "uniwersytet": "university",
    "politechnika": "university",
    "uczelnia": "university",
    "akademia": "university",
}

# Cooperatives that are not social cooperatives (work, disabled people's, housing, farming …).
_OTHER_COOPERATIVES = (
    "spoldzielnia pracy",
    "spoldzielnia inwalidow",
    "spoldzielnia niewidomych",
    "spoldzielnia mieszkaniowa",
    "spoldzielnia produkcji",
    "spoldzielnia rolnicza",
)
_UNIVERSITY_SCHOOLS = ("wyzsza szkola", "szkola wyzsza", "szkola glowna", "szkola biznesu")
_COMPANY_MARKS = (" s a", " sa", " sp z o o")


def classify(canonical: str, head_lemma: str | None) -> tuple[str, str | None]:
    """Kind and acronym of a name that is not in the gazetteer.

    The acronym is the category's only when the name *starts* with the category phrase
    ("Centrum Integracji Społecznej w Legionowie" is a CIS); a name that merely contains it
    ("Mazowiecki Ośrodek Wsparcia Ekonomii Społecznej") has its own acronym, which we do not guess.
    """
    key = fold(canonical)
    for cat, cat_key in _longest_first():
        if key == cat_key or key.startswith(cat_key + " "):
            return cat.kind, cat.acronym
    for phrase, kind in _CONTAINS_RULES:
        if phrase in key:
            return kind, None
    if any(key.endswith(mark) for mark in _COMPANY_MARKS):
        return "other", None
    if any(coop in key for coop in _OTHER_COOPERATIVES):
        return "other", None
    if any(school in key for school in _UNIVERSITY_SCHOOLS):
        return "university", None
    kind = _HEAD_KINDS.get(head_lemma or "", "other")
    if kind == "university" and head_lemma == "akademia" and ("ekonomii spolecznej" in key or "liderow" in key):
        kind = "other"  # "Akademia Rozwoju Ekonomii Społecznej" is a project, not a school
    return kind, None
