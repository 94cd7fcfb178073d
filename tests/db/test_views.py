"""The analysts' views (migration 0006) on SQLite and PostgreSQL: Warsaw days across the DST
switches, days until a deadline, stories with their sites."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text

from aggregator.annotate import annotate
from aggregator.entities import gazetteer
from db.engine import session_scope
from db.store import save_announcements, sync_entities
from scrapers.items import AnnouncementItem

WARSAW = ZoneInfo("Europe/Warsaw")
# Instants around the switches of 2024 (31 March, 27 October, both at 01:00 UTC) and year/month ends.
INSTANTS = [
    datetime(2024, 3, 30, 22, 59), datetime(2024, 3, 30, 23, 0), datetime(2024, 3, 31, 0, 59),
    datetime(2024, 3, 31, 1, 0), datetime(2024, 3, 31, 21, 59), datetime(2024, 3, 31, 22, 0),
    datetime(2024, 6, 30, 21, 59), datetime(2024, 6, 30, 22, 0), datetime(2024, 10, 26, 21, 59),
    datetime(2024, 10, 26, 22, 0), datetime(2024, 10, 27, 0, 59), datetime(2024, 10, 27, 1, 0),
    datetime(2024, 10, 27, 22, 59), datetime(2024, 10, 27, 23, 0), datetime(2024, 12, 31, 22, 59),
    datetime(2024, 12, 31, 23, 0), datetime(2021, 3, 28, 0, 59, 59, 999999), datetime(2021, 3, 28, 1, 0),
]  # fmt: skip
MONTHS = ("stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca", "sierpnia", "września",
          "października", "listopada", "grudnia")  # fmt: skip


def item(
    number: int, published: datetime | None, body: str = "Tekst ogłoszenia.", source: str = "mcps"
) -> AnnouncementItem:
    return AnnouncementItem(source_id=source, url=f"https://mcps.com.pl/v/{number}/", title=f"Ogłoszenie {number}",
                            body_html="", body_text=body, published_at=published)  # fmt: skip


def rows(database: str, sql: str) -> list[tuple]:
    with session_scope(database) as session:
        return [tuple(r) for r in session.execute(text(sql))]


def test_warsaw_days_and_months_across_dst(database: str) -> None:
    with session_scope(database, write=True) as session:
        save_announcements(session, [item(i, t.replace(tzinfo=UTC)) for i, t in enumerate(INSTANTS)] + [item(99, None)])
    got = rows(database, "SELECT announcement_id, published_day, published_month FROM v_announcements ORDER BY 1")
    expected = [(t.replace(tzinfo=UTC).astimezone(WARSAW).date()) for t in INSTANTS]
    assert [(str(day), month) for _, day, month in got[:-1]] == [(d.isoformat(), d.isoformat()[:7]) for d in expected]
    assert got[-1][1:] == (None, None), "no date, no day"


def test_deadlines_count_days_from_the_warsaw_today(database: str) -> None:
    today = datetime.now(WARSAW).date()
    deadline = today + timedelta(days=12)
    body = f"Nabór wniosków trwa do {deadline.day} {MONTHS[deadline.month - 1]} {deadline.year} r."
    now = datetime.now(UTC)
    with session_scope(database, write=True) as session:
        save_announcements(
            session, [item(1, now, body)], annotate=lambda i, seen: annotate(i.title, i.body_text, i.published_at, seen)
        )
    [(kind, start, days, voivodeship, context)] = rows(
        database, "SELECT kind, start_date, days_from_today, voivodeship, context FROM v_event_dates"
    )
    assert (kind, str(start), days, voivodeship) == ("until", deadline.isoformat(), 12, "mazowieckie")
    assert context.startswith("Nabór wniosków")


def test_stories_list_their_sites(database: str) -> None:
    published = datetime(2024, 5, 6, 10, tzinfo=UTC)
    with session_scope(database, write=True) as session:
        save_announcements(session, [item(1, published), item(2, published + timedelta(hours=1), source="mazovia"),
                                     item(3, published)])  # fmt: skip
        session.execute(text("UPDATE announcements SET story_key = 'k1' WHERE url LIKE '%/1/' OR url LIKE '%/2/'"))
        session.execute(text("UPDATE announcements SET story_key = 'k3' WHERE url LIKE '%/3/'"))
        session.execute(
            text(
                "INSERT INTO stories (key, representative_id, title, size, first_published_at, updated_at) "
                "SELECT story_key, min(id), 'x', count(*), :published, :published FROM announcements GROUP BY story_key"
            ),
            {"published": published.replace(tzinfo=None) if session.get_bind().dialect.name == "sqlite" else published},
        )
    got = rows(
        database,
        "SELECT story_key, announcements, sources, source_ids, voivodeships, source_id, first_published_day "
        "FROM v_stories ORDER BY 1",
    )
    assert [(*r[:6], str(r[6])) for r in got] == [
        ("k1", 2, 2, "mazovia, mcps", "mazowieckie", "mcps", "2024-05-06"),
        ("k3", 1, 1, "mcps", "mazowieckie", "mcps", "2024-05-06"),
    ]
    flags = rows(
        database,
        "SELECT announcement_id, story_id IS NOT NULL, is_story_representative FROM v_announcements ORDER BY 1",
    )
    assert [(r[1], r[2]) for r in flags] == [(True, 1), (True, 0), (True, 1)]
    assert rows(database, "SELECT count(*) FROM v_mentions") == [(0,)]


def test_tombstones_leave_the_live_views(database: str) -> None:
    """A page the institution took down is not news: its deadlines, mentions and site leave the
    views built for questions about what is on offer (v_announcements keeps it, marked)."""
    deadline = datetime.now(WARSAW).date() + timedelta(days=5)
    body = (f"Regionalny Ośrodek Polityki Społecznej w Białymstoku ogłasza nabór, który trwa do {deadline.day} "
            f"{MONTHS[deadline.month - 1]} {deadline.year} r.")  # fmt: skip
    published = datetime.now(UTC)
    with session_scope(database, write=True) as session:
        save_announcements(
            session,
            [item(1, published, body), item(2, published, body, source="mazovia")],
            annotate=lambda i, seen: annotate(i.title, i.body_text, i.published_at, seen),
        )
        session.execute(text("UPDATE announcements SET story_key = 'k1'"))
        session.execute(
            text(
                "INSERT INTO stories (key, representative_id, title, size, first_published_at, updated_at) "
                "SELECT 'k1', min(id), 'x', 1, :published, :published FROM announcements"
            ),
            {"published": published.replace(tzinfo=None) if session.get_bind().dialect.name == "sqlite" else published},
        )
        session.execute(
            text("UPDATE announcements SET deleted_at = :now, deleted_reason = 'HTTP 404' WHERE source_id = 'mazovia'"),
            {"now": published.replace(tzinfo=None) if session.get_bind().dialect.name == "sqlite" else published},
        )
    assert rows(database, "SELECT source_id FROM v_event_dates") == [("mcps",)]
    assert {r[0] for r in rows(database, "SELECT source_id FROM v_mentions")} == {"mcps"}
    assert rows(database, "SELECT sources, source_ids FROM v_stories") == [(1, "mcps")]
    marked = rows(database, "SELECT source_id, deleted_reason FROM v_announcements ORDER BY 1")
    assert marked == [("mazovia", "HTTP 404"), ("mcps", None)]


def test_mentions_say_in_gazetteer_with_1_or_0_on_both_databases(database: str) -> None:
    """docs/schema.md: "1 when it is a known institution of the gazetteer". On PostgreSQL the view
    gave the entities' boolean, and `in_gazetteer = 1` or `sum(in_gazetteer)` was an error."""
    body = "Regionalny Ośrodek Polityki Społecznej w Białymstoku i Spółdzielnia Socjalna „Razem” zapraszają."
    with session_scope(database, write=True) as session:
        sync_entities(session, gazetteer())  # as a crawl does first
        save_announcements(
            session,
            [item(1, datetime(2024, 5, 6, 10, tzinfo=UTC), body)],
            annotate=lambda i, seen: annotate(i.title, i.body_text, i.published_at, seen),
        )
    got = rows(database, "SELECT entity_key, in_gazetteer FROM v_mentions ORDER BY char_start")
    assert got == [("rops-bialystok", 1), ("spoldzielnia-socjalna-razem", 0)]
    assert rows(database, "SELECT count(*), sum(in_gazetteer) FROM v_mentions WHERE in_gazetteer = 1") == [(1, 1)]
