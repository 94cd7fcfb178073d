"""Benchmark: latency of the feed (50 newest stories) over 100k announcements, SQLite and PostgreSQL.

Run: ``.venv/bin/python benchmarks/bench_feed.py [--size 100000] [--repeat 30] [--backends sqlite,postgresql]``

The database is filled through the schema of the migrations (so with every index they create) with
synthetic announcements made from the real texts in ``scrapers/mirror/texts/*.json``: a real
article as a template, a third of its words replaced by words from the real vocabulary, so texts
are distinct but read like the real ones; each spread over the registry's sources and 2012–2026,
5% without a publication date; about 10% cross-posted (stories of 2–3 announcements); two
institution mentions each. ``search_terms`` comes from ``db.search.index_terms`` as at ingest.

Timed per case (after two warm-up runs): ``select_entries`` (what ``ropsfeed feed`` and the web page
run against the database) and the same plus rendering Atom. Printed: p50 and p95 in milliseconds per
backend and case; the target is p95 < 50 ms. PostgreSQL runs in a fresh schema of
``ROPSFEED_TEST_POSTGRES_URL`` (default: the test database), dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, select, text  # noqa: E402

from aggregator.entities import gazetteer  # noqa: E402
from aggregator.feeds import FeedFilters, count_entries, render, select_entries  # noqa: E402
from aggregator.web.pages import COUNT_CAP  # noqa: E402
from db.engine import get_engine, session_scope  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.models import Announcement, CrawlRun, Entity, Mention, Story  # noqa: E402
from db.search import index_terms  # noqa: E402
from db.store import sync_entities, sync_sources  # noqa: E402
from scrapers.registry import load_sources  # noqa: E402

TEXTS = ROOT / "scrapers" / "mirror" / "texts"
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
MUTATION = 0.33
FIRST_CRAWL = datetime(2026, 11, 29, tzinfo=UTC)
FIRST_CRAWL_END = datetime(2026, 11, 30, tzinfo=UTC)
CHUNK = 2000
CASES: dict[str, FeedFilters] = {
    "newest 50": FeedFilters(),
    "voivodeship=mazowieckie": FeedFilters(voivodeship="mazowieckie"),
    "voivodeship=opolskie": FeedFilters(voivodeship="opolskie"),
    "source=rops-bialystok": FeedFilters(source="rops-bialystok"),
    "entity=rops-krakow": FeedFilters(entity="rops-krakow"),
    "entity=MCPS": FeedFilters(entity="MCPS"),
    "query=nabór": FeedFilters(query="nabór"),
    "query=spółdzielnia socjalna": FeedFilters(query="spółdzielnia socjalna"),
    "query=gerontologiczny (none)": FeedFilters(query="gerontologiczny"),
    "query=certyfikaty (rare)": FeedFilters(query="certyfikaty"),
    "query + voivodeship": FeedFilters(query="szkolenie", voivodeship="podlaskie"),
}


def templates() -> list[tuple[str, str]]:
    articles = []
    for path in sorted(TEXTS.glob("*.json")):
        for article in json.loads(path.read_text(encoding="utf-8"))["articles"]:
            body = "\n\n".join(article.get("paragraphs") or [])
            if body and article.get("title"):
                articles.append((article["title"], body))
    return articles


def synthetic(size: int, seed: int) -> Iterator[tuple[int, str, str, str | None, datetime | None]]:
    """(number, title, lead, body, published) for `size` announcements."""
    rng = random.Random(seed)
    texts = templates()
    vocabulary = [w for _, body in texts for w in body.split() if w.isalpha()]
    start = datetime(2012, 1, 1, tzinfo=UTC)
    span = (datetime(2026, 11, 30, tzinfo=UTC) - start).total_seconds()
    for number in range(size):
        title, body = texts[rng.randrange(len(texts))]
        words = [rng.choice(vocabulary) if rng.random() < MUTATION else w for w in body.split(" ")]
        title_words = [rng.choice(vocabulary) if rng.random() < MUTATION else w for w in title.split()]
        published = None if rng.random() < 0.05 else start + timedelta(seconds=rng.random() * span)
        body_text = " ".join(words)
        yield number, " ".join(title_words), body_text[:300], body_text, published


def fill(url: str, size: int, seed: int) -> float:
    started = time.monotonic()
    upgrade(url)
    sources = [s for s in load_sources() if s.enabled]
    with session_scope(url, write=True) as session:
        sync_sources(session, load_sources())
        sync_entities(session, gazetteer())
        entity_ids = list(session.scalars(select(Entity.id).where(Entity.in_gazetteer.is_(True))))
        session.execute(
            insert(CrawlRun),
            [{"run_id": "bench", "source_id": s.id, "started_at": FIRST_CRAWL, "finished_at": FIRST_CRAWL_END,
              "status": "ok", "responses": {}, "errors": [], "alarms": []} for s in sources],
        )  # fmt: skip
    rng = random.Random(seed + 1)
    batch: list[dict] = []
    stories: list[dict] = []
    pending_story: list[tuple[int, datetime | None, str]] = []
    for number, title, lead, body, published in synthetic(size, seed):
        source = sources[number % len(sources)]
        if pending_story and rng.random() < 0.5:  # a cross-post of the previous announcement
            key = pending_story[0][2]
        else:
            key = f"s{number:08d}"
            if pending_story:
                stories.append(_story(pending_story))
            pending_story = []
        pending_story.append((number + 1, published, key))
        # Most rows were backfilled by the first crawl; one in 500 is news seen by a later crawl.
        seen = FIRST_CRAWL_END + timedelta(days=1) if number % 500 == 0 else FIRST_CRAWL
        batch.append({
            "id": number + 1, "source_id": source.id, "url": f"{source.base_url}bench/{number}/",
            "url_key": f"{source.base_url}bench/{number}".split("://", 1)[1], "title": title,
            "lead": lead, "body_text": body, "body_html": "", "categories": [], "language": "pl",
            "published_at": published, "published_granularity": "minute" if published else None,
            "content_hash": f"{number:064d}", "search_text": "", "search_terms": index_terms(title, lead, body),
            "story_key": key, "first_seen_at": seen, "last_seen_at": seen, "updated_at": seen,
        })  # fmt: skip
        if len(batch) == CHUNK:
            _write(url, batch, stories, entity_ids, rng)
            batch, stories = [], []
    if pending_story:
        stories.append(_story(pending_story))
    _write(url, batch, stories, entity_ids, rng)
    with get_engine(url).connect() as connection:
        if connection.dialect.name == "postgresql":  # what autovacuum does after a bulk load
            connection.commit()
            autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
            for table in ("announcements", "stories", "mentions", "entities", "sources", "crawl_runs"):
                autocommit.execute(text(f"VACUUM ANALYZE {table}"))  # this schema's tables only
        else:
            connection.execute(text("ANALYZE"))
            connection.commit()
    return time.monotonic() - started


def _story(members: list[tuple[int, datetime | None, str]]) -> dict:
    dated = [m for m in members if m[1] is not None]
    representative = min(dated, key=lambda m: m[1]) if dated else members[0]
    return {"key": members[0][2], "representative_id": representative[0], "title": "", "size": len(members),
            "first_published_at": representative[1], "updated_at": datetime.now(UTC)}  # fmt: skip


def _write(url: str, batch: list[dict], stories: list[dict], entity_ids: list[int], rng: random.Random) -> None:
    if not batch:
        return
    mentions = [
        {"announcement_id": row["id"], "entity_id": entity, "field": "body", "surface": "x", "char_start": position,
         "char_end": position + 1}
        for row in batch for position, entity in enumerate(rng.sample(entity_ids, 2))
    ]  # fmt: skip
    with session_scope(url, write=True) as session:
        session.execute(insert(Announcement), batch)
        session.execute(insert(Mention), mentions)
        if stories:
            session.execute(insert(Story), stories)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(url: str, repeat: int) -> dict[str, tuple[float, float, float, float, int]]:
    results = {}
    for name, filters in CASES.items():
        query_ms, atom_ms = [], []
        for attempt in range(repeat + 2):
            t0 = time.perf_counter()
            with session_scope(url) as session:
                entries = select_entries(session, filters)
            t1 = time.perf_counter()
            render(entries, filters, "atom")
            t2 = time.perf_counter()
            if attempt >= 2:
                query_ms.append((t1 - t0) * 1000)
                atom_ms.append((t2 - t0) * 1000)
        results[name] = (
            statistics.median(query_ms), percentile(query_ms, 0.95),
            statistics.median(atom_ms), percentile(atom_ms, 0.95), len(entries),
        )  # fmt: skip
    return results


def measure_counts(url: str, repeat: int) -> dict[str, tuple[float, float, int]]:
    """The web page's capped total ("Razem N wiadomości", "ponad 1000"): p50/p95 ms and the count."""
    results = {}
    for name, filters in CASES.items():
        timings = []
        for attempt in range(repeat + 2):
            t0 = time.perf_counter()
            with session_scope(url) as session:
                total = count_entries(session, filters, cap=COUNT_CAP)
            if attempt >= 2:
                timings.append((time.perf_counter() - t0) * 1000)
        results[name] = (statistics.median(timings), percentile(timings, 0.95), total)
    return results


def postgres_schema(admin_url: str) -> tuple[str, str]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with create_engine(admin_url).begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    # A runaway plan fails the run after 30 s instead of holding the shared server.
    return schema, f"{admin_url}?options=-csearch_path%3D{schema}%20-cstatement_timeout%3D30000"


def main() -> None:
    import os
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # a stopped run still drops its schema

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    table: dict[str, dict[str, tuple[float, float, float, float, int]]] = {}
    counts: dict[str, dict[str, tuple[float, float, int]]] = {}
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory(prefix="bench_feed_") as tmp:
            if backend == "sqlite":
                url, cleanup = f"sqlite:///{tmp}/bench.db", None
            else:
                admin = os.environ.get("ROPSFEED_TEST_POSTGRES_URL", POSTGRES_URL)
                schema, url = postgres_schema(admin)
                cleanup = (admin, schema)
            try:
                seconds = fill(url, args.size, args.seed)
                print(f"{backend}: filled {args.size} announcements in {seconds:.0f} s", flush=True)
                table[backend] = measure(url, args.repeat)
                counts[backend] = measure_counts(url, args.repeat)
            finally:
                get_engine(url).dispose()
                if cleanup:
                    with create_engine(cleanup[0]).begin() as connection:
                        connection.execute(text(f'DROP SCHEMA "{cleanup[1]}" CASCADE'))
    print(f"\nFeed latency over {args.size} announcements, ms (p50 / p95 of {args.repeat} runs; target p95 < 50)")
    header = f"{'case':30}" + "".join(f" | {b + ' query':>17} | {b + ' +atom':>17}" for b in table) + " | rows"
    print(header)
    print("-" * len(header))
    for name in CASES:
        cells = []
        rows = 0
        for backend in table:
            q50, q95, a50, a95, rows = table[backend][name]
            cells.append(f" | {q50:7.1f} / {q95:7.1f} | {a50:7.1f} / {a95:7.1f}")
        print(f"{name:30}{''.join(cells)} | {rows}")
    worst = {b: max(v[1] for v in table[b].values()) for b in table}
    print("\nworst query p95: " + ", ".join(f"{b} {ms:.1f} ms" for b, ms in worst.items()))
    print(f"\nThe web page's capped total (count_entries, cap {COUNT_CAP}), ms (p50 / p95)")
    for name in CASES:
        cells = "".join(f" | {b} {counts[b][name][0]:7.1f} / {counts[b][name][1]:7.1f} ({counts[b][name][2]})"
                        for b in counts)  # fmt: skip
        print(f"{name:30}{cells}")


if __name__ == "__main__":
    main()
