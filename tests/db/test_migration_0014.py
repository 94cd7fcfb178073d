"""JSON columns hold Polish text as written: new writes (db.engine.json_text) and, after migration
0014, the rows written before with ASCII escapes."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import insert, text

from db.migrate import upgrade
from tests.db.revisions import add_source, database_at


def test_escaped_values_are_rewritten_as_written_and_new_ones_are_written_so(db_url: str) -> None:
    engine, tables = database_at(db_url, "0013")
    when = datetime(2024, 5, 1, 12, 0)
    with engine.begin() as connection:
        add_source(connection, tables, "rops-lublin", "lubelskie", "http://rops.lubelskie.pl/", when)
        row = {"source_id": "rops-lublin", "title": "Gala", "body_text": "Gala", "body_html": "<p>Gala</p>",
               "language": "pl", "content_hash": "h", "search_text": "gala", "search_terms": "gala",
               "first_seen_at": when, "last_seen_at": when, "updated_at": when}  # fmt: skip
        connection.execute(insert(tables.tables["announcements"]).values(
            id=1, url="http://rops.lubelskie.pl/gala/", url_key="rops.lubelskie.pl/gala", categories=[],
            **row))  # fmt: skip
        # as json.dumps wrote it until now
        value = "CAST(:escaped AS JSON)" if engine.dialect.name == "postgresql" else ":escaped"
        connection.execute(text(f"UPDATE announcements SET categories = {value} WHERE id = 1"),
                           {"escaped": '["Aktualno\\u015bci", "Ekonomia spo\\u0142eczna"]'})  # fmt: skip
        connection.execute(insert(tables.tables["announcements"]).values(
            id=2, url="http://rops.lubelskie.pl/konkurs/", url_key="rops.lubelskie.pl/konkurs",
            categories=["Pożytek publiczny"], **row))  # fmt: skip

    upgrade(db_url)
    with engine.connect() as connection:
        raw = dict(connection.execute(text("SELECT id, CAST(categories AS TEXT) FROM announcements")).all())
        found = connection.execute(
            text("SELECT id FROM announcements WHERE CAST(categories AS TEXT) LIKE '%Aktualności%'")
        ).scalars()
        assert list(found) == [1]
    assert json.loads(raw[1]) == ["Aktualności", "Ekonomia społeczna"] and "Ekonomia społeczna" in raw[1]
    assert "Pożytek publiczny" in raw[2], "a new write, unescaped"
