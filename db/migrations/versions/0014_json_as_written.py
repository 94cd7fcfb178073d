"""JSON columns hold Polish text as written ("Aktualności", not "Aktualno\\u015bci")

Values were written through json.dumps with its default ASCII escaping: `categories LIKE
'%Aktualności%'` found nothing, and a plain SELECT showed escapes. New writes use
db.engine.json_text; this rewrites the stored values that hold an escape, value for value (JSON
functions read both forms alike, so nothing that reads them changes).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 23:00:00

"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: table → its JSON columns (db/models.py)
JSON_COLUMNS = {
    "announcements": ("categories", "images"),
    "entities": ("aliases",),
    "crawl_runs": ("responses", "errors", "alarms"),
    "raw_pages": ("headers",),
    "subscribers": ("voivodeships", "sources", "entities", "keywords"),
}
BATCH = 500


def upgrade() -> None:
    """Upgrade schema. The values go back through the JSON type: the engine (db.engine.get_engine,
    which migrations/env.py runs on) writes them with json_text."""
    connection = op.get_bind()
    for table_name, columns in JSON_COLUMNS.items():
        for column in columns:
            table = sa.table(table_name, sa.column("id"), sa.column(column, sa.JSON))
            stored = connection.execute(sa.select(table.c.id, sa.cast(table.c[column], sa.Text)))
            rows = [{"row_id": id_, "value": json.loads(text)} for id_, text in stored if text and "\\u" in text]
            update = table.update().where(table.c.id == sa.bindparam("row_id"))
            for start in range(0, len(rows), BATCH):
                connection.execute(
                    update.values({column: sa.bindparam("value", type_=sa.JSON)}), rows[start : start + BATCH]
                )


def downgrade() -> None:
    """Downgrade schema: nothing to undo (the same values, written without escapes)."""
