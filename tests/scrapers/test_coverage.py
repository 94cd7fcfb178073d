from __future__ import annotations

import pytest

from scrapers.coverage import BEGIN, COUNTS, END, README, counts, render, table
from scrapers.registry import load_sources


def test_readme_coverage_table_is_current() -> None:
    readme = README.read_text(encoding="utf-8")
    assert BEGIN in readme and END in readme
    assert readme == render(readme), "stale: run `.venv/bin/python -m scrapers.coverage`"


def test_table_lists_every_source() -> None:
    for source in load_sources():
        assert f"| `{source.id}` |" in table()


def test_the_what_works_today_counts_are_generated_too() -> None:
    """docs/adding-a-source.md had the README's "What works today" counts updated by hand after
    `python -m scrapers.coverage`; only the whole demo crawl (tests/scrapers/test_sources.py) noticed
    a miss. They are written with the table, line breaks kept, and the fast test above sees them."""
    readme = README.read_text(encoding="utf-8")
    numbers = counts()
    stale = COUNTS.sub(
        lambda m: m.group(0).replace(f"{numbers['registered']} registered", "99 registered", 1).replace(
            f"{numbers['dated']} of them", "1 of them", 1), readme, count=1)  # fmt: skip
    assert stale != readme
    assert render(stale) == readme
    assert f"What works today: {numbers['registered']} registered sources ({numbers['crawled']} crawled;" in readme
    with pytest.raises(ValueError, match="no sentence matching"):
        render(readme.replace("What works today:", "What works now:"))
