from __future__ import annotations

import asyncio
import logging
import os
import signal
from pathlib import Path

import pytest

from scrapers import worker_pool
from scrapers.extraction.article import ArticleParser
from scrapers.registry import load_sources
from scrapers.spiders.wordpress import read_api_page

SNAPSHOT = Path(__file__).resolve().parents[2] / "scrapers" / "mirror" / "snapshot"


def pid_and(value: str) -> tuple[int, str]:
    return os.getpid(), value.upper()


def refuse(value: str) -> str:
    raise ValueError(f"not JSON: {value}")


def fail(value: str) -> str:
    raise RuntimeError(f"parser failed on {value}")


def test_without_workers_the_function_runs_here() -> None:
    assert asyncio.run(worker_pool.offload(0, pid_and, "nabór")) == (os.getpid(), "NABÓR")


def test_a_worker_process_gives_the_result_and_the_exception_inline_code_would() -> None:
    pid, value = asyncio.run(worker_pool.offload(1, pid_and, "nabór"))
    assert (value, pid != os.getpid()) == ("NABÓR", True), "ran in the worker process"
    with pytest.raises(ValueError, match="not JSON: x"):
        asyncio.run(worker_pool.offload(1, refuse, "x"))
    with pytest.raises(RuntimeError, match="parser failed on x"):  # not taken for a broken pool
        asyncio.run(worker_pool.offload(1, fail, "x"))
    assert worker_pool.running() is not None


def upper_unless_broken(value: str) -> tuple[int, str]:
    if value == "zepsuta":
        raise ValueError(f"page {value} does not parse")
    return os.getpid(), value.upper()


def test_jobs_of_one_turn_go_to_the_worker_together_each_with_its_own_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages that arrive together cost one round trip per batch, not one per page; one page's
    exception is its own."""
    executor = worker_pool.pool(1)
    assert executor is not None
    submitted: list[int] = []
    submit = executor.submit

    def counting(function: object, *args: object, **kwargs: object) -> object:
        submitted.append(len(args[1]))  # type: ignore[arg-type]  # run_batch(function, jobs)
        return submit(function, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(executor, "submit", counting)
    words = [f"strona{i}" for i in range(worker_pool.BATCH + 2)] + ["zepsuta"]

    async def crawl() -> list[object]:
        jobs = [worker_pool.offload(1, upper_unless_broken, w) for w in words]
        return await asyncio.gather(*jobs, worker_pool.offload(1, pid_and, "inna"), return_exceptions=True)

    *answers, broken_page, other = asyncio.run(crawl())
    assert sorted(submitted) == [1, 3, worker_pool.BATCH], "BATCH + 3 jobs of one function, 1 of another"
    assert [answer[1] for answer in answers] == [w.upper() for w in words[:-1]]  # type: ignore[index]
    assert all(answer[0] != os.getpid() for answer in answers), "ran in the worker"  # type: ignore[index]
    assert isinstance(broken_page, ValueError) and "zepsuta does not parse" in str(broken_page)
    assert other[1] == "INNA"  # type: ignore[index]


def niceness() -> int:
    return os.nice(0)


def test_workers_run_behind_the_crawl_process() -> None:
    """The crawl process hands out the work: the workers yield the CPU to it, not the reverse."""
    assert asyncio.run(worker_pool.offload(1, niceness)) >= min(19, os.nice(0) + worker_pool.WORKER_NICE)


def test_real_pages_parse_in_a_worker_exactly_as_inline() -> None:
    """The spiders' two offloaded steps (article pages, REST API pages) on mirror pages."""
    pages = sorted(SNAPSHOT.glob("*/**/*.html"))[::7][:8]
    assert pages, "the mirror snapshot has HTML pages"
    parser = ArticleParser()
    for page in pages:
        html, url = page.read_text(encoding="utf-8", errors="replace"), f"https://{page.relative_to(SNAPSHOT)}"
        assert asyncio.run(worker_pool.offload(1, parser.parse, html, url)) == parser.parse(html, url)
    api = next(SNAPSHOT.glob("*/wp-json/**/*.json"))
    identity = next(s for s in load_sources() if s.host == api.relative_to(SNAPSHOT).parts[0]).identity
    source_id = "x"
    in_worker = asyncio.run(worker_pool.offload(1, read_api_page, api.read_bytes(), source_id, identity))
    assert in_worker == read_api_page(api.read_bytes(), source_id, identity)
    assert in_worker.items and all(item.raw is None for item in in_worker.items)


def test_a_broken_pool_falls_back_to_inline_work_and_says_so(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    executor = worker_pool.pool(1)
    assert executor is not None
    monkeypatch.setattr(worker_pool, "_broken", False)

    def shut(*args: object, **kwargs: object) -> None:
        raise RuntimeError("cannot schedule new futures after shutdown")

    monkeypatch.setattr(executor, "submit", shut)
    with caplog.at_level(logging.WARNING, logger="scrapers.worker_pool"):
        assert asyncio.run(worker_pool.offload(1, pid_and, "x")) == (os.getpid(), "X")
    assert "worker process unavailable" in caplog.text and "working inline" in caplog.text
    assert worker_pool.running() is None, "nothing more is sent to a broken pool"


def test_a_worker_killed_mid_crawl_leaves_the_work_to_this_process(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The OOM killer or an operator may end a worker: the page is still parsed, here."""
    monkeypatch.setattr(worker_pool, "_pool", None)  # a pool of this test's own, restored after
    monkeypatch.setattr(worker_pool, "_broken", False)
    executor = worker_pool.pool(1)
    assert executor is not None
    executor.submit(os.getpid).result()
    for process in list(executor._processes.values()):
        os.kill(process.pid, signal.SIGKILL)
        process.join()
    with caplog.at_level(logging.WARNING, logger="scrapers.worker_pool"):
        assert asyncio.run(worker_pool.offload(1, pid_and, "nabór")) == (os.getpid(), "NABÓR")
        assert asyncio.run(worker_pool.offload(1, pid_and, "x")) == (os.getpid(), "X"), "and the pages after it"
    assert "BrokenProcessPool" in caplog.text and "working inline" in caplog.text
    executor.shutdown(wait=False)
