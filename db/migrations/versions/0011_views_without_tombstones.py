"""analysts' views leave tombstones out

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 04:10:00

A deleted page (a tombstone, migration 0009) is not news any more: `v_stories` counts and lists
only the live pages of a story, and `v_mentions` and `v_event_dates` leave deleted pages out, so
"deadlines in the next 30 days" never lists an announcement the institution took down.
`v_announcements` keeps every row with its `deleted_at`/`deleted_reason` (an analyst may want them).
"""

from collections.abc import Sequence

from alembic import op

from db.migrate import revision_module

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE_VIEWS = ("v_event_dates", "v_mentions", "v_stories")


def create_live_views(dialect: str) -> None:
    views = revision_module("0006_search_and_views.py")
    d, day, month, days_from_today, listed = dialect, views._day, views._month, views._days_from_today, views._list
    members = "FROM announcements m WHERE m.story_key = st.key AND m.deleted_at IS NULL"
    op.execute(f"""
        CREATE VIEW v_stories AS
        SELECT st.id AS story_id, st.key AS story_key, st.title, st.size AS announcements,
               (SELECT count(DISTINCT m.source_id) {members}) AS sources,
               {listed(d, "m.source_id", members)} AS source_ids,
               {
        listed(
            d,
            "ms.voivodeship",
            "FROM announcements m JOIN sources ms ON ms.id = m.source_id "
            "WHERE m.story_key = st.key AND m.deleted_at IS NULL",
        )
    } AS voivodeships,
               st.representative_id AS representative_announcement_id, a.source_id, s.institution, s.voivodeship,
               a.url, st.first_published_at, {day(d, "st.first_published_at")} AS first_published_day,
               {month(d, "st.first_published_at")} AS first_published_month, st.updated_at
        FROM stories st
        LEFT JOIN announcements a ON a.id = st.representative_id
        LEFT JOIN sources s ON s.id = a.source_id""")
    op.execute(f"""
        CREATE VIEW v_mentions AS
        SELECT m.id AS mention_id, m.announcement_id, a.source_id, s.voivodeship, a.title, a.url,
               {day(d, "a.published_at")} AS published_day, a.story_key,
               m.field, m.surface, m.char_start, m.char_end,
               e.id AS entity_id, e.key AS entity_key, e.canonical AS entity_name, e.acronym AS entity_acronym,
               e.kind AS entity_kind, e.voivodeship AS entity_voivodeship, e.in_gazetteer
        FROM mentions m
        JOIN entities e ON e.id = m.entity_id
        JOIN announcements a ON a.id = m.announcement_id
        JOIN sources s ON s.id = a.source_id
        WHERE a.deleted_at IS NULL""")
    op.execute(f"""
        CREATE VIEW v_event_dates AS
        SELECT ed.id AS event_date_id, ed.announcement_id, a.source_id, s.institution, s.voivodeship, a.title, a.url,
               {day(d, "a.published_at")} AS published_day, a.story_key,
               ed.kind, ed.start_date, ed.end_date, ed.start_at, ed.end_at, ed.granularity,
               {days_from_today(d, "ed.start_date")} AS days_from_today,
               ed.match, ed.context, ed.field
        FROM event_dates ed
        JOIN announcements a ON a.id = ed.announcement_id
        JOIN sources s ON s.id = a.source_id
        WHERE a.deleted_at IS NULL""")


def upgrade() -> None:
    for view in LIVE_VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")
    create_live_views(op.get_bind().dialect.name)


def downgrade() -> None:
    """Back to 0006's definitions of the three views (v_announcements is 0009's, untouched)."""
    views = revision_module("0006_search_and_views.py")
    for view in LIVE_VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")
    # 0006 creates all four; keep 0009's v_announcements by re-creating it after.
    op.execute("DROP VIEW IF EXISTS v_announcements")
    views.create_views(op.get_bind().dialect.name)
    op.execute("DROP VIEW IF EXISTS v_announcements")
    revision_module("0009_url_identity_tombstones.py")._create_v_announcements(op.get_bind().dialect.name)
