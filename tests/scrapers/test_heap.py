"""The crawl's garbage-collector settings apply within the crawl (and its start) only."""

from __future__ import annotations

import gc

import pytest

from aggregator import crawl as crawl_module
from scrapers.heap import THRESHOLDS, crawl_heap, startup_heap


def test_within_the_crawl_collections_are_rarer_and_start_up_objects_frozen() -> None:
    before = gc.get_threshold()
    assert before != THRESHOLDS
    long_lived = [object() for _ in range(10)]
    with crawl_heap():
        assert gc.get_threshold() == THRESHOLDS
        assert gc.get_freeze_count() > len(long_lived)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0, "unfrozen afterwards: collectable again"


def test_settings_are_restored_when_the_crawl_fails() -> None:
    before = gc.get_threshold()
    try:
        with crawl_heap():
            raise RuntimeError("database gone")
    except RuntimeError:
        pass
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_within_the_start_nothing_is_collected_and_the_collector_comes_back_after() -> None:
    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    with startup_heap():
        assert not gc.isenabled()
        built = [[] for _ in range(1000)]
    assert gc.isenabled()
    assert gc.get_freeze_count() >= frozen + len(built), "what the start built is left alone after it"
    try:
        with startup_heap():
            raise RuntimeError("bad registry")
    except RuntimeError:
        pass
    assert gc.isenabled()


def test_a_crawl_starts_without_collections_and_crawls_with_them(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    seen: dict[str, bool] = {}
    close_interrupted = crawl_module.close_interrupted

    def last_step_of_the_start(*args: object) -> None:
        seen["start"] = gc.isenabled()
        close_interrupted(*args)

    def crawl_settings(*args: object) -> object:
        raise RuntimeError("stop before the crawl: only its start is looked at")

    monkeypatch.setattr(crawl_module, "close_interrupted", last_step_of_the_start)
    monkeypatch.setattr(crawl_module, "crawl_settings", crawl_settings)
    with pytest.raises(RuntimeError, match="only its start"):
        crawl_module.run_crawl(["mcps"], sqlite_url)
    assert seen == {"start": False}
    assert gc.isenabled(), "the collector is back when the start fails"
