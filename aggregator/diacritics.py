"""Polish text without diacritics ("Łódź" → "Lodz"): the base of every folded key we match on."""

from __future__ import annotations

import unicodedata


def strip_diacritics(text: str) -> str:
    """`text` with its combining marks removed after NFKD, and ł/Ł (which NFKD leaves whole) as l/L.

    Runs for every stored page and every mention (search terms, entity keys), so it stays in C:
    str.replace rather than str.translate (a table look-up per character), and the combining marks
    are found among the distinct characters and each dropped in one pass, not tested one by one.
    """
    decomposed = unicodedata.normalize("NFKD", text.replace("ł", "l").replace("Ł", "L"))
    if not decomposed.isascii():
        for mark in [ch for ch in set(decomposed) if unicodedata.combining(ch)]:
            decomposed = decomposed.replace(mark, "")
    return decomposed
