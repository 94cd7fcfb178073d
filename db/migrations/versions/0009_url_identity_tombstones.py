"""URL identity key and tombstones

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 02:50:00

`announcements.url_key` (the page's identity, aggregator/urls.py) is unique per source (a unique
index, which ON CONFLICT targets; the URL stays unique too: one URL is one page), and
(source, external_id) is indexed: the CMS id is the first identity looked up.
`deleted_at`/`deleted_reason` make deleted pages tombstones; `crawl_runs` counts them.

Existing rows get their key from the same function the crawler uses. Rows that turn out to be one
page under two URLs (http/https, www., a trailing slash) are merged into the first stored one: the
others' earlier versions move to it and the stories they were in are judged again at the next
crawl. Only ADD COLUMN and CREATE INDEX are used (see `upgrade`). The analysts' view
v_announcements gains `deleted_at` and `deleted_reason` (last, so existing queries keep working).
"""

from collections.abc import Sequence
from types import ModuleType

import sqlalchemy as sa
from alembic import op

from db.migrate import revision_module

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _key_function() -> "object":
    """url_key per source with the registry's alias hosts; plain url_key for unknown sources."""
    from aggregator.urls import NO_ALIASES
    from scrapers.registry import load_sources

    identities = {s.id: s.identity for s in load_sources()}

    def key(source_id: str, url: str) -> str:
        return identities.get(source_id, NO_ALIASES).key(url)

    return key


def _backfill() -> None:
    connection = op.get_bind()
    key = _key_function()
    announcements = sa.table(
        "announcements",
        sa.column("id", sa.Integer),
        sa.column("source_id", sa.String),
        sa.column("url", sa.String),
        sa.column("url_key", sa.String),
        sa.column("story_key", sa.String),
        sa.column("last_seen_at", sa.DateTime),
    )
    versions = sa.table("announcement_versions", sa.column("announcement_id", sa.Integer))
    stories = sa.table("stories", sa.column("key", sa.String))
    rows = connection.execute(
        sa.select(announcements.c.id, announcements.c.source_id, announcements.c.url, announcements.c.story_key,
                  announcements.c.last_seen_at).order_by(announcements.c.id)
    ).all()  # fmt: skip
    first: dict[tuple[str, str], tuple[int, object]] = {}
    merged: list[int] = []
    absorbed: set[int] = set()
    stale_stories: set[str] = set()
    for id_, source_id, url, story_key, last_seen in rows:
        identity = (source_id, key(source_id, url))  # type: ignore[operator]
        if identity not in first:
            first[identity] = (id_, last_seen)
            connection.execute(sa.update(announcements).where(announcements.c.id == id_).values(url_key=identity[1]))
            continue
        keep_id, keep_seen = first[identity]
        connection.execute(sa.update(versions).where(versions.c.announcement_id == id_).values(announcement_id=keep_id))
        if last_seen is not None and (keep_seen is None or last_seen > keep_seen):
            connection.execute(
                sa.update(announcements).where(announcements.c.id == keep_id).values(last_seen_at=last_seen)
            )
        merged.append(id_)
        absorbed.add(keep_id)
        if story_key:
            stale_stories.add(story_key)
    if merged:
        stale_stories |= {row[3] for row in rows if row[0] in absorbed and row[3]}
        for table in ("mentions", "event_dates", "attachments"):
            target = sa.table(table, sa.column("announcement_id", sa.Integer))
            connection.execute(sa.delete(target).where(target.c.announcement_id.in_(merged)))
        connection.execute(sa.delete(announcements).where(announcements.c.id.in_(merged)))
    if stale_stories:
        connection.execute(
            sa.update(announcements).where(announcements.c.story_key.in_(stale_stories)).values(story_key=None)
        )
        connection.execute(sa.delete(stories).where(stories.c.key.in_(stale_stories)))


def _views_0006() -> ModuleType:
    """Migration 0006, for its SQL helpers and view definitions."""
    return revision_module("0006_search_and_views.py")


def _create_v_announcements(dialect: str, later_columns: str = "") -> None:
    """v_announcements as of this revision; `later_columns` (", a.x, a.y") are columns later
    revisions append at the end, where existing queries do not see them."""
    views = _views_0006()
    day, month = views._day, views._month
    op.execute(f"""
        CREATE VIEW v_announcements AS
        SELECT a.id AS announcement_id, a.source_id, s.institution, s.voivodeship, a.title, a.lead, a.url,
               a.published_at, {day(dialect, "a.published_at")} AS published_day,
               {month(dialect, "a.published_at")} AS published_month, a.published_granularity, a.published_from,
               a.modified_at, a.first_seen_at, {day(dialect, "a.first_seen_at")} AS first_seen_day, a.last_seen_at,
               a.story_key, st.id AS story_id,
               CASE WHEN st.representative_id = a.id THEN 1 ELSE 0 END AS is_story_representative,
               (SELECT count(*) FROM attachments t WHERE t.announcement_id = a.id) AS attachments,
               a.categories, a.body_text, a.deleted_at, a.deleted_reason{later_columns}
        FROM announcements a
        JOIN sources s ON s.id = a.source_id
        LEFT JOIN stories st ON st.key = a.story_key""")


def upgrade() -> None:
    # Only ADD COLUMN and CREATE INDEX: on SQLite anything else makes batch mode re-create the
    # table, and dropping `announcements` with foreign keys on would cascade to its children.
    with op.batch_alter_table("announcements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("url_key", sa.String(length=2000), nullable=True))
        batch_op.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("deleted_reason", sa.String(length=200), nullable=True))
    _backfill()
    if op.get_bind().dialect.name != "sqlite":  # SQLite cannot add NOT NULL to an existing column
        op.alter_column("announcements", "url_key", existing_type=sa.String(length=2000), nullable=False)
    op.create_index("uq_announcements_source_id_url_key", "announcements", ["source_id", "url_key"], unique=True)
    op.create_index(op.f("ix_announcements_url_key"), "announcements", ["url_key"], unique=False)
    op.create_index("ix_announcements_source_id_external_id", "announcements", ["source_id", "external_id"])
    with op.batch_alter_table("crawl_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("items_deleted", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("items_restored", sa.Integer(), nullable=False, server_default="0"))
    op.execute("DROP VIEW IF EXISTS v_announcements")
    _create_v_announcements(op.get_bind().dialect.name)


def downgrade() -> None:
    views = _views_0006()
    views.drop_views()
    with op.batch_alter_table("crawl_runs", schema=None) as batch_op:
        batch_op.drop_column("items_restored")
        batch_op.drop_column("items_deleted")
    op.drop_index("ix_announcements_source_id_external_id", table_name="announcements")
    op.drop_index(op.f("ix_announcements_url_key"), table_name="announcements")
    op.drop_index("uq_announcements_source_id_url_key", table_name="announcements")
    with op.batch_alter_table("announcements", schema=None) as batch_op:
        batch_op.drop_column("deleted_reason")
        batch_op.drop_column("deleted_at")
        batch_op.drop_column("url_key")
    views.create_views(op.get_bind().dialect.name)
