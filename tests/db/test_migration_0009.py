"""Migration 0009 on a database with data: keys for every row, one page under two URLs merged."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, text

from db.migrate import upgrade
from tests.db.revisions import add_source, database_at, reflected

ROPS = "https://www.rops-bialystok.pl/andrzej3/?p=6488"


def test_existing_rows_get_their_key_and_duplicate_urls_merge(db_url: str) -> None:
    engine, tables = database_at(db_url, "0008")
    when = datetime(2024, 5, 1, 12, 0)

    def row(id_: int, url: str, story: str | None, seen_day: int) -> dict:
        return {"id": id_, "source_id": "rops-bialystok", "url": url, "title": f"Wpis {id_}", "body_text": "Treść",
                "body_html": "<p>Treść</p>", "categories": [], "language": "pl", "content_hash": f"h{id_}",
                "search_text": "tresc", "story_key": story, "first_seen_at": when,
                "last_seen_at": when.replace(day=seen_day), "updated_at": when}  # fmt: skip

    with engine.begin() as connection:
        add_source(connection, tables, "rops-bialystok", "podlaskie", "https://www.rops-bialystok.pl/", when)
        connection.execute(insert(tables.tables["announcements"]), [
            row(1, ROPS, "story-a", 1),
            row(2, "http://rops-bialystok.pl/andrzej3/?p=6488&utm_source=fb", "story-b", 9),  # the same page
            row(3, "https://www.rops-bialystok.pl/andrzej3/?p=7000", "story-b", 1),
        ])  # fmt: skip
        connection.execute(insert(tables.tables["announcement_versions"]).values(
            announcement_id=2, title="Stary tytuł", body_text="x", body_html="x", content_hash="old",
            replaced_at=when))  # fmt: skip
        connection.execute(insert(tables.tables["stories"]), [
            {"key": "story-a", "representative_id": 1, "title": "A", "size": 1, "updated_at": when},
            {"key": "story-b", "representative_id": 2, "title": "B", "size": 2, "updated_at": when},
        ])  # fmt: skip

    upgrade(db_url)
    tables = reflected(engine)
    announcements, versions = tables.tables["announcements"], tables.tables["announcement_versions"]
    with engine.connect() as connection:
        stored = connection.execute(
            select(announcements.c.id, announcements.c.url_key, announcements.c.story_key,
                   announcements.c.last_seen_at, announcements.c.deleted_at).order_by(announcements.c.id)
        ).all()  # fmt: skip
        assert [(r.id, r.url_key, r.story_key, r.deleted_at) for r in stored] == [
            (1, "rops-bialystok.pl/andrzej3?p=6488", None, None),
            (3, "rops-bialystok.pl/andrzej3?p=7000", None, None),
        ], "the second URL of one page merged into the first; both stories are judged again"
        assert stored[0].last_seen_at.replace(tzinfo=None) == when.replace(day=9), "the latest sighting kept"
        assert connection.execute(select(versions.c.announcement_id)).scalars().all() == [1]
        assert connection.execute(select(tables.tables["stories"].c.key)).scalars().all() == []
        runs = tables.tables["crawl_runs"]
        assert {"items_deleted", "items_restored"} <= set(runs.c.keys())
        view = connection.execute(
            text("SELECT announcement_id, deleted_at, deleted_reason FROM v_announcements ORDER BY 1")
        )
        assert [tuple(r) for r in view] == [(1, None, None), (3, None, None)], "analysts see the tombstone columns"
