"""full-text search (FTS5 / tsvector) over folded words and lemmas; analysts' views

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 02:40:00

SQLite: `announcements_fts`, an external-content FTS5 table over `announcements.search_terms`,
kept in sync by triggers. PostgreSQL: a GIN index on `to_tsvector('simple', search_terms)`.
Views `v_announcements`, `v_stories`, `v_mentions`, `v_event_dates` (docs/schema.md).

Note for later migrations: on SQLite, a batch ("move and copy") migration of `announcements`
drops the table's triggers, and SQLite refuses to rename a table while a view names a missing
one. Such a migration must call `drop_views()` first and `create_views()` and
`create_fts_triggers()` of a new revision afterwards (tests/db/test_search.py checks the triggers).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VIEWS = ("v_event_dates", "v_mentions", "v_stories", "v_announcements")
BACKFILL_BATCH = 500


def _backfill() -> None:
    """search_terms of the rows already there. Derived data: computed with the current code on purpose
    (db.search.index_terms), the same function the ingest path and `reparse` use."""
    from db.search import index_terms

    connection = op.get_bind()
    table = sa.table("announcements", sa.column("id"), sa.column("title"), sa.column("lead"),
                     sa.column("body_text"), sa.column("search_terms"))  # fmt: skip
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(table.c.id, table.c.title, table.c.lead, table.c.body_text)
            .where(table.c.id > last_id)
            .order_by(table.c.id)
            .limit(BACKFILL_BATCH)
        ).all()
        if not rows:
            return
        connection.execute(
            table.update().where(table.c.id == sa.bindparam("row_id")).values(search_terms=sa.bindparam("terms")),
            [{"row_id": r.id, "terms": index_terms(r.title, r.lead, r.body_text)} for r in rows],
        )
        last_id = rows[-1].id


def create_fts_triggers() -> None:
    """SQLite: keep announcements_fts in step with every insert, update and delete of announcements."""
    op.execute("""
        CREATE TRIGGER announcements_fts_ai AFTER INSERT ON announcements BEGIN
            INSERT INTO announcements_fts(rowid, search_terms) VALUES (new.id, new.search_terms);
        END""")
    op.execute("""
        CREATE TRIGGER announcements_fts_ad AFTER DELETE ON announcements BEGIN
            INSERT INTO announcements_fts(announcements_fts, rowid, search_terms) VALUES ('delete', old.id, old.search_terms);
        END""")
    op.execute("""
        CREATE TRIGGER announcements_fts_au AFTER UPDATE OF search_terms ON announcements BEGIN
            INSERT INTO announcements_fts(announcements_fts, rowid, search_terms) VALUES ('delete', old.id, old.search_terms);
            INSERT INTO announcements_fts(rowid, search_terms) VALUES (new.id, new.search_terms);
        END""")


def _create_search(dialect: str) -> None:
    if dialect == "sqlite":
        # unicode61 with remove_diacritics 2: our terms are folded already, and a query typed straight
        # into Datasette's search box ("nabór") folds the same way (except ł).
        op.execute(
            "CREATE VIRTUAL TABLE announcements_fts USING fts5(search_terms, content='announcements', "
            "content_rowid='id', tokenize='unicode61 remove_diacritics 2', prefix='3')"
        )
        create_fts_triggers()
        op.execute("INSERT INTO announcements_fts(announcements_fts) VALUES ('rebuild')")
    elif dialect == "postgresql":
        op.execute(
            "CREATE INDEX ix_announcements_search_terms_fts ON announcements "
            "USING gin (to_tsvector('simple'::regconfig, search_terms))"
        )


def _warsaw(dialect: str, ts: str) -> str:
    """The Europe/Warsaw local time of a UTC timestamp column, as SQL.

    PostgreSQL knows time zones. SQLite does not: Poland follows the EU rule (since 1996), summer
    time (UTC+2) from the last Sunday of March 01:00 UTC to the last Sunday of October 01:00 UTC,
    UTC+1 otherwise; the last Sunday of a month with 31 days is the first Sunday on or after the 25th.
    Stored values look like '2024-03-31 01:00:00.000000' and compare as text with datetime()'s output.
    """
    if dialect == "postgresql":
        return f"({ts} AT TIME ZONE 'Europe/Warsaw')"
    return (
        f"(CASE WHEN {ts} IS NULL THEN NULL"
        f" WHEN {ts} >= datetime(strftime('%Y', {ts}) || '-03-25', 'weekday 0', '+1 hour')"
        f" AND {ts} < datetime(strftime('%Y', {ts}) || '-10-25', 'weekday 0', '+1 hour')"
        f" THEN datetime({ts}, '+2 hours') ELSE datetime({ts}, '+1 hour') END)"
    )


def _day(dialect: str, ts: str) -> str:
    local = _warsaw(dialect, ts)
    return f"CAST({local} AS date)" if dialect == "postgresql" else f"date({local})"


def _month(dialect: str, ts: str) -> str:
    local = _warsaw(dialect, ts)
    return f"to_char({local}, 'YYYY-MM')" if dialect == "postgresql" else f"strftime('%Y-%m', {local})"


def _days_from_today(dialect: str, day: str) -> str:
    if dialect == "postgresql":
        return f"({day} - CAST(now() AT TIME ZONE 'Europe/Warsaw' AS date))"
    today = _day(dialect, "datetime('now')")
    return f"CAST(julianday({day}) - julianday({today}) AS INTEGER)"


def _list(dialect: str, expression: str, where: str) -> str:
    """A sorted, comma-separated list of the distinct values of `expression` (a scalar subquery)."""
    if dialect == "postgresql":
        return f"(SELECT string_agg(DISTINCT {expression}, ', ' ORDER BY {expression}) {where})"
    return f"(SELECT group_concat(v, ', ') FROM (SELECT DISTINCT {expression} AS v {where} ORDER BY 1))"


def create_views(dialect: str) -> None:
    d = dialect
    op.execute(f"""
        CREATE VIEW v_announcements AS
        SELECT a.id AS announcement_id, a.source_id, s.institution, s.voivodeship, a.title, a.lead, a.url,
               a.published_at, {_day(d, "a.published_at")} AS published_day,
               {_month(d, "a.published_at")} AS published_month, a.published_granularity, a.published_from,
               a.modified_at, a.first_seen_at, {_day(d, "a.first_seen_at")} AS first_seen_day, a.last_seen_at,
               a.story_key, st.id AS story_id,
               CASE WHEN st.representative_id = a.id THEN 1 ELSE 0 END AS is_story_representative,
               (SELECT count(*) FROM attachments t WHERE t.announcement_id = a.id) AS attachments,
               a.categories, a.body_text
        FROM announcements a
        JOIN sources s ON s.id = a.source_id
        LEFT JOIN stories st ON st.key = a.story_key""")
    op.execute(f"""
        CREATE VIEW v_stories AS
        SELECT st.id AS story_id, st.key AS story_key, st.title, st.size AS announcements,
               (SELECT count(DISTINCT m.source_id) FROM announcements m WHERE m.story_key = st.key) AS sources,
               {_list(d, "m.source_id", "FROM announcements m WHERE m.story_key = st.key")} AS source_ids,
               {_list(d, "ms.voivodeship", "FROM announcements m JOIN sources ms ON ms.id = m.source_id WHERE m.story_key = st.key")} AS voivodeships,
               st.representative_id AS representative_announcement_id, a.source_id, s.institution, s.voivodeship,
               a.url, st.first_published_at, {_day(d, "st.first_published_at")} AS first_published_day,
               {_month(d, "st.first_published_at")} AS first_published_month, st.updated_at
        FROM stories st
        LEFT JOIN announcements a ON a.id = st.representative_id
        LEFT JOIN sources s ON s.id = a.source_id""")
    op.execute(f"""
        CREATE VIEW v_mentions AS
        SELECT m.id AS mention_id, m.announcement_id, a.source_id, s.voivodeship, a.title, a.url,
               {_day(d, "a.published_at")} AS published_day, a.story_key,
               m.field, m.surface, m.char_start, m.char_end,
               e.id AS entity_id, e.key AS entity_key, e.canonical AS entity_name, e.acronym AS entity_acronym,
               e.kind AS entity_kind, e.voivodeship AS entity_voivodeship, e.in_gazetteer
        FROM mentions m
        JOIN entities e ON e.id = m.entity_id
        JOIN announcements a ON a.id = m.announcement_id
        JOIN sources s ON s.id = a.source_id""")
    op.execute(f"""
        CREATE VIEW v_event_dates AS
        SELECT ed.id AS event_date_id, ed.announcement_id, a.source_id, s.institution, s.voivodeship, a.title, a.url,
               {_day(d, "a.published_at")} AS published_day, a.story_key,
               ed.kind, ed.start_date, ed.end_date, ed.start_at, ed.end_at, ed.granularity,
               {_days_from_today(d, "ed.start_date")} AS days_from_today,
               ed.match, ed.context, ed.field
        FROM event_dates ed
        JOIN announcements a ON a.id = ed.announcement_id
        JOIN sources s ON s.id = a.source_id""")


def drop_views() -> None:
    for view in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")


def upgrade() -> None:
    """Upgrade schema."""
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("announcements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search_terms", sa.Text(), nullable=False, server_default=""))
    _backfill()
    _create_search(dialect)
    # The feed (benchmarks/bench_feed.py): newest first with source and story read from the index.
    op.drop_index("ix_announcements_published_at", table_name="announcements")
    op.create_index("ix_announcements_feed_order", "announcements", ["published_at", "source_id", "story_key", "id"])
    op.create_index("ix_announcements_source_story", "announcements", ["source_id", "story_key", "id"])
    op.create_index("ix_announcements_story_source", "announcements", ["story_key", "source_id"])
    op.create_index("ix_stories_representative_id", "stories", ["representative_id"])
    op.create_index("ix_mentions_entity_announcement", "mentions", ["entity_id", "announcement_id"])
    create_views(dialect)


def downgrade() -> None:
    """Downgrade schema."""
    dialect = op.get_bind().dialect.name
    drop_views()
    op.drop_index("ix_mentions_entity_announcement", table_name="mentions")
    op.drop_index("ix_stories_representative_id", table_name="stories")
    op.drop_index("ix_announcements_story_source", table_name="announcements")
    op.drop_index("ix_announcements_source_story", table_name="announcements")
    op.drop_index("ix_announcements_feed_order", table_name="announcements")
    op.create_index("ix_announcements_published_at", "announcements", ["published_at"])
    if dialect == "sqlite":
        for trigger in ("announcements_fts_ai", "announcements_fts_ad", "announcements_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS announcements_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_announcements_search_terms_fts")
    with op.batch_alter_table("announcements", schema=None) as batch_op:
        batch_op.drop_column("search_terms")
