"""Annotation (institutions, dates) and search terms in the crawl's worker processes.

Morphology and date scanning cost milliseconds per announcement; the workers (scrapers.worker_pool)
do them while the crawler goes on. The same job computes the search columns (folded words and
lemmas, db.search.search_fields), which need the same morphology, and the comparison features the
story step after the crawl will need (aggregator.dedup.ahead): computed there, they kept both
cores busy for seconds after the last page. Jobs go over in chunks of `CHUNK` announcements: one
pickling and pipe round trip per chunk, not per page. If the pool breaks the work is done inline
(the features then by the story step), never lost.
"""

from __future__ import annotations

from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime

import numpy as np

from aggregator.annotate import Annotations, annotate
from aggregator.dedup.ahead import FeaturesAhead
from aggregator.dedup.features import Features
from aggregator.dedup.index import compute_ahead
from db.search import search_fields
from scrapers.background_jobs import BackgroundJobs, background
from scrapers.worker_pool import broken, pool

CHUNK = 32  # measured with worker_pool.BATCH (see there)

Prepared = tuple[Annotations, tuple[str, str], tuple[Features, np.ndarray] | None]
# title, lead, body, published, the first sight when it dates the page (annotate.dating_sight),
# whether the story features are wanted
Job = tuple[str, str | None, str, datetime | None, datetime | None, bool]


def prepare(
    title: str, lead: str | None, body: str, published: datetime | None, seen: datetime | None, story: bool = False
) -> Prepared:
    """The worker's job for one announcement: its annotations, search columns and (with `story`)
    the comparison features of the story step."""
    features = compute_ahead(title, body, published) if story else None
    return annotate(title, body, published, seen), search_fields(title, lead, body), features


def prepare_many(jobs: list[Job]) -> list[Prepared]:
    return [prepare(*job) for job in jobs]


class Annotator:
    """Starts annotations early and hands them over when the batch is written."""

    def __init__(self, workers: int, ahead: FeaturesAhead | None = None) -> None:
        self.workers = workers
        self.ahead = ahead  # where the story features go once their announcement is written
        # key → (the future of its chunk, its place in the chunk)
        self.pending: dict[tuple[str, str], tuple[Future[list[Prepared]], int]] = {}
        self.queued: dict[tuple[str, str], Job] = {}  # started, not yet sent (an incomplete chunk)
        self.lane: BackgroundJobs | None = None  # where sent chunks wait for room in the pool

    def start(self, key: tuple[str, str], title: str, body: str, published: datetime | None, seen: datetime | None,
              lead: str | None = None) -> None:  # fmt: skip
        if self.workers <= 0 or key in self.pending or key in self.queued:
            return
        self.queued[key] = (title, lead, body, published, seen, self.ahead is not None)
        if len(self.queued) >= CHUNK:
            self.send()

    def send(self) -> None:
        """Send the queued jobs now, an incomplete chunk included."""
        queued, self.queued = self.queued, {}
        executor = pool(self.workers)
        if executor is None or not queued:
            return
        # behind the page reads the crawl waits for (scrapers.background_jobs); a pool that broke
        # meanwhile answers with BrokenProcessPool, handled where the result is read
        self.lane = background(executor, self.workers)
        future = self.lane.submit(prepare_many, list(queued.values()))
        for place, key in enumerate(queued):
            self.pending[key] = (future, place)

    def ready(self, key: tuple[str, str]) -> bool:
        """Whether `result`/`search` for `key` would answer without waiting for the worker."""
        if key in self.queued:
            return False
        entry = self.pending.get(key)
        return entry is None or entry[0].done()

    def _prepared(self, key: tuple[str, str], *, keep: bool) -> Prepared | None:
        if key in self.queued:
            self.send()  # needed now: send the incomplete chunk
        entry = self.pending.get(key) if keep else self.pending.pop(key, None)
        if entry is None:
            return None
        future, place = entry
        if self.lane is not None and self.lane.held and not future.done():
            # needed now, and the rest of the batch next: no more waiting in line for any of them
            # (once nothing is held, as for every later item of a blocking write, nothing to scan)
            self.lane.expedite(*{id(f): f for f, _ in self.pending.values() if not f.done()}.values())
        try:
            return future.result()[place]
        except BrokenProcessPool as exc:
            broken(exc)
            self.workers = 0
            self.pending.clear()
            return None

    def result(self, key: tuple[str, str], title: str, body: str, published: datetime | None,
               seen: datetime | None) -> Annotations:  # fmt: skip
        """The annotations (computed ahead when started, else now); the job is done with then."""
        prepared = self._prepared(key, keep=False)
        if prepared is None:
            return annotate(title, body, published, seen)
        if self.ahead is not None and prepared[2] is not None:
            self.ahead.put(title, body, *prepared[2])
        return prepared[0]

    def search(self, key: tuple[str, str], title: str, lead: str | None, body: str) -> tuple[str, str]:
        """The search columns (computed ahead when started, else now); `result` still follows."""
        prepared = self._prepared(key, keep=True)
        return prepared[1] if prepared is not None else search_fields(title, lead, body)

    def forget(self, keys: list[tuple[str, str]]) -> None:
        """Drop jobs whose batch failed (a chunk still running just goes unread)."""
        for key in keys:
            self.queued.pop(key, None)
            self.pending.pop(key, None)
