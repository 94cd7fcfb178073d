"""Incremental crawling: `ropsfeed run` twice in a row over the bundled demo mirror.

Run 1 starts from an empty database and fetches listings and articles; run 2, right after, should
fetch the listing pages (and API/feed pages) only and store nothing new. Prints, per run, the
requests, pages fetched, new/updated/unchanged announcements and wall time, from crawl_runs, and
the run 2 / run 1 request ratio.

    .venv/bin/python benchmarks/bench_incremental.py [--db URL]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from db.engine import session_scope  # noqa: E402
from db.models import CrawlRun  # noqa: E402
from scrapers.mirror.server import SNAPSHOT_DIR, BackgroundMirror  # noqa: E402


def one_run(database: str, mirror: str) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "aggregator.cli", "run", "--mirror", mirror, "--db", database],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        sys.exit(f"ropsfeed run failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    with session_scope(database) as session:
        run_id = session.scalar(select(CrawlRun.run_id).order_by(CrawlRun.id.desc()).limit(1))
    return time.perf_counter() - started, str(run_id)


def totals(database: str, run_id: str) -> dict[str, int]:
    columns = {
        "sources": func.count(),
        "requests": func.sum(CrawlRun.requests),
        "pages": func.sum(CrawlRun.pages_fetched),
        "new": func.sum(CrawlRun.items_new),
        "updated": func.sum(CrawlRun.items_updated),
        "unchanged": func.sum(CrawlRun.items_unchanged),
    }
    with session_scope(database) as session:
        row = session.execute(select(*columns.values()).where(CrawlRun.run_id == run_id)).one()
    return {name: int(value or 0) for name, value in zip(columns, row, strict=True)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file in a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, BackgroundMirror([SNAPSHOT_DIR]) as mirror:
        database = args.db or f"sqlite:///{Path(folder) / 'bench.db'}"
        rows = []
        for label in ("run 1 (empty database)", "run 2 (right after)"):
            elapsed, run_id = one_run(database, mirror.url)
            rows.append((label, elapsed, totals(database, run_id)))
    print(f"ropsfeed run twice over the demo mirror ({rows[0][2]['sources']} sources)")
    print(f"{'':24}{'requests':>9}{'pages':>7}{'new':>6}{'updated':>8}{'unchanged':>10}{'wall s':>8}")
    for label, elapsed, t in rows:
        print(f"{label:24}{t['requests']:>9}{t['pages']:>7}{t['new']:>6}{t['updated']:>8}{t['unchanged']:>10}"
              f"{elapsed:>8.1f}")  # fmt: skip
    first, second = rows[0][2], rows[1][2]
    print(f"run 2 / run 1 requests: {second['requests'] / max(first['requests'], 1):.2f}; "
          f"new+updated in run 2: {second['new'] + second['updated']}")  # fmt: skip


if __name__ == "__main__":
    main()
