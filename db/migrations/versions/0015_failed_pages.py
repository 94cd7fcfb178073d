"""failed_pages: pages a crawl could not store, asked for again by the source's next crawls

An article answering HTTP 500, timing out or kept only as a raw page after a parse alarm, and a
listing page that failed, are remembered per source (db/failed_pages.py); a page stored later, or
deleted by the site, leaves the table. Nothing to fill in for databases crawled before: their
failures are in crawl_runs.errors, and `ropsfeed crawl --full` fetches them once.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 10:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "failed_pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("url_key", sa.String(length=2000), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("feed_published", sa.DateTime(timezone=True), nullable=True),
        sa.Column("feed_categories", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], name=op.f("fk_failed_pages_source_id_sources")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_failed_pages")),
        sa.UniqueConstraint("source_id", "url_key", name=op.f("uq_failed_pages_source_id_url_key")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("failed_pages")
