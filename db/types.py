"""Column types shared by the models.

SQLite has no time zone support and hands back naive datetimes, PostgreSQL hands back aware ones.
Everything is stored as UTC and converted in exactly one place, so the rest of the code only ever
sees aware UTC datetimes whatever the backend.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on both SQLite and PostgreSQL; naive input is refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: ropsfeed stores aware UTC datetimes only")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def bind_processor(self, dialect: Dialect) -> Callable[[datetime | None], Any] | None:
        """SQLite: the aware datetime straight to the text SQLite stores, in one step.

        The general path (process_bind_param, then SQLite DATETIME formatting the naive value
        through a dict of its fields) cost about 4 µs per value, and storing a crawled page binds
        about ten. The text is `isoformat`'s, which is the same: checked against the general
        path when the processor is made, which is used instead if they ever differ.
        """
        general = super().bind_processor(dialect)
        if dialect.name != "sqlite" or general is None:
            return general

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError(f"naive datetime {value!r}: ropsfeed stores aware UTC datetimes only")
            return value.astimezone(UTC).isoformat(" ", "microseconds")[:-6]  # without "+00:00"

        sample = datetime(987, 6, 5, 4, 3, 2, 1, tzinfo=UTC)
        return process if process(sample) == general(sample) else general

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
