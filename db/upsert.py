"""`INSERT … ON CONFLICT` for both dialects (SQLite and PostgreSQL share the syntax in SQLAlchemy)."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Dialect
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


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """An executemany INSERT of `rows` (dicts with the keys of the first), what
    `session.execute(insert(table), rows)` sends.

    On SQLite the statement SQLAlchemy compiles for those columns goes to the driver's executemany
    directly, each row a tuple of its values through its column type's bind processor, as
    SQLAlchemy does it: SQLAlchemy's own executemany builds a dict of bind names and then that
    tuple for every row, and the mentions and dates of a crawled batch are four fifths of the rows
    it stores. Other dialects go through SQLAlchemy: on PostgreSQL it sends the rows as multi-row
    VALUES, where the driver's executemany would be a round trip per row.
    """
    if not rows:
        return
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        session.execute(insert_for(session, table), rows)
        return
    sql, values_of = _driver_insert(bind.dialect, table, tuple(rows[0]))
    try:
        parameters = [values_of(row) for row in rows]
    except Exception:  # a value its type refuses (a naive datetime): SQLAlchemy's path, and its error
        session.execute(insert_for(session, table), rows)
        return
    session.connection().exec_driver_sql(sql, parameters)


@lru_cache(maxsize=64)
def _driver_insert(
    dialect: Dialect, table: Table, names: tuple[str, ...]
) -> tuple[str, Callable[[dict[str, Any]], tuple[Any, ...]]]:
    """The SQL of an INSERT of `names` into `table` for a positional dialect, and what makes a row's
    parameter tuple of a dict. Only for columns without Python-side defaults, which SQLAlchemy
    would fill in and this does not."""
    if not dialect.positional:
        raise NotImplementedError(f"parameters in tuples need a positional paramstyle, not {dialect.paramstyle}")
    if defaulted := [column.name for column in table.c if column.default is not None or column.onupdate is not None]:
        raise NotImplementedError(f"{table.name} has Python-side defaults ({', '.join(defaulted)})")
    compiled = table.insert().compile(dialect=dialect, column_keys=list(names))
    order = list(compiled.positiontup or ())
    if sorted(order) != sorted(names):
        raise ValueError(f"{names} are not all columns of {table.name}")
    get = itemgetter(*order) if len(order) > 1 else lambda row: (row[order[0]],)
    processors = [
        (index, processor)
        for index, name in enumerate(order)
        if (processor := table.c[name].type.dialect_impl(dialect).bind_processor(dialect)) is not None
    ]

    def values_of(row: dict[str, Any]) -> tuple[Any, ...]:
        values = get(row)
        if not processors:
            return values
        processed = list(values)
        for index, processor in processors:
            processed[index] = processor(processed[index])
        return tuple(processed)

    return compiled.string, values_of
