"""`ropsfeed export`: the feed's stories or every announcement as CSV / JSON lines, same filters."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from aggregator.cli import app
from aggregator.export import ANNOUNCEMENT_COLUMNS, STORY_COLUMNS
from aggregator.feeds import FeedFilters, select_entries
from db.engine import session_scope
from db.models import Announcement
from tests.conftest import run_cli

pytestmark = pytest.mark.network


@pytest.fixture(scope="module")
def crawled(demo_database: str) -> str:
    """The session's crawl of the whole mirror (these tests only read it)."""
    return demo_database


def cli(database: str, *args: str) -> str:
    """The command in this process (the subprocess path is covered by test_output_file_and_bad_input)."""
    result = CliRunner().invoke(app, [*args, "--db", database])
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize(
    "filters", [{}, {"voivodeship": "mazowieckie"}, {"query": "spółdzielnia socjalna"}, {"entity": "MCPS"}]
)
def test_stories_csv_lists_the_feed_in_its_order(crawled: str, filters: dict[str, str]) -> None:
    text = cli(crawled, "export", "--format", "csv", *(f"--{k}={v}" for k, v in filters.items()))
    reader = csv.DictReader(io.StringIO(text))
    assert tuple(reader.fieldnames or ()) == STORY_COLUMNS
    rows = list(reader)
    with session_scope(crawled) as session:
        feed = select_entries(session, FeedFilters(limit=1000, **filters))
    assert [r["url"] for r in rows] == [e.url for e in feed]
    assert rows and all(r["url"].startswith(("https://", "http://")) and "127.0.0.1" not in r["url"] for r in rows)
    for row in rows:
        others = [u for u in row["other_urls"].split(" | ") if u]
        assert int(row["announcements"]) == 1 + len(others)
        if row["published_at"]:
            assert row["published_at"].endswith("Z") and len(row["published_day"]) == 10


def test_announcements_jsonl_one_row_per_matching_announcement(crawled: str) -> None:
    lines = cli(crawled, "export", "--format", "jsonl", "--level", "announcements", "--source", "mcps").splitlines()
    rows = [json.loads(line) for line in lines]
    with session_scope(crawled) as session:
        expected = session.scalar(select(func.count()).where(Announcement.source_id == "mcps"))
    assert len(rows) == expected and {r["source_id"] for r in rows} == {"mcps"}
    assert all(tuple(r) == ANNOUNCEMENT_COLUMNS for r in rows)
    assert all(r["institution"] == "Mazowieckie Centrum Polityki Społecznej" for r in rows), "UTF-8 kept"
    dated = [r["published_at"] for r in rows if r["published_at"]]
    assert dated == sorted(dated, reverse=True)
    assert any(r["attachments"] for r in rows) and all(isinstance(r["attachments"], list) for r in rows)
    limited = cli(crawled, "export", "--format", "jsonl", "--level", "announcements", "--limit", "3")
    assert len(limited.splitlines()) == 3


def test_output_file_and_bad_input(crawled: str, tmp_path: Path) -> None:
    target = tmp_path / "podlaskie.csv"
    result = run_cli("export", "--db", crawled, "--voivodeship", "podlaskie", "--output", str(target))
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert rows and {r["voivodeship"] for r in rows} == {"podlaskie"}
    assert f"{len(rows)} stories written to {target}" in result.stderr
    before = target.read_bytes()
    for bad in (("--format", "xml"), ("--voivodeship", "mazowsze"), ("--level", "entities"), ("--query", "?!")):
        failed = CliRunner().invoke(app, ["export", "--db", crawled, "--output", str(target), *bad])
        assert failed.exit_code == 2 and "error:" in failed.stderr, bad
    assert target.read_bytes() == before, "a refused export leaves the previous file alone"
    assert not list(tmp_path.glob("*.partial"))


def test_csv_for_excel_opens_as_polish_text_in_columns(crawled: str, tmp_path: Path) -> None:
    """`--format csv-excel`: what a Polish Excel reads right by double-click (BOM, semicolons,
    CRLF); the same rows as the plain CSV, and a cell starting like a formula kept as text."""
    target = tmp_path / "ogloszenia.csv"
    result = run_cli("export", "--db", crawled, "--format", "csv-excel", "--level", "announcements",
                     "--output", str(target))  # fmt: skip
    assert result.returncode == 0, result.stderr
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    excel = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    plain = list(csv.DictReader(io.StringIO(cli(crawled, "export", "--level", "announcements"))))
    assert excel == plain
    assert any("Ośrodek" in row["institution"] for row in excel)


def test_a_cell_that_looks_like_a_formula_stays_text_in_excel() -> None:
    from aggregator.export import write

    out = io.StringIO()
    write([{"title": "=HYPERLINK(\"http://x\")", "lead": "-10% kosztów", "url": "https://x.pl/"}],
          ("title", "lead", "url"), "csv-excel", out)  # fmt: skip
    [row] = list(csv.DictReader(io.StringIO(out.getvalue().lstrip("\ufeff")), delimiter=";"))
    assert row == {"title": '\'=HYPERLINK("http://x")', "lead": "'-10% kosztów", "url": "https://x.pl/"}


@pytest.mark.parametrize("export_format", ["csv", "csv-excel", "jsonl"])
def test_standard_output_is_utf8_whatever_the_locale_says(crawled: str, export_format: str) -> None:
    """`ropsfeed export > plik.csv` where standard output is not UTF-8 (Windows writes a file or a
    pipe in cp1250; here PYTHONIOENCODING says so): the export is UTF-8 as documented, not the code
    page, and csv-excel's byte order mark is no UnicodeEncodeError."""
    result = subprocess.run(
        [sys.executable, "-m", "aggregator.cli", "export", "--db", crawled, "--format", export_format,
         "--level", "announcements"],
        env={**os.environ, "PYTHONIOENCODING": "cp1250"}, capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    text = result.stdout.decode("utf-8")
    assert "Regionalny Ośrodek Polityki Społecznej" in text
    assert result.stdout.startswith(b"\xef\xbb\xbf") == (export_format == "csv-excel")
    assert b"\r\r\n" not in result.stdout
