"""Regenerates tests/scrapers/expected/<source>.json after a deliberate parser or fixture change.

    .venv/bin/python -m tests.scrapers.regenerate_expected [SOURCE_ID ...]

It crawls the bundled mirror into a throwaway SQLite database exactly as the tests do and writes
what was stored. Review the diff before committing: it is the parsers' output, field by field.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from scrapers.mirror.server import SNAPSHOT_DIR, BackgroundMirror
from tests.scrapers.snapshot_rows import rows_by_source

EXPECTED_DIR = Path(__file__).with_name("expected")


def main() -> None:
    wanted = sys.argv[1:]
    with tempfile.TemporaryDirectory() as tmp, BackgroundMirror([SNAPSHOT_DIR]) as mirror:
        database = f"sqlite:///{tmp}/expected.db"
        command = [sys.executable, "-m", "aggregator.cli", "crawl", *wanted, "--mirror", mirror.url, "--db", database]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            sys.exit(f"crawl failed:\n{result.stdout}\n{result.stderr}")
        for source_id, rows in sorted(rows_by_source(database).items()):
            path = EXPECTED_DIR / f"{source_id}.json"
            ordered = [rows[url] for url in sorted(rows)]
            path.write_text(json.dumps(ordered, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
            print(f"{path.relative_to(Path.cwd())}: {len(ordered)} announcements")


if __name__ == "__main__":
    main()
