"""Migration 0017 on a database with failed pages: they are kept, without link text (their retries
read the page as one nothing led to, as before), and the revision goes down and up again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, inspect, select

from db.migrate import upgrade
from tests.db.revisions import add_source, database_at, downgrade_to, reflected

URL = "https://www.rops.rzeszow.pl/a-610-podpisanie-umowy-z-caritas-archidiecezji-przemyskiej"
KEY = "rops.rzeszow.pl/a-610-podpisanie-umowy-z-caritas-archidiecezji-przemyskiej"


def test_failed_pages_get_an_empty_link_text_and_the_revision_goes_down_and_up(db_url: str) -> None:
    engine, tables = database_at(db_url, "0016")
    when = datetime(2026, 12, 1, 3, 15)
    with engine.begin() as connection:
        add_source(connection, tables, "rops-rzeszow", "podkarpackie", "https://www.rops.rzeszow.pl/", when)
        connection.execute(insert(tables.tables["failed_pages"]).values(
            source_id="rops-rzeszow", url=URL, url_key=KEY, kind="article", reason="HTTP 500", first_failed_at=when,
            last_failed_at=when, attempts=1, feed_categories=[]))  # fmt: skip

    upgrade(db_url)
    failed = reflected(engine).tables["failed_pages"]
    with engine.begin() as connection:
        assert connection.execute(select(failed.c.url, failed.c.link_text)).all() == [(URL, None)]
        connection.execute(failed.update().values(link_text="Podpisanie umowy z Caritas Archidiecezji Przemyskiej"))

    downgrade_to(db_url, "0016")
    with engine.connect() as connection:
        assert "link_text" not in [c["name"] for c in inspect(connection).get_columns("failed_pages")]
        assert [c["column_names"] for c in inspect(connection).get_unique_constraints("failed_pages")] == [
            ["source_id", "url_key"]
        ], "SQLite's copy of the table keeps its unique key (record_failures' ON CONFLICT needs it)"
        assert connection.execute(select(reflected(engine).tables["failed_pages"].c.url)).scalars().all() == [URL]
    upgrade(db_url)
