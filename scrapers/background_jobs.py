"""Jobs for the worker pool that no request is waiting for, held back so that those that are go first.

The pool (scrapers.worker_pool) runs its jobs first in, first out. Two kinds share it: reading a
fetched page (an article's extraction, a REST API page's posts), which the crawl awaits before it
can go on — the next API page is only requested once the previous one is read — and annotating
the announcements already read, which only the storage of a batch waits for, with a backlog of
ten batches to spare. Sent as soon as they were ready, the annotation jobs queued up by the
hundred and every page read waited behind them: on the benchmark (benchmarks/bench_crawl.py) each
of the 25 REST API pages waited 3–4 s, and the API source took most of the crawl to read.

So background jobs go to the pool only while fewer than `AHEAD_PER_WORKER` per worker are queued
or running; the rest wait here, in order, and leave one by one as those finish. A page read then
waits behind a few of them at most. Whoever needs a held job's result now calls `expedite`.
Without an event loop in this thread (a job finishing tells the loop to send the next) nothing is
held: every job goes straight to the pool, as before.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

# Background jobs queued or running in the pool per worker, at most: one to work on and one ready,
# so a worker never waits for the event loop to send it the next
AHEAD_PER_WORKER = 2


class BackgroundJobs:
    """The held jobs of one pool, sent in order as the pool has room for them."""

    def __init__(self, executor: ProcessPoolExecutor, workers: int) -> None:
        self.executor = executor
        self.limit = max(1, workers * AHEAD_PER_WORKER)
        self.in_pool = 0
        self.held: deque[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]] = deque()
        self.loop: asyncio.AbstractEventLoop | None = None

    def submit(self, function: Callable[..., Any], *args: Any) -> Future[Any]:
        """`function(*args)` in the pool, now or once it has room; the future is the job's own."""
        try:
            self.loop = asyncio.get_running_loop()
        except RuntimeError:
            self.loop = None
        outer: Future[Any] = Future()
        self.held.append((outer, function, args))
        if self.loop is None:  # no loop to hear of finished jobs: nothing is held
            self.expedite(outer)
        else:
            self.pump()
        return outer

    def expedite(self, *outers: Future[Any]) -> None:
        """Send these held jobs now, in order, whatever the pool holds: their results are needed at
        once (the caller will block, and while it does the loop sends nothing)."""
        wanted = {id(outer) for outer in outers}
        if not wanted:
            return
        keep: deque[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]] = deque()
        launch = []
        for entry in self.held:
            (launch if id(entry[0]) in wanted else keep).append(entry)
        self.held = keep
        for entry in launch:
            self._launch(*entry)

    def pump(self) -> None:
        """Send held jobs while the pool has room."""
        while self.held and self.in_pool < self.limit:
            self._launch(*self.held.popleft())

    def _launch(self, outer: Future[Any], function: Callable[..., Any], args: tuple[Any, ...]) -> None:
        if not outer.set_running_or_notify_cancel():
            return
        try:
            inner = self.executor.submit(function, *args)
        except RuntimeError as exc:  # BrokenProcessPool, or a pool already shut down
            outer.set_exception(exc if isinstance(exc, BrokenProcessPool) else BrokenProcessPool(str(exc)))
            return
        self.in_pool += 1
        inner.add_done_callback(lambda done: self._finished(done, outer))

    def _finished(self, inner: Future[Any], outer: Future[Any]) -> None:
        """In the pool's own thread: hand the result over, and tell the loop there is room."""
        exc = inner.exception()
        if exc is not None:
            outer.set_exception(exc)
        else:
            outer.set_result(inner.result())
        loop = self.loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self._room)
                return
            except RuntimeError:  # the loop closed meanwhile
                pass
        self.in_pool -= 1  # no loop to send the next from (never from this thread): `expedite` will

    def _room(self) -> None:
        self.in_pool -= 1
        self.pump()


_lanes: dict[int, BackgroundJobs] = {}


def background(executor: ProcessPoolExecutor, workers: int) -> BackgroundJobs:
    """The held jobs of `executor` (one queue per pool, shared by every spider's pipeline)."""
    lane = _lanes.get(id(executor))
    if lane is None or lane.executor is not executor:
        lane = _lanes[id(executor)] = BackgroundJobs(executor, workers)
    return lane
