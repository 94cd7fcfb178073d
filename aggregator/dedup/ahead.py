"""Comparison features computed ahead of the story step, while the crawl still runs.

The story step after a crawl needs the features and signatures of every new announcement. Computed
there, they are most of the step's work, and the crawl is over: nothing else keeps the cores
busy. The crawl's worker processes already read each new page's text for its annotations, so the
same job computes its features too (`scrapers.annotation_pool`), and they wait here until the story
step takes them (`StoryIndex.add_many(..., ahead=...)`).

An entry is found by the title and text it was computed from, and used only when the publication
date the features hold is the one of the row the story step reads: whatever the crawl stored
differently (a title cleaned on the way, an edited page) is computed again, so the decisions are
the same as without this.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace
from datetime import UTC, date, datetime

import numpy as np

from aggregator.dedup.features import Features, _as_date
from aggregator.dedup.model import Doc

__all__ = ["CAPACITY", "FeaturesAhead", "for_run", "release", "story_doc"]

# Entries kept at most (the oldest go first): about 3 kB of features each, plus its text, which
# stays in memory until the story step (at most about 120 MB). A crawl with more new pages than
# this (a first crawl of every source) has the rest computed by the story step, as before.
CAPACITY = 20_000


def story_doc(title: str, text: str, published: datetime | date | None) -> Doc:
    """The :class:`Doc` the story step will build from the stored row: the publication time in
    UTC, as the database gives it back (its Warsaw day is what the features keep)."""
    if isinstance(published, datetime) and published.tzinfo is not None:
        published = published.astimezone(UTC)
    return Doc(url="", title=title, text=text, published=published)


class FeaturesAhead:
    """Features and signatures by (title, text), for :meth:`StoryIndex.add_many`."""

    def __init__(self, num_perm: int, seed: int, capacity: int = CAPACITY) -> None:
        self.num_perm = num_perm  # the signatures' parameters: an index with others ignores them
        self.seed = seed
        self.capacity = capacity
        self._entries: OrderedDict[tuple[str, str], tuple[date | None, Features, np.ndarray]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def put(self, title: str, text: str, feats: Features, sig: np.ndarray) -> None:
        """Keep what a worker computed for this title and text (``feats.published`` is its date)."""
        key = (title, text)
        self._entries[key] = (feats.published, feats, sig)
        self._entries.move_to_end(key)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def get(self, doc: Doc) -> tuple[Features, np.ndarray] | None:
        """The features computed ahead for ``doc``, holding its text as the index keeps them, or
        None (compute them). A copy for each caller; the arrays are shared (nothing writes to them)."""
        text = doc.text or ""
        entry = self._entries.get((doc.title or "", text))
        if entry is None or entry[0] != _as_date(doc.published):
            self.misses += 1
            return None
        self.hits += 1
        _, feats, sig = entry
        return replace(feats, text=text), sig


# The features computed during each crawl run of this process, by run id: the pipeline that fills
# them is built by Scrapy from settings (which it copies), the story step after the crawl reads them.
_RUNS: dict[str, FeaturesAhead] = {}


def for_run(run_id: str) -> FeaturesAhead:
    """The features of crawl run ``run_id`` (created empty on first use), for the story index's
    default signatures: those `compute_ahead` computes and the story step indexes with."""
    if run_id not in _RUNS:
        from aggregator.dedup.index import NUM_PERM, SEED  # the index module imports this one

        _RUNS[run_id] = FeaturesAhead(NUM_PERM, SEED)
    return _RUNS[run_id]


def release(run_id: str) -> None:
    """Forget the features of a run whose story step is over."""
    _RUNS.pop(run_id, None)
