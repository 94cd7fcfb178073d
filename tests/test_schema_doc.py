"""docs/schema.md cannot rot: every example query runs against a crawled demo database (SQLite, and
PostgreSQL when it is there, with the same answers), and metadata.yml's canned queries are the
docs' examples, run through Datasette's own API."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections import Counter
from datetime import UTC, datetime, timedelta
from importlib.metadata import entry_points
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import select, text, update

from aggregator.annotate import annotate
from aggregator.export import announcement_rows
from aggregator.feeds import FeedFilters
from db.engine import get_engine, session_scope
from db.models import Announcement, EventDate, Source
from db.store import save_announcements
from scrapers.items import AnnouncementItem
from scrapers.mirror.server import BackgroundMirror
from tests.conftest import REPO, run_cli

pytestmark = pytest.mark.network
WARSAW = ZoneInfo("Europe/Warsaw")
MONTHS = ("stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca", "sierpnia", "września",
          "października", "listopada", "grudnia")  # fmt: skip
EXAMPLE = re.compile(r"<!-- example: (\S+)(?: (sqlite|postgresql))? -->\n```sql\n(.*?)```", re.S)


def examples() -> dict[str, tuple[str | None, str]]:
    """name → (dialect or None for both, SQL) from docs/schema.md."""
    found = EXAMPLE.findall((REPO / "docs" / "schema.md").read_text(encoding="utf-8"))
    return {f"{name} {dialect}".strip(): (dialect or None, sql.strip().rstrip(";")) for name, dialect, sql in found}


def crawl_demo(database: str, mirror: BackgroundMirror) -> None:
    """The demo crawl, plus one announcement whose recruitment deadline is in 10 days and a
    programme horizon ("do roku 2030") as near as it is in December."""
    result = run_cli("crawl", "--mirror", mirror.url, "--db", database, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    add_upcoming_deadline(database)
    bring_a_horizon_near(database)


def add_upcoming_deadline(database: str) -> None:
    """One announcement whose recruitment deadline is in 10 days (the demo's texts are years old),
    stored through the ingest path like any crawled page."""
    deadline = datetime.now(WARSAW).date() + timedelta(days=10)
    body = f"Nabór wniosków do programu trwa do {deadline.day} {MONTHS[deadline.month - 1]} {deadline.year} r."
    item = AnnouncementItem(source_id="rops-bialystok", url="https://www.rops-bialystok.pl/rops/?p=999999",
                            title="Nabór wniosków do programu", body_html=f"<p>{body}</p>", body_text=body,
                            published_at=datetime.now(UTC) - timedelta(days=1))  # fmt: skip
    with session_scope(database, write=True) as session:
        save_announcements(
            session, [item], annotate=lambda i, seen: annotate(i.title, i.body_text, i.published_at, seen)
        )


HORIZON_TITLE = "A programme's horizon"


def bring_a_horizon_near(database: str) -> None:
    """One "do roku 2030" of the demo (kind `until`, granularity `year`) 5 days from today, as
    in the last days of 2030, under a title of its own: the deadlines query must leave it out."""
    soon = datetime.now(WARSAW).date() + timedelta(days=5)
    with session_scope(database, write=True) as session:
        horizon = session.scalars(  # the same one on both databases (ids follow the order of writes)
            select(EventDate)
            .join(Announcement, Announcement.id == EventDate.announcement_id)
            .where(EventDate.kind == "until", EventDate.granularity == "year")
            .order_by(Announcement.url, EventDate.field, EventDate.char_start)
        ).first()
        assert horizon is not None, "the demo names programmes running until a year"
        horizon.start_date = soon
        session.execute(
            update(Announcement).where(Announcement.id == horizon.announcement_id).values(title=HORIZON_TITLE)
        )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, demo_database: str) -> str:
    """A copy of the session's demo crawl (SQLite's backup API), plus the upcoming deadline."""
    path = tmp_path_factory.mktemp("schema-doc") / "ropsfeed.db"
    source = sqlite3.connect(demo_database.removeprefix("sqlite:///"))
    target = sqlite3.connect(path)
    with target:
        source.backup(target)
    source.close()
    target.close()
    database = f"sqlite:///{path}"
    add_upcoming_deadline(database)
    bring_a_horizon_near(database)
    return database


def run(database: str, sql: str, **params: object) -> list[tuple]:
    with session_scope(database) as session:
        return [
            tuple(str(v) if hasattr(v, "isoformat") else v for v in row) for row in session.execute(text(sql), params)
        ]


def answers(database: str, dialect: str) -> dict[str, list[tuple]]:
    return {name: run(database, sql) for name, (only, sql) in examples().items() if only in (None, dialect)}


def expected_deadlines(database: str) -> list[tuple]:
    today = datetime.now(WARSAW).date()
    with session_scope(database) as session:
        rows = session.execute(
            select(Source.voivodeship, EventDate.start_date, Announcement.title)
            .join(Announcement, Announcement.id == EventDate.announcement_id)
            .join(Source, Source.id == Announcement.source_id)
            .where(EventDate.kind == "until", EventDate.granularity != "year")
        ).all()
    return sorted((v, d.isoformat(), t) for v, d, t in rows if 0 <= (d - today).days <= 30)


def expected_per_month(database: str) -> Counter:
    with session_scope(database) as session:
        rows = session.execute(
            select(Source.institution, Announcement.published_at).join(Source, Source.id == Announcement.source_id)
        ).all()
    return Counter((i, p.astimezone(WARSAW).strftime("%Y-%m")) for i, p in rows if p is not None)


def test_examples_answer_correctly_on_sqlite(demo: str) -> None:
    got = answers(demo, "sqlite")
    assert set(got) == {n for n, (d, _) in examples().items() if d in (None, "sqlite")} and len(got) >= 5
    deadlines = got["deadlines_next_30_days"]
    assert [(v, d, t) for v, d, _, t, _, _ in deadlines] == expected_deadlines(demo)
    assert ("podlaskie", "Nabór wniosków do programu") in {(r[0], r[3]) for r in deadlines}
    assert HORIZON_TITLE not in {r[3] for r in deadlines}, "a programme's horizon is no deadline"
    assert all(0 <= r[2] <= 30 and "do " in r[5] for r in deadlines)
    per_month = got["announcements_per_institution_month"]
    assert Counter({(i, m): n for i, m, n in per_month}) == expected_per_month(demo)
    assert got["cross_posted_stories"], "the demo has news on two sites"
    assert all(r[2] > 1 for r in got["cross_posted_stories"])
    assert got["most_mentioned_institutions"] and len(got["most_mentioned_institutions"]) <= 20
    pictures = {source: (announcements, count) for source, announcements, count in got["pictures_per_source"]}
    assert pictures["kujawsko-pomorskie"] == (4, 4) and pictures["rops-kielce"] == (1, 3), "a gallery: 3 in one"
    assert Counter(dict(got["announcements_in_category"])) == expected_in_category(demo, "Aktualności")
    found = got["search sqlite"]
    assert found
    assert_newest_first_undated_last(found)
    with session_scope(demo) as session:
        terms = dict(session.execute(select(Announcement.url, Announcement.search_terms)).all())
    for _, _, url in found:
        words = terms[url].split()
        assert any(w.startswith("spoldzielni") for w in words) and any(w.startswith("socjaln") for w in words)


@pytest.mark.postgres
def test_examples_give_the_same_answers_on_postgresql(demo: str, postgres_url: str, mirror: BackgroundMirror) -> None:
    crawl_demo(postgres_url, mirror)
    sqlite, postgres = answers(demo, "sqlite"), answers(postgres_url, "postgresql")
    for name in ("deadlines_next_30_days", "announcements_per_institution_month", "cross_posted_stories",
                 "announcements_in_category"):  # fmt: skip
        assert sorted(postgres[name], key=str) == sorted(sqlite[name], key=str), name  # collations differ
    top = Counter({(n, k): c for n, k, c in postgres["most_mentioned_institutions"]})
    reference = {(n, k): c for n, k, c in sqlite["most_mentioned_institutions"]}
    cutoff = min(top.values())
    assert {key: c for key, c in top.items() if c > cutoff} == {k: c for k, c in reference.items() if c > cutoff}
    assert sorted(postgres["search postgresql"], key=str) == sorted(sqlite["search sqlite"], key=str)
    assert_newest_first_undated_last(postgres["search postgresql"])  # PostgreSQL sorts NULL first unless told


def assert_newest_first_undated_last(rows: list[tuple]) -> None:
    """Rows whose first column is a Warsaw day or None: the dated ones newest first, then the rest."""
    days = [row[0] for row in rows]
    dated = [day for day in days if day is not None]
    assert dated and days[: len(dated)] == dated == sorted(dated, reverse=True), days


def expected_in_category(database: str, category: str) -> Counter:
    with session_scope(database) as session:
        rows = session.execute(
            select(Announcement.source_id, Announcement.categories).where(Announcement.deleted_at.is_(None))
        ).all()
    counted = Counter(source for source, categories in rows if any(category in c for c in categories or []))
    assert counted, f"the demo has announcements filed under {category!r}"
    return counted


def test_readme_example_is_the_tested_one() -> None:
    """README's analysts' example runs on neither database as it stood (date('now') is SQLite's,
    and the UTC day); it is the docs' tested deadlines query, word for word."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## For analysts: the tables") :]
    sql = re.search(r"```sql\n(.*?)```", section, re.S)
    assert sql is not None
    assert sql.group(1).strip().rstrip(";") == examples()["deadlines_next_30_days"][1]


# Typed as people type: a hyphen and an apostrophe were FTS5 syntax errors (HTTP 400) in the canned
# search, and inflected or diacritic-less words found only the forms they spelled out.
SEARCHES = ("Warmińsko-Mazurskiego", "MCPS-u", "ekonomia spoleczna", "spółdzielni socjalnych", "Łódź", "ROPS'u")


def test_datasette_loads_ropsfeeds_plugin() -> None:
    """The canned search needs `ropsfeed_match`: Datasette finds it through the entry point."""
    plugins = {e.value for e in entry_points(group="datasette")}
    assert "aggregator.datasette_plugin" in plugins, (
        "entry point not installed: `make install` (pyproject.toml changed)"
    )


def test_datasette_metadata_serves_the_docs_examples(demo: str) -> None:
    from datasette.app import Datasette

    metadata = yaml.safe_load((REPO / "metadata.yml").read_text(encoding="utf-8"))
    database = metadata["databases"]["ropsfeed"]
    canned = {name: query["sql"].strip() for name, query in database["queries"].items()}
    portable = {name: sql for name, (only, sql) in examples().items() if only is None}
    assert {name: canned[name] for name in portable} == portable, "metadata.yml repeats docs/schema.md word for word"
    assert database["tables"]["announcements"]["fts_table"] == "announcements_fts"

    path = Path(demo.removeprefix("sqlite:///"))
    with get_engine(demo).connect() as connection:  # --immutable reads the file, not the WAL beside it
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    async def fetch() -> dict[str, list[dict]]:
        datasette = Datasette(immutables=[str(path)], metadata=metadata)
        await datasette.invoke_startup()
        urls = {
            "deadlines": "/ropsfeed/deadlines_next_30_days.json?_shape=array",
            "search": "/ropsfeed/search.json?_shape=array&q=spółdzielnia",
            "table_search": "/ropsfeed/announcements.json?_shape=array&_search=nabor*&_col=title",
            **{q: f"/ropsfeed/search.json?_shape=array&_size=max&q={quote(q)}" for q in SEARCHES},
            "no words": "/ropsfeed/search.json?_shape=array&q=",  # the form as it opens: no error
        }
        results = {}
        for key, url in urls.items():
            response = await datasette.client.get(url)
            assert response.status_code == 200, (url, response.text[:500])
            results[key] = response.json()
        return results

    results = asyncio.run(fetch())
    assert [(r["voivodeship"], r["deadline"], r["title"]) for r in results["deadlines"]] == expected_deadlines(demo)
    assert results["search"] and all("url" in r for r in results["search"])
    assert results["no words"] == []
    for query in SEARCHES:  # the canned search finds what `ropsfeed export --query` finds
        with session_scope(demo) as session:
            exported = {row["url"] for row in announcement_rows(session, FeedFilters(query=query), None)}
        assert exported and {r["url"] for r in results[query]} == exported, query
    assert results["table_search"] and any("Nabór" in r["title"] for r in results["table_search"])


def documented_view_columns() -> dict[str, list[str]]:
    """view → the column names of its table in docs/schema.md (first cell of each row), in order."""
    doc = (REPO / "docs" / "schema.md").read_text(encoding="utf-8")
    views: dict[str, list[str]] = {}
    for match in re.finditer(r"^### `(v_\w+)`(.*?)(?=^##)", doc, re.S | re.M):
        rows = [line.split("|")[1] for line in match.group(2).splitlines() if line.startswith("| `")]
        views[match.group(1)] = [name for cell in rows for name in re.findall(r"`(\w+)`", cell)]
    return views


def test_every_documented_view_column_is_there_and_every_column_is_documented(database: str) -> None:
    """On both databases: an analyst reads the column list before writing a query."""
    documented = documented_view_columns()
    assert set(documented) == {"v_announcements", "v_stories", "v_mentions", "v_event_dates"}
    with session_scope(database) as session:
        for view, columns in documented.items():
            assert sorted(session.execute(text(f"SELECT * FROM {view} WHERE 1 = 0")).keys()) == sorted(columns), view
