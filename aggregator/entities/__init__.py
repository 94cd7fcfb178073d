"""Institution names: find them in text, bring them back to one canonical name, link them.

Public API (other layers rely on these names):
- :class:`Entity`, :class:`Mention` — frozen value types;
- :func:`canonicalize` — an inflected mention → its entity;
- :func:`extract_mentions` — every institution mention in a text, in order;
- :func:`analyse_text` — the same, but a text that is one name gives exactly one mention;
- :func:`gazetteer` — the known institutions.
See DESIGN.md §3 for the approach and the morfeusz2 pitfalls it handles.
"""

from __future__ import annotations

from aggregator.entities.canonical import canonicalize
from aggregator.entities.extract import analyse_text, extract_mentions
from aggregator.entities.gazetteer import load as _load_gazetteer
from aggregator.entities.model import KINDS, Entity, Mention


def gazetteer() -> list[Entity]:
    """The known institutions (regional centres, marshal offices, ministries, national bodies,
    regional committees …), in the gazetteer's order."""
    return list(_load_gazetteer().entities)


__all__ = ["KINDS", "Entity", "Mention", "analyse_text", "canonicalize", "extract_mentions", "gazetteer"]
