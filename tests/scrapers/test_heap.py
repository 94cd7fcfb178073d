"""The crawl's garbage-collector settings apply within the crawl only."""

from __future__ import annotations

import gc

from scrapers.heap import THRESHOLDS, crawl_heap


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
