"""The known names closest to a mistyped one: what the registry's errors suggest ("did you mean …?").

Source ids and the gazetteer's institution keys are lower-case ASCII words joined by hyphens, so
what was typed is folded the same way first: "ROPS Kraków" is close to `rops-krakow`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from aggregator.diacritics import strip_diacritics


def closest(typed: str, known: Iterable[str]) -> list[str]:
    """The known names closest to `typed`, and those nearly as close ("mcp": mcps, not mcps-es as
    well); none when nothing is close."""
    folded = "-".join(strip_diacritics(typed).lower().split())
    matches = difflib.get_close_matches(folded, list(known), n=3)
    scores = {name: difflib.SequenceMatcher(None, folded, name).ratio() for name in matches}
    return [name for name, score in scores.items() if score >= max(scores.values()) - 0.1] if scores else []
