"""Value types of the entity layer.

They are frozen dataclasses so that entities can be dictionary keys, cached results can be shared
safely between callers, and the database layer can compare them by value.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The institution kinds the feed distinguishes (lower-case English snake_case, stable: they are
#: stored in the database and used as filter values).
KINDS: tuple[str, ...] = (
    "regional_social_policy_centre",
    "marshal_office",
    "regional_government",  # the voivodeship board (Zarząd) and assembly (Sejmik)
    "council",  # advisory councils: Rada Seniorów, Rada Działalności Pożytku Publicznego …
    "ministry",
    "national_body",
    "regional_committee",
    "owes",
    "cis",
    "kis",
    "zaz",
    "wtz",
    "social_cooperative",
    "foundation",
    "association",
    "social_welfare_centre",
    "pcpr",
    "university",
    "other",
)


@dataclass(frozen=True)
class Entity:
    """One institution (or one institution category) with its canonical nominative name.

    ``key`` is a stable slug: the gazetteer's own key for known institutions, a slug of the
    canonical name otherwise, so the same name always yields the same key across runs.
    """

    key: str
    canonical: str
    acronym: str | None
    kind: str
    voivodeship: str | None = None
    website: str | None = None


@dataclass(frozen=True)
class Mention:
    """One occurrence of an institution in a text: the surface form, its offsets, its entity."""

    text: str
    char_start: int
    char_end: int
    entity: Entity
