"""Migration 0013 on a database with data: stored rows get no pictures, and search keeps working."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, inspect, select, text

from db.engine import get_engine
from db.migrate import upgrade
from db.search import search_fields
from tests.db.revisions import add_source, database_at, downgrade_to, reflected


def test_stored_rows_get_an_empty_list_of_images_and_keep_their_full_text_search(db_url: str) -> None:
    engine, tables = database_at(db_url, "0012")
    when = datetime(2024, 5, 1, 12, 0)
    title, body = "Nabór wniosków", "Regionalny Ośrodek Polityki Społecznej ogłasza nabór."
    search_text, search_terms = search_fields(title, None, body)
    with engine.begin() as connection:
        add_source(connection, tables, "mcps", "mazowieckie", "https://mcps.com.pl/", when)
        connection.execute(insert(tables.tables["announcements"]).values(
            id=1, source_id="mcps", url="https://mcps.com.pl/nabor/", url_key="mcps.com.pl/nabor", title=title,
            body_text=body, body_html=f"<p>{body}</p>", categories=[], language="pl", content_hash="h",
            search_text=search_text, search_terms=search_terms, first_seen_at=when, last_seen_at=when,
            updated_at=when))  # fmt: skip

    upgrade(db_url)
    tables = reflected(engine)
    announcements = tables.tables["announcements"]
    with engine.begin() as connection:
        assert connection.execute(select(announcements.c.images)).scalar_one() == []
        connection.execute(insert(announcements).values(
            id=2, source_id="mcps", url="https://mcps.com.pl/ogloszenie/", url_key="mcps.com.pl/ogloszenie",
            title="Ogłoszenie", body_text="Spółdzielnia socjalna.", body_html="<p>Spółdzielnia socjalna.</p>",
            categories=[], language="pl", content_hash="h2", search_text="spoldzielnia socjalna",
            search_terms="spoldzielnia socjalna", first_seen_at=when, last_seen_at=when, updated_at=when))  # fmt: skip
        if engine.dialect.name == "sqlite":  # the triggers of migration 0006 survive the new column
            match = text("SELECT rowid FROM announcements_fts WHERE announcements_fts MATCH :query")
            assert connection.execute(match, {"query": "nabor"}).scalars().all() == [1]
            assert connection.execute(match, {"query": "spoldzielnia"}).scalars().all() == [2], "a row added after"
        assert connection.execute(select(announcements.c.images).where(announcements.c.id == 2)).scalar_one() == []


def test_the_revision_goes_down_and_up_again_with_the_view(db_url: str) -> None:
    upgrade(db_url)
    engine = get_engine(db_url)

    def view_columns() -> list[str]:
        with engine.connect() as connection:
            return list(connection.execute(text("SELECT * FROM v_announcements WHERE 1 = 0")).keys())

    assert view_columns()[-3:] == ["deleted_at", "deleted_reason", "images"], "appended last"
    downgrade_to(db_url, "0012")
    assert view_columns()[-2:] == ["deleted_at", "deleted_reason"]
    with engine.connect() as connection:
        assert "images" not in [c["name"] for c in inspect(connection).get_columns("announcements")]
        if engine.dialect.name == "sqlite":
            triggers = connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars()
            assert {"announcements_fts_ai", "announcements_fts_ad", "announcements_fts_au"} <= set(triggers)
    upgrade(db_url)
    assert view_columns()[-1] == "images"
