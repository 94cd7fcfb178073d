"""scrapers/background_jobs.py: background jobs wait for room in the pool, in order; page reads go first."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import pytest

from scrapers.background_jobs import AHEAD_PER_WORKER, BackgroundJobs, background


def slow(value: int) -> tuple[int, float]:
    time.sleep(0.05)
    return value, time.monotonic()


def stamp(value: str) -> tuple[str, float]:
    return value, time.monotonic()


@pytest.fixture
def executor() -> Iterator[ProcessPoolExecutor]:
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    pool.submit(os.getpid).result()  # started
    yield pool
    pool.shutdown(wait=True, cancel_futures=True)


def test_held_jobs_run_in_order_and_a_page_read_overtakes_them(executor: ProcessPoolExecutor) -> None:
    lane = BackgroundJobs(executor, workers=1)

    async def crawl() -> tuple[list[Future[tuple[int, float]]], tuple[str, float], list[int]]:
        jobs = [lane.submit(slow, i) for i in range(12)]
        in_pool = [lane.in_pool]
        assert len(lane.held) == 12 - AHEAD_PER_WORKER, "the rest wait here, not in the pool"
        read = await asyncio.wrap_future(executor.submit(stamp, "page"))  # a page read, straight to the pool
        while not all(job.done() for job in jobs):
            in_pool.append(lane.in_pool)
            await asyncio.sleep(0.01)
        return jobs, read, in_pool

    jobs, (_, read_at), in_pool = asyncio.run(crawl())
    results = [job.result() for job in jobs]
    assert [value for value, _ in results] == list(range(12))
    assert [at for _, at in results] == sorted(at for _, at in results), "in the order they were submitted"
    finished_before_read = sum(at < read_at for _, at in results)
    assert finished_before_read <= AHEAD_PER_WORKER, "the page read waited behind the jobs in the pool only"
    assert max(in_pool) <= AHEAD_PER_WORKER
    assert lane.in_pool == 0 and not lane.held


def test_expedite_sends_held_jobs_at_once(executor: ProcessPoolExecutor) -> None:
    lane = BackgroundJobs(executor, workers=1)

    async def crawl() -> list[int]:
        jobs = [lane.submit(slow, i) for i in range(8)]
        lane.expedite(jobs[6], jobs[7])
        assert all(job is not jobs[6] and job is not jobs[7] for job, _, _ in lane.held)
        # the caller blocks now, as the storage pipeline does: no loop turn sends the others
        return [jobs[7].result(timeout=10)[0], jobs[6].result(timeout=10)[0]]

    assert asyncio.run(crawl()) == [7, 6]


def test_without_an_event_loop_nothing_is_held(executor: ProcessPoolExecutor) -> None:
    lane = BackgroundJobs(executor, workers=1)
    jobs = [lane.submit(slow, i) for i in range(5)]
    assert not lane.held
    assert [job.result(timeout=10)[0] for job in jobs] == list(range(5))


def test_a_broken_pool_answers_with_broken_process_pool(executor: ProcessPoolExecutor) -> None:
    lane = BackgroundJobs(executor, workers=1)

    async def crawl() -> list[BaseException | None]:
        pid = executor.submit(os.getpid).result()
        jobs = [lane.submit(slow, i) for i in range(6)]
        os.kill(pid, signal.SIGKILL)  # while the first job sleeps
        for job in jobs:
            with pytest.raises(BrokenProcessPool):
                await asyncio.wait_for(asyncio.wrap_future(job), 10)
        return [job.exception() for job in jobs]

    assert all(isinstance(exc, BrokenProcessPool) for exc in asyncio.run(crawl()))


def test_one_queue_per_pool(executor: ProcessPoolExecutor) -> None:
    assert background(executor, 1) is background(executor, 1)
    assert background(executor, 1).limit == AHEAD_PER_WORKER
