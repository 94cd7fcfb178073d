"""v_mentions.in_gazetteer is 1 or 0 on both databases

docs/schema.md says "1 when it is a known institution of the gazetteer", and the views promise the
same columns on SQLite and PostgreSQL; but the view passed `entities.in_gazetteer` through, a
boolean on PostgreSQL, where `WHERE in_gazetteer = 1` and `sum(in_gazetteer)` are errors
("operator does not exist: boolean = integer"). It is an integer now, as `is_story_representative`
of v_announcements always was; `WHERE in_gazetteer = 1` and `WHERE in_gazetteer` work on both.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-15 10:00:00

"""

from collections.abc import Sequence

from alembic import op

from db.migrate import revision_module

# revision identifiers, used by Alembic.
revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    day = revision_module("0006_search_and_views.py")._day(op.get_bind().dialect.name, "a.published_at")
    op.execute("DROP VIEW IF EXISTS v_mentions")
    op.execute(f"""
        CREATE VIEW v_mentions AS
        SELECT m.id AS mention_id, m.announcement_id, a.source_id, s.voivodeship, a.title, a.url,
               {day} AS published_day, a.story_key,
               m.field, m.surface, m.char_start, m.char_end,
               e.id AS entity_id, e.key AS entity_key, e.canonical AS entity_name, e.acronym AS entity_acronym,
               e.kind AS entity_kind, e.voivodeship AS entity_voivodeship,
               CASE WHEN e.in_gazetteer THEN 1 ELSE 0 END AS in_gazetteer
        FROM mentions m
        JOIN entities e ON e.id = m.entity_id
        JOIN announcements a ON a.id = m.announcement_id
        JOIN sources s ON s.id = a.source_id
        WHERE a.deleted_at IS NULL""")


def downgrade() -> None:
    """Downgrade schema: 0011's views (the three it defines, v_mentions among them)."""
    live = revision_module("0011_views_without_tombstones.py")
    for view in live.LIVE_VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")
    live.create_live_views(op.get_bind().dialect.name)
