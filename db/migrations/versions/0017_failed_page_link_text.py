"""failed_pages.link_text: the listing link's text or feed item's title that led to a failed page

A page that states no title of its own is titled by what led to it (the listing link's text, or
the feed item's title: ArticleParser.parse, SourceSpider.complete). The next crawls ask for a
failed page directly, not through the listing (scrapers/spiders/retries.py): without the text kept
with its row, a retry of such a page came out untitled (the lost title's alarm) though its first
attempt would have been titled. Rows written before have none: their retries read the page as one
reached without a link, as before.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-21 10:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column("failed_pages", sa.Column("link_text", sa.Text(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("failed_pages") as batch:
        batch.drop_column("link_text")
