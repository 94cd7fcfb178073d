"""`INSERT … ON CONFLICT` for both dialects (SQLite and PostgreSQL share the syntax in SQLAlchemy)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session


def insert_for(session: Session, table: Table) -> Any:
    """The dialect's own insert(), which has on_conflict_do_update/on_conflict_do_nothing."""
    return _insert_of(session.get_bind().dialect.name, table)


def _insert_of(dialect: str, table: Table) -> Any:
    # each dialect's module imported when used: PostgreSQL's alone is 60 ms of start-up on SQLite
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table)
    raise NotImplementedError(f"upserts are implemented for sqlite and postgresql, not {dialect}")


def upsert_statement(session: Session, table: Table, keys: list[str], update: list[str]) -> Any:
    """`INSERT … ON CONFLICT (keys) DO UPDATE SET update = excluded.update`, built once per dialect,
    table and columns: building `excluded` copies every column of the table (foreign keys and
    their event hooks included), which cost milliseconds per batch of a crawl."""
    return _upsert_statement(session.get_bind().dialect.name, table, tuple(keys), tuple(update))


@lru_cache(maxsize=64)
def _upsert_statement(dialect: str, table: Table, keys: tuple[str, ...], update: tuple[str, ...]) -> Any:
    statement = _insert_of(dialect, table)
    return statement.on_conflict_do_update(
        index_elements=list(keys), set_={name: statement.excluded[name] for name in update}
    )


def upsert(session: Session, table: Table, rows: list[dict[str, Any]], keys: list[str], update: list[str]) -> None:
    if not rows:
        return
    session.execute(upsert_statement(session, table, keys, update), rows)
