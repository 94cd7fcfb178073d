"""announcements.files_changed_at: when a crawl saw a page's files change with its text the same

A feed entry's `updated` is the latest of its publication, the site's modification date and the
last edit a crawl saw (the version row kept of the text before: aggregator/feeds.py). A page whose
files alone changed — a corrected form put up under the same name, a file added or taken down with
the text as it was — moved the row's `updated_at` (and so the feeds' ETag) but not `updated`: a
reader fetched the feed and showed the entry as unchanged, the new file unnoticed. `updated_at` is
no substitute: the first crawl and `reparse` write it for every row. Rows stored before this
revision have none (no change of files alone was recorded for them). A plain ADD COLUMN, not a
batch copy of the table: on SQLite a copy would drop the full-text triggers of migration 0006
(docs/schema.md).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 14:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column("announcements", sa.Column("files_changed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_column("announcements", "files_changed_at")  # SQLite ≥ 3.35 drops it in place: the triggers stay
