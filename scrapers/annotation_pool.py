"""Annotation (institutions, dates) and search terms in a worker process, in parallel with the crawl.

Morphology and date scanning cost several milliseconds per announcement, more than fetching and
parsing the page; on a 2-core machine a second process does them while the crawler goes on. The
same job computes the search columns (folded words and lemmas, db.search.search_fields), which
need the same morphology. One pool per crawl process, shared by all spiders (each worker loads
morfeusz2 once). If the pool breaks the work is done inline, never lost.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime

from aggregator.annotate import Annotations, annotate
from db.search import search_fields

log = logging.getLogger(__name__)
_pool: ProcessPoolExecutor | None = None

Prepared = tuple[Annotations, tuple[str, str]]


def default_workers() -> int:
    """One core for the crawl, the rest (at most two) for annotation."""
    return max(0, min(2, (os.cpu_count() or 1) - 1))


def _warm_up() -> None:
    annotate("", "Regionalny Ośrodek Polityki Społecznej w Białymstoku, 1 marca 2024 r.", None, datetime.now())


def prepare(title: str, lead: str | None, body: str, published: datetime | None, seen: datetime) -> Prepared:
    """The worker's job: annotations and search columns of one announcement."""
    return annotate(title, body, published, seen), search_fields(title, lead, body)


def pool(workers: int) -> ProcessPoolExecutor | None:
    global _pool
    if workers <= 0:
        return None
    if _pool is None:
        context = multiprocessing.get_context("spawn")  # never fork a process that runs a reactor
        _pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_warm_up)
        atexit.register(_pool.shutdown, wait=False, cancel_futures=True)
    return _pool


class Annotator:
    """Starts annotations early and hands them over when the batch is written."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pending: dict[tuple[str, str], Future[Prepared]] = {}

    def start(self, key: tuple[str, str], title: str, body: str, published: datetime | None, seen: datetime,
              lead: str | None = None) -> None:  # fmt: skip
        executor = pool(self.workers)
        if executor is None or key in self.pending:
            return
        try:
            self.pending[key] = executor.submit(prepare, title, lead, body, published, seen)
        except (BrokenProcessPool, RuntimeError) as exc:
            log.warning("annotation worker unavailable (%s); annotating inline", exc)
            self.workers = 0

    def _prepared(self, key: tuple[str, str], *, keep: bool) -> Prepared | None:
        future = self.pending.get(key) if keep else self.pending.pop(key, None)
        if future is None:
            return None
        try:
            return future.result()
        except BrokenProcessPool as exc:
            log.warning("annotation worker died (%s); annotating inline", exc)
            self.workers = 0
            self.pending.pop(key, None)
            return None

    def result(self, key: tuple[str, str], title: str, body: str, published: datetime | None,
               seen: datetime) -> Annotations:  # fmt: skip
        """The annotations (computed ahead when started, else now); the job is done with then."""
        prepared = self._prepared(key, keep=False)
        return prepared[0] if prepared is not None else annotate(title, body, published, seen)

    def search(self, key: tuple[str, str], title: str, lead: str | None, body: str) -> tuple[str, str]:
        """The search columns (computed ahead when started, else now); `result` still follows."""
        prepared = self._prepared(key, keep=True)
        return prepared[1] if prepared is not None else search_fields(title, lead, body)

    def forget(self, keys: list[tuple[str, str]]) -> None:
        for key in keys:
            future = self.pending.pop(key, None)
            if future is not None:
                future.cancel()
