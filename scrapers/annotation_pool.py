"""Annotation (institutions, dates) and search terms in a worker process, in parallel with the crawl.

Morphology and date scanning cost several milliseconds per announcement, more than fetching and
parsing the page; on a 2-core machine a second process does them while the crawler goes on. The
same job computes the search columns (folded words and lemmas, db.search.search_fields), which
need the same morphology. One pool per crawl process, shared by all spiders (each worker loads
morfeusz2 once). If the pool breaks the work is done inline, never lost.

Start-up and hand-over are kept cheap, since they compete with the crawl for the same two cores:
`ropsfeed crawl` forks the worker before the reactor or any thread exists (`start_early`), so it
inherits the imported modules instead of importing them again (a spawned worker re-imports the whole
CLI, seconds on a busy machine); elsewhere (Scrapyd, a process with threads) it is spawned. Jobs go
over in chunks of `CHUNK` announcements: one pickling and pipe round trip per chunk, not per page.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime

from aggregator.annotate import Annotations, annotate
from db.search import search_fields

log = logging.getLogger(__name__)
_pool: ProcessPoolExecutor | None = None
CHUNK = 16

Prepared = tuple[Annotations, tuple[str, str]]
Job = tuple[str, str | None, str, datetime | None, datetime]  # title, lead, body, published, seen


def default_workers() -> int:
    """One core for the crawl, the rest (at most two) for annotation."""
    return max(0, min(2, (os.cpu_count() or 1) - 1))


def _warm_up() -> None:
    annotate("", "Regionalny Ośrodek Polityki Społecznej w Białymstoku, 1 marca 2024 r.", None, datetime.now())


def prepare(title: str, lead: str | None, body: str, published: datetime | None, seen: datetime) -> Prepared:
    """The worker's job for one announcement: its annotations and search columns."""
    return annotate(title, body, published, seen), search_fields(title, lead, body)


def prepare_many(jobs: list[Job]) -> list[Prepared]:
    return [prepare(*job) for job in jobs]


def _can_fork() -> bool:
    """Forking is safe only in a process with no other thread (none can hold a lock mid-fork)."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def pool(workers: int, *, fork: bool = False) -> ProcessPoolExecutor | None:
    global _pool
    if workers <= 0:
        return None
    if _pool is None:
        # never fork a process that runs a reactor: `fork` only comes from start_early
        context = multiprocessing.get_context("fork" if fork and _can_fork() else "spawn")
        _pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_warm_up)
        atexit.register(_pool.shutdown, wait=False, cancel_futures=True)
    return _pool


def running() -> ProcessPoolExecutor | None:
    """The pool of this process, if one was started (the story step after a crawl reuses it)."""
    return _pool


def start_early(workers: int) -> None:
    """Start the worker pool now, before the reactor: forked when no thread runs yet.

    A forked pool launches its processes with the first job, so one is sent at once; the
    pipelines of the crawl that follows find this pool (`pool`) instead of starting another.
    """
    executor = pool(workers, fork=True)
    if executor is not None:
        executor.submit(os.getpid)


class Annotator:
    """Starts annotations early and hands them over when the batch is written."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        # key → (the future of its chunk, its place in the chunk)
        self.pending: dict[tuple[str, str], tuple[Future[list[Prepared]], int]] = {}
        self.queued: dict[tuple[str, str], Job] = {}  # started, not yet sent (an incomplete chunk)

    def start(self, key: tuple[str, str], title: str, body: str, published: datetime | None, seen: datetime,
              lead: str | None = None) -> None:  # fmt: skip
        if self.workers <= 0 or key in self.pending or key in self.queued:
            return
        self.queued[key] = (title, lead, body, published, seen)
        if len(self.queued) >= CHUNK:
            self.send()

    def send(self) -> None:
        """Send the queued jobs now, an incomplete chunk included."""
        queued, self.queued = self.queued, {}
        executor = pool(self.workers)
        if executor is None or not queued:
            return
        try:
            future = executor.submit(prepare_many, list(queued.values()))
        except (BrokenProcessPool, RuntimeError) as exc:
            log.warning("annotation worker unavailable (%s); annotating inline", exc)
            self.workers = 0
            return
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
        try:
            return future.result()[place]
        except BrokenProcessPool as exc:
            log.warning("annotation worker died (%s); annotating inline", exc)
            self.workers = 0
            self.pending.clear()
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
        """Drop jobs whose batch failed (a chunk still running just goes unread)."""
        for key in keys:
            self.queued.pop(key, None)
            self.pending.pop(key, None)
