"""announcements.images: the pictures of an announcement (its photos, featured image, gallery)

A JSON array of {"url", "alt", "caption"} objects in page order (scrapers.extraction.images),
also the last column of v_announcements. Rows stored before this revision get an empty array;
`ropsfeed reparse` fills it in from the raw page archive. A plain ADD COLUMN, not a batch copy of
the table: on SQLite a copy would drop the full-text triggers of migration 0006 (docs/schema.md).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 22:40:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.migrate import revision_module

# revision identifiers, used by Alembic.
revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _v_announcements(later_columns: str = "") -> None:
    op.execute("DROP VIEW IF EXISTS v_announcements")
    tombstones = revision_module("0009_url_identity_tombstones.py")
    tombstones._create_v_announcements(op.get_bind().dialect.name, later_columns)


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column("announcements", sa.Column("images", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    _v_announcements(", a.images")


def downgrade() -> None:
    """Downgrade schema."""
    _v_announcements()
    op.drop_column("announcements", "images")  # SQLite ≥ 3.35 drops it in place: the triggers stay
