"""Web page latency: p50/p95 of `ropsfeed serve` answering real HTTP requests.

Builds the demo database (the bundled mirror crawled, as `make demo` does) and, with `--synthetic N`,
a larger one: the demo's announcements cloned N times with other URLs and publication dates
spread over ten years, each clone its own story, with its institutions' mentions and dates. Each
database is served by `ropsfeed serve` in its own process on a free 127.0.0.1 port and asked,
over one keep-alive connection, for: the front page, a page deep in the list, a voivodeship filter,
an institution filter, a search, a search combined with a filter, a story page, and the Atom feed.
Prints p50/p95/max in milliseconds per request kind.

    .venv/bin/python benchmarks/bench_web.py [--db URL] [--synthetic 100000] [--repeat 40]
"""

from __future__ import annotations

import argparse
import http.client
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402

from db.engine import get_engine, session_scope  # noqa: E402
from db.models import Announcement, EventDate, Mention, Story  # noqa: E402


def demo_database(directory: Path) -> str:
    from aggregator.crawl import run_crawl
    from scrapers.mirror.server import SNAPSHOT_DIR, BackgroundMirror

    url = f"sqlite:///{directory / 'demo.db'}"
    with BackgroundMirror([SNAPSHOT_DIR]) as mirror:
        run_crawl([], url, mirror=mirror.url)
    return url


def synthetic_database(demo_url: str, directory: Path, size: int, seed: int = 7) -> str:
    """The demo database with `size` more announcements cloned from its own (one story each)."""
    url = f"sqlite:///{directory / f'synthetic-{size}.db'}"
    with (
        sqlite3.connect(demo_url.removeprefix("sqlite:///")) as source,
        sqlite3.connect(url.removeprefix("sqlite:///")) as copy,
    ):
        source.backup(copy)  # the WAL's pages included, unlike a file copy
    random.seed(seed)
    engine = get_engine(url)
    with engine.begin() as connection:
        templates = [dict(row._mapping) for row in connection.execute(select(Announcement.__table__))]
        mentions: dict[int, list[dict]] = {}
        for row in connection.execute(select(Mention.__table__)):
            mentions.setdefault(row.announcement_id, []).append(dict(row._mapping))
        dates: dict[int, list[dict]] = {}
        for row in connection.execute(select(EventDate.__table__)):
            dates.setdefault(row.announcement_id, []).append(dict(row._mapping))
        next_id = connection.scalar(select(func.max(Announcement.id))) + 1
        for start in range(0, size, 5000):
            announcements, stories, new_mentions, new_dates = [], [], [], []
            for number in range(start, min(size, start + 5000)):
                template = random.choice(templates)
                published = template["published_at"]
                if published is not None:
                    published -= timedelta(days=random.randint(0, 3650), minutes=random.randint(0, 1440))
                key = f"syn-{number}"
                announcements.append({**template, "id": next_id, "url": f"{template['url']}#syn-{number}",
                                      "published_at": published, "story_key": key, "raw_page_id": None})  # fmt: skip
                stories.append({"key": key, "representative_id": next_id, "title": template["title"], "size": 1,
                                "first_published_at": published})  # fmt: skip
                for mention in mentions.get(template["id"], []):
                    new_mentions.append({**mention, "id": None, "announcement_id": next_id})
                for event in dates.get(template["id"], []):
                    new_dates.append({**event, "id": None, "announcement_id": next_id})
                next_id += 1
            connection.execute(insert(Announcement.__table__), announcements)
            connection.execute(insert(Story.__table__), stories)
            for rows, table in ((new_mentions, Mention.__table__), (new_dates, EventDate.__table__)):
                if rows:
                    connection.execute(insert(table), [{k: v for k, v in r.items() if k != "id"} for r in rows])
    with engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")
    engine.dispose()
    return url


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def requests_for(url: str) -> dict[str, str]:
    with session_scope(url) as session:
        story = session.scalar(
            select(Story.key).join(Announcement, Announcement.story_key == Story.key)
            .order_by(Story.size.desc(), Story.key).limit(1)
        )  # fmt: skip
    return {
        "/": "/",
        "/?page=40 (deep page)": "/?page=40",
        "/?voivodeship=mazowieckie": "/?voivodeship=mazowieckie",
        "/?entity=mcps": "/?entity=mcps",
        "/?q=ekonomii spolecznej": "/?q=ekonomii+spolecznej",
        "/?q=nabor&voivodeship=podlaskie": "/?q=nabor&voivodeship=podlaskie",
        "/story/<key>": f"/story/{story}",
        "/feed.atom": "/feed.atom",
    }


def measure(url: str, repeat: int) -> dict[str, list[float]]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "aggregator.cli", "serve", "--port", str(port), "--db", url],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("ropsfeed serve did not start") from None
                time.sleep(0.1)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        timings: dict[str, list[float]] = {}
        for label, path in requests_for(url).items():
            for attempt in range(repeat + 3):  # three warm-up requests
                started = time.perf_counter()
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                elapsed = (time.perf_counter() - started) * 1000
                if response.status != 200:
                    raise SystemExit(f"{path}: HTTP {response.status}")
                if attempt >= 3:
                    timings.setdefault(label, []).append(elapsed)
        connection.close()
        return timings
    finally:
        server.terminate()
        server.wait(timeout=10)


def report(title: str, url: str, timings: dict[str, list[float]]) -> None:
    with session_scope(url) as session:
        count = session.scalar(select(func.count()).select_from(Announcement))
    print(f"\n{title}: {count} announcements")
    print(f"{'request':<36} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for label, values in timings.items():
        ordered = sorted(values)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        print(f"{label:<36} {statistics.median(ordered):>8.1f} {p95:>8.1f} {ordered[-1]:>8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="measure this database instead of building the demo one")
    parser.add_argument("--synthetic", type=int, default=0, help="also measure a database with N more stories")
    parser.add_argument("--repeat", type=int, default=40, help="requests per kind (after 3 warm-up ones)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        url = args.db or demo_database(Path(tmp))
        report("demo database" if not args.db else args.db, url, measure(url, args.repeat))
        if args.synthetic:
            started = time.monotonic()
            big = synthetic_database(url, Path(tmp), args.synthetic)
            print(f"\n(synthetic database built in {time.monotonic() - started:.0f} s)")
            report(f"synthetic database (demo + {args.synthetic})", big, measure(big, args.repeat))


if __name__ == "__main__":
    main()
