from __future__ import annotations

from scrapers.coverage import BEGIN, END, README, render, table
from scrapers.registry import load_sources


def test_readme_coverage_table_is_current() -> None:
    readme = README.read_text(encoding="utf-8")
    assert BEGIN in readme and END in readme
    assert readme == render(readme), "stale: run `.venv/bin/python -m scrapers.coverage`"


def test_table_lists_every_source() -> None:
    for source in load_sources():
        assert f"| `{source.id}` |" in table()
