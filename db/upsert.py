"""`INSERT … ON CONFLICT` for both dialects (SQLite and PostgreSQL share the syntax in SQLAlchemy)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_for(session: Session, table: Table) -> Any:
    """The dialect's own insert(), which has on_conflict_do_update/on_conflict_do_nothing."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"upserts are implemented for sqlite and postgresql, not {dialect}")


def upsert(session: Session, table: Table, rows: list[dict[str, Any]], keys: list[str], update: list[str]) -> None:
    if not rows:
        return
    statement = insert_for(session, table)
    statement = statement.on_conflict_do_update(
        index_elements=keys, set_={name: statement.excluded[name] for name in update}
    )
    session.execute(statement, rows)
