"""The crawl's worker processes: page extraction and annotation run there, beside the crawl.

Parsing an article page (BeautifulSoup), reading a REST API page, finding institutions and dates
cost more CPU per page than fetching it; in the reactor's one thread they would stop the
downloads meanwhile. On a machine with more than one core, worker processes do them while the
crawler goes on. One pool per crawl process, shared by every spider and the storage pipeline
(each worker loads morfeusz2 once). If the pool breaks, the work is done inline, never lost.

Start-up is kept cheap, since it competes with the crawl for the same cores: `ropsfeed crawl`
forks the workers before the reactor or any thread exists (`start_early`), so they inherit the
imported modules instead of importing them again (a spawned worker re-imports the whole CLI,
seconds on a busy machine); elsewhere (Scrapyd, a process with threads) they are spawned.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from typing import ParamSpec, TypeVar

from scrapy.utils.asyncio import is_asyncio_available

from scrapers.heap import tune_worker

log = logging.getLogger(__name__)
_pool: ProcessPoolExecutor | None = None
_broken = False

P = ParamSpec("P")
T = TypeVar("T")


def configured_workers() -> int:
    """`ROPSFEED_ANNOTATION_WORKERS` (0: everything inline), else `default_workers()`; anything but a
    whole number of 0 or more is refused, naming the setting (`abc` said only "invalid literal for
    int() with base 10")."""
    value = os.environ.get("ROPSFEED_ANNOTATION_WORKERS", "").strip()
    if not value:
        return default_workers()
    if not value.isdigit():
        raise ValueError(f"ROPSFEED_ANNOTATION_WORKERS must be a whole number of 0 or more, not {value!r}")
    return int(value)


def default_workers() -> int:
    """As many workers as cores (at most three), none on one core.

    The crawl process waits for the workers part of the time, so one worker per core beside it
    keeps both cores of a 2-core machine busier than one worker does (benchmarks/bench_crawl.py:
    about 5 % shorter crawls); on one core a worker only adds the cost of handing pages over.
    """
    cores = os.cpu_count() or 1
    return 0 if cores < 2 else min(3, cores)


# Niceness of the workers. The crawl process hands them their work and stores what they return:
# when all three compete for two cores as equals, it gets two thirds of one and the workers wait
# for it. Behind it, they get what it leaves (benchmarks/bench_crawl.py: about 6 % shorter).
WORKER_NICE = 10


def _warm_up() -> None:
    try:
        os.nice(WORKER_NICE)
    except OSError as exc:  # not allowed here (a sandbox): the workers just run at the same priority
        log.debug("worker niceness unchanged: %s", exc)
    from scrapers.extraction.article import warm_up

    warm_up()  # the first job is an article page
    from aggregator.annotate import annotate  # morfeusz2 and the gazetteer load here, once per worker

    # "wczoraj" loads dateparser (relative dates): half a second, better spent before the first page
    annotate("", "Regionalny Ośrodek Polityki Społecznej w Białymstoku, 1 marca 2024, wczoraj.", None, datetime.now())
    tune_worker()


def _can_fork() -> bool:
    """Forking is safe only in a process with no other thread (none can hold a lock mid-fork)."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def pool(workers: int, *, fork: bool = False) -> ProcessPoolExecutor | None:
    """The process's pool, started with `workers` processes if there is none yet (0: none)."""
    global _pool
    if workers <= 0 or _broken:
        return None
    if _pool is None:
        # never fork a process that runs a reactor: `fork` only comes from start_early
        context = multiprocessing.get_context("fork" if fork and _can_fork() else "spawn")
        _pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_warm_up)
        atexit.register(_pool.shutdown, wait=False, cancel_futures=True)
    return _pool


def running() -> ProcessPoolExecutor | None:
    """The pool of this process, if one was started (the story step after a crawl reuses it)."""
    return None if _broken else _pool


def broken(exc: BaseException) -> None:
    """A worker died: the rest of the crawl works inline (a broken pool accepts no more jobs)."""
    global _broken
    if not _broken:
        log.warning("worker process unavailable (%s: %s); working inline", type(exc).__name__, exc)
    _broken = True


def start_early(workers: int) -> None:
    """Start the worker pool now, before the reactor: forked when no thread runs yet.

    A forked pool launches its processes with the first job, so one is sent at once; the
    spiders and pipelines of the crawl that follows find this pool (`pool`) instead of starting another.
    """
    executor = pool(workers, fork=True)
    if executor is not None:
        executor.submit(os.getpid)


# Jobs of one function sent to a worker in one round trip, at most. Every job handed to the pool
# costs the crawl process a pickling, a wake-up of the pool's threads and of the event loop; pages
# that arrive together (one turn of the event loop) go as one batch instead (benchmarks/bench_crawl.py).
# 16 rather than 8, with annotation_pool.CHUNK 32 rather than 16: 8 interleaved pairs of crawls of the
# benchmark's 5,000 pages, the larger ones shorter in 7 (by ~7 % on average, ~1 CPU s less).
BATCH = 16
# function → the jobs waiting for the end of this turn of the event loop: (args, kwargs, its future)
_waiting: dict[Callable[..., object], list[tuple[tuple[object, ...], dict[str, object], asyncio.Future[object]]]] = {}
_INLINE = object()  # a job's answer when the pool could not do it: run it here


def run_batch(
    function: Callable[..., T], jobs: list[tuple[tuple[object, ...], dict[str, object]]]
) -> list[tuple[bool, object]]:
    """Worker side of a batch: each job's result or the exception it raised, in order (one job's
    exception is its own, not the batch's)."""
    answers: list[tuple[bool, object]] = []
    for args, kwargs in jobs:
        try:
            answers.append((True, function(*args, **kwargs)))
        except Exception as exc:
            answers.append((False, exc))
    return answers


def _send(function: Callable[..., object], executor: ProcessPoolExecutor) -> None:
    """Hand the waiting jobs of `function` to the pool as one batch."""
    jobs = _waiting.pop(function, None)
    if not jobs:
        return
    waiters = [waiter for _, _, waiter in jobs]
    try:
        future = executor.submit(run_batch, function, [(args, kwargs) for args, kwargs, _ in jobs])
    except RuntimeError as exc:  # BrokenProcessPool, or a pool already shut down
        broken(exc)
        _answer(waiters, [(True, _INLINE)] * len(waiters))
        return

    def delivered(done: asyncio.Future[list[tuple[bool, object]]]) -> None:
        try:
            answers = done.result()
        except BrokenProcessPool as exc:  # a worker died with the batch
            broken(exc)
            answers = [(True, _INLINE)] * len(waiters)
        except Exception as exc:  # the batch could not come back (an answer that does not pickle)
            log.debug("a batch of %d jobs came back broken (%s: %s); working inline", len(waiters),
                      type(exc).__name__, exc)  # fmt: skip
            answers = [(True, _INLINE)] * len(waiters)
        _answer(waiters, answers)

    asyncio.wrap_future(future).add_done_callback(delivered)


def _answer(waiters: list[asyncio.Future[object]], answers: list[tuple[bool, object]]) -> None:
    for waiter, (ok, value) in zip(waiters, answers, strict=True):
        if waiter.done():  # its crawl was cancelled meanwhile
            continue
        if ok:
            waiter.set_result(value)
        else:
            assert isinstance(value, BaseException)
            waiter.set_exception(value)


async def offload(workers: int, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`function(*args)` in a worker process, awaited without blocking the reactor; inline when
    there is no pool (`workers` = 0), no asyncio reactor to await with, or the pool broke.

    Calls made in the same turn of the event loop go to the worker together (`BATCH` at most);
    each gets its own result or exception. `function` and its arguments must pickle (module-level
    functions, dataclasses); an exception it raises comes back as if it had run here.
    """
    executor = pool(workers) if is_asyncio_available() else None
    if executor is None:
        return function(*args, **kwargs)
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[object] = loop.create_future()
    jobs = _waiting.setdefault(function, [])
    jobs.append((args, kwargs, waiter))
    if len(jobs) >= BATCH:
        _send(function, executor)
    elif len(jobs) == 1:  # the first of this turn: the batch leaves when the turn ends
        loop.call_soon(_send, function, executor)
    answer = await waiter
    if answer is _INLINE:
        return function(*args, **kwargs)
    return answer  # type: ignore[return-value]
