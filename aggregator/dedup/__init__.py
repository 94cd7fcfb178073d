"""Deduplication: one record per announcement, one story per cross-posted event (DESIGN.md §1, §4).

Public API (the database layer and the CLI use these names):

* :class:`Doc`, :class:`Judgement` – what is compared and the verdict;
* :func:`normalise_text`, :func:`fingerprint` – the exact-duplicate key;
* :func:`judge` – the pair decision, with a score and a reason an operator can read;
* :class:`StoryIndex`, :func:`signature` – the incremental near-duplicate index (MinHash/LSH),
  whose cost grows linearly with the number of announcements.

Modules: ``normalise`` (tokens, boilerplate, fingerprint), ``features`` (shingles, titles, dates),
``judge`` (the decision), ``index`` (the story index).
"""

from aggregator.dedup.index import StoryIndex, signature
from aggregator.dedup.judge import judge
from aggregator.dedup.model import Doc, Judgement
from aggregator.dedup.normalise import fingerprint, normalise_text

__all__ = ["Doc", "Judgement", "StoryIndex", "fingerprint", "judge", "normalise_text", "signature"]
