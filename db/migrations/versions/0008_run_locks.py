"""run_locks: per-source locks so two concurrent runs never crawl the same source;
crawl_runs.alerted_at: when the operator was mailed about the failure this run completed

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 02:40:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "run_locks",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("owner", sa.String(length=36), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_run_locks")),
    )
    with op.batch_alter_table("run_locks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_run_locks_expires_at"), ["expires_at"], unique=False)
    with op.batch_alter_table("crawl_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("alerted_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("crawl_runs", schema=None) as batch_op:
        batch_op.drop_column("alerted_at")
    with op.batch_alter_table("run_locks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_run_locks_expires_at"))
    op.drop_table("run_locks")
