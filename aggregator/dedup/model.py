"""The two value types of deduplication: what is compared (:class:`Doc`) and the verdict (:class:`Judgement`).

They are plain frozen dataclasses so the database layer, the CLI and the benchmark can build them
without importing anything heavy, and so a verdict can be logged or stored as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

__all__ = ["Doc", "Judgement"]


@dataclass(frozen=True)
class Doc:
    """One announcement as deduplication sees it: where it is, its title and body, when it appeared.

    ``published`` is the publication date of the page when known; it is the reference against which
    ``br.`` and year-less dates in the text are resolved, so it matters for the date comparison.
    ``source_id`` is informative only (the registry id of the site); the decision never uses it,
    because the same story is published by different sources and different stories by one source.
    """

    url: str
    title: str
    text: str
    published: datetime | date | None
    source_id: str | None = None


@dataclass(frozen=True)
class Judgement:
    """The pair decision: ``same`` story or not, a ``score`` in 0..1 and a ``reason`` an operator can read.

    ``score`` is on the same scale as the decision: ``same`` is true exactly when ``score >= 0.5``.
    """

    same: bool
    score: float
    reason: str
