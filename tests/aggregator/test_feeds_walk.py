"""The feed's three ways to a filtered page give the same rows: the batched walk (broad filters),
the list of matches (rare ones) and the one filtered query (digests, exports, deep pages).

Run on a small synthetic database made like the benchmark's (benchmarks/bench_feed.py), with rows
the walk must treat specially added: announcements without a story, tombstones, and undated
announcements first seen after their source's first crawl (fresh) or by it (backfill).
"""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import select, update

import aggregator.feeds as feeds
from aggregator.feeds import FeedFilters, count_entries, select_entries
from db.engine import session_scope
from db.models import Announcement

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_feed.py"
SIZE = 400

CASES = [
    FeedFilters(),
    FeedFilters(voivodeship="mazowieckie"),
    FeedFilters(source="rops-bialystok"),
    FeedFilters(entity="MCPS"),
    FeedFilters(entity="rops-krakow", limit=20, offset=10),
    FeedFilters(query="nabór"),
    FeedFilters(query="spółdzielnia socjalna"),
    FeedFilters(query="gerontologiczny"),
    FeedFilters(query="szkolenie", voivodeship="podlaskie"),
    FeedFilters(query="w", limit=1000),  # the whole feed: walks to the end, backfill included
    FeedFilters(voivodeships=("mazowieckie", "opolskie"), keywords=("szkolenie", "nabór")),
    FeedFilters(entities=("MCPS", "rops-krakow"), sources=("rops-krakow", "mcps")),
]


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_feed", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def synthetic(db_url: str) -> str:
    bench = _bench()
    bench.fill(db_url, SIZE, 3)
    later = bench.FIRST_CRAWL_END + timedelta(days=2)
    with session_scope(db_url, write=True) as session:
        undated = list(session.scalars(select(Announcement.id).where(Announcement.published_at.is_(None))))
        assert len(undated) >= 6, "the fill leaves about 5% undated"
        # fresh news without a date, some of it not deduplicated yet
        session.execute(update(Announcement).where(Announcement.id.in_(undated[:4])).values(first_seen_at=later))
        session.execute(update(Announcement).where(Announcement.id.in_(undated[:2])).values(story_key=None))
        # announcements without a story, dated, one of them deleted by its site
        alone = list(range(SIZE - 40, SIZE, 3))
        session.execute(update(Announcement).where(Announcement.id.in_(alone)).values(story_key=None))
        session.execute(update(Announcement).where(Announcement.id == alone[0]).values(deleted_at=later))
    return db_url


def _ids(url: str, filters: FeedFilters) -> list[int | None]:
    with session_scope(url) as session:
        return [entry.announcement_id for entry in select_entries(session, filters)]


def test_walk_list_and_filtered_query_agree(synthetic: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # the reference: one filtered query for every filter
    with monkeypatch.context() as patch:
        patch.setattr(feeds, "WALK_MAX_WANT", {})
        patch.setattr(feeds, "MANY_MATCHES", 0)
        expected = [_ids(synthetic, filters) for filters in CASES]
    assert all(expected[:7]) and expected[7] == [], "the cases find something (and the unknown word nothing)"
    assert len(expected[9]) > len(expected[0]) and None not in expected[9]
    with session_scope(synthetic) as session:
        assert count_entries(session, CASES[9]) == len(expected[9])
        for filters in CASES:  # the web page's capped count (through the walk on PostgreSQL)
            exact = count_entries(session, filters)
            assert [count_entries(session, filters, cap=cap) for cap in (1, 5, 10**6)] == [
                min(exact, cap) for cap in (1, 5, 10**6)
            ], filters

    assert [_ids(synthetic, filters) for filters in CASES] == expected, "the defaults"
    monkeypatch.setattr(feeds, "WALK_MAX_WANT", {"sqlite": 10**6, "postgresql": 10**6})
    with monkeypatch.context() as patch:  # walk in tiny batches, never giving up
        patch.setattr(feeds, "WALK_FIRST_BATCH", 3)
        patch.setattr(feeds, "WALK_MAX_BATCH", 7)
        patch.setattr(feeds, "WALK_BUDGET", 10**9)
        assert [_ids(synthetic, filters) for filters in CASES] == expected, "the walk"
    with monkeypatch.context() as patch:  # give up at once and list the matches
        patch.setattr(feeds, "WALK_FIRST_BATCH", 3)
        patch.setattr(feeds, "WALK_BUDGET", 0)
        patch.setattr(feeds, "MANY_MATCHES", 10**6)
        assert [_ids(synthetic, filters) for filters in CASES] == expected, "the list of matches"
