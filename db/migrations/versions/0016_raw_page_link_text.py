"""raw_pages.link_text: the listing link's text or feed item's title that led to an article page

The parser weighs a page's `<title>` against it (which of "Konkurs - edycja 2024"'s parts is
the site's name) and titles a page that states none with it; `reparse` reads the archived page
with it again, so that it titles the page as the crawl did. Pages archived before have none:
`reparse` reads them as a page reached without a link (aggregator/reparse.py).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-14 10:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column("raw_pages", sa.Column("link_text", sa.Text(), nullable=True))  # no copy of the archive


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("raw_pages") as batch:
        batch.drop_column("link_text")
