"""Story features computed during the crawl (aggregator.dedup.ahead): same decisions, less work after."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import numpy as np
import pytest

from aggregator.dedup import Doc, StoryIndex
from aggregator.dedup.ahead import FeaturesAhead, for_run, release, story_doc
from aggregator.dedup.features import Features, features
from aggregator.dedup.index import NUM_PERM, SEED, _compute, _grouped, compute_ahead
from tests.aggregator.test_dedup import _pair_docs

TEXT = (
    "Mazowieckie Centrum Polityki Społecznej zaprasza organizacje pozarządowe do udziału w otwartym "
    "konkursie ofert. Oferty można składać do 31 marca 2024 r., a rozstrzygnięcie nastąpi w kwietniu br."
)


def _filled(docs: list[tuple[str, Doc]], every: int = 1) -> FeaturesAhead:
    """What the crawl's workers would have left for every `every`-th document."""
    ahead = FeaturesAhead(NUM_PERM, SEED)
    for n, (_, doc) in enumerate(docs):
        if n % every == 0:
            ahead.put(doc.title, doc.text, *compute_ahead(doc.title, doc.text, doc.published))
    return ahead


def same_features(a: Features, b: Features) -> bool:
    assert a.dates == b.dates  # both computed
    return all(
        np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y
        for x, y in zip(vars(a).values(), vars(b).values(), strict=True)
    )


@pytest.fixture(scope="module")
def items() -> list[tuple[str, Doc]]:
    docs, _ = _pair_docs()
    return list(docs.items())[:150]


def test_worker_features_equal_the_story_steps_own(items: list[tuple[str, Doc]]) -> None:
    for _, doc in items[:40]:
        ahead_feats, ahead_sig = compute_ahead(doc.title, doc.text, doc.published)
        own_feats, own_sig = _compute(replace(doc, url="x"), NUM_PERM, SEED, dates=True)
        assert np.array_equal(ahead_sig, own_sig)
        assert same_features(ahead_feats, own_feats)


def test_the_publication_time_is_taken_in_utc_as_the_database_gives_it_and_its_day_in_warsaw() -> None:
    """Ahead or from the stored row (UTC), the features keep the Warsaw day: the day annotate
    resolves the text's dates against."""
    warsaw = timezone(timedelta(hours=1))
    just_after_midnight = datetime(2024, 3, 1, 0, 30, tzinfo=warsaw)  # 29 February in UTC
    feats, sig = compute_ahead("Konkurs", TEXT, just_after_midnight)
    assert feats.published == date(2024, 3, 1)
    assert story_doc("Konkurs", TEXT, just_after_midnight).published == datetime(2024, 2, 29, 23, 30, tzinfo=UTC)
    stored = Doc(url="u", title="Konkurs", text=TEXT, published=datetime(2024, 2, 29, 23, 30, tzinfo=UTC))
    ahead = FeaturesAhead(NUM_PERM, SEED)
    ahead.put("Konkurs", TEXT, feats, sig)
    assert ahead.get(stored) is not None, "the stored row finds the features computed ahead"


def test_an_entry_serves_only_the_same_title_text_and_date() -> None:
    ahead = FeaturesAhead(NUM_PERM, SEED)
    published = datetime(2024, 3, 1, 9, tzinfo=UTC)
    ahead.put("Konkurs", TEXT, *compute_ahead("Konkurs", TEXT, published))
    found = ahead.get(Doc(url="u", title="Konkurs", text=TEXT, published=published))
    assert found is not None
    feats, _ = found
    assert feats.text == TEXT and feats.published == date(2024, 3, 1)
    feats.text = "zmieniony"  # a caller's copy: the stored entry is not touched
    again = ahead.get(Doc(url="u", title="Konkurs", text=TEXT, published=published))
    assert again is not None and again[0].text == TEXT and again[0] is not feats
    assert ahead.get(Doc(url="u", title="Konkurs", text=TEXT + " ", published=published)) is None
    assert ahead.get(Doc(url="u", title="Konkurs 2", text=TEXT, published=published)) is None
    assert ahead.get(Doc(url="u", title="Konkurs", text=TEXT, published=published + timedelta(days=1))) is None
    assert ahead.get(Doc(url="u", title="Konkurs", text=TEXT, published=None)) is None
    assert (ahead.hits, ahead.misses) == (2, 4)


def test_the_oldest_entries_go_beyond_the_capacity() -> None:
    ahead = FeaturesAhead(NUM_PERM, SEED, capacity=2)
    for n in range(3):
        ahead.put(f"Konkurs {n}", TEXT, *compute_ahead(f"Konkurs {n}", TEXT, None))
    assert len(ahead) == 2
    assert ahead.get(Doc(url="u", title="Konkurs 0", text=TEXT, published=None)) is None
    assert ahead.get(Doc(url="u", title="Konkurs 2", text=TEXT, published=None)) is not None


def test_runs_are_kept_apart_and_released() -> None:
    first = for_run("run-a")
    assert (first.num_perm, first.seed) == (NUM_PERM, SEED), "the story index's own signatures"
    assert for_run("run-a") is first
    assert for_run("run-b") is not first
    release("run-a")
    release("run-b")
    release("run-b")  # twice: no error
    assert for_run("run-a") is not first
    release("run-a")


def test_runs_of_found_and_missing_documents_keep_their_order(items: list[tuple[str, Doc]]) -> None:
    some = items[:80]
    ahead = _filled(some, every=3)
    groups = list(_grouped(some, ahead))
    assert [item for chunk, _ in groups for item in chunk] == some
    for chunk, found in groups:
        assert 0 < len(chunk) <= 32
        if found is not None:
            assert len(found) == len(chunk)
    assert {found is None for _, found in groups} == {True, False}


@pytest.mark.parametrize("every", [1, 3], ids=["all-ahead", "every-third-ahead"])
def test_add_many_with_features_ahead_decides_like_add(items: list[tuple[str, Doc]], every: int) -> None:
    one = StoryIndex()
    expected = [(doc_id, one.add(doc_id, doc)) for doc_id, doc in items]
    ahead = _filled(items, every)
    with ProcessPoolExecutor(1) as executor:
        assert list(StoryIndex().add_many(items, executor=executor, ahead=ahead)) == expected
    assert ahead.hits == (len(items) + every - 1) // every
    serial = _filled(items, every)
    assert list(StoryIndex().add_many(items, ahead=serial)) == expected
    assert serial.hits == ahead.hits


def test_features_for_other_signature_parameters_are_not_used(items: list[tuple[str, Doc]]) -> None:
    ahead = FeaturesAhead(32, SEED)
    doc_id, doc = items[0]
    feats, sig = features(doc), np.zeros(64, dtype=np.uint32)
    ahead.put(doc.title, doc.text, feats, sig)
    index = StoryIndex()
    list(index.add_many([(doc_id, doc)], ahead=ahead))
    assert ahead.hits == 0 and ahead.misses == 0
    assert len(index.signature_of(doc_id)) == 2 * NUM_PERM
