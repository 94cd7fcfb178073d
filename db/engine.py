"""Engines and sessions for SQLite (the embedded default) and PostgreSQL.

SQLite is tuned for one crawl writing while readers (the web page, Datasette) read: WAL journal,
a busy timeout instead of immediate "database is locked" errors, and `BEGIN IMMEDIATE` for write
transactions so two writers queue up instead of deadlocking on a lock upgrade.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_DATABASE_URL = "sqlite:///ropsfeed.db"


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached or written (server down, file not creatable, read-only).

    The CLI turns it — and SQLAlchemy's OperationalError/InterfaceError — into one line and exit 2.
    """


class DatabaseUrlError(RuntimeError):
    """`--db` / `ROPSFEED_DATABASE_URL` is no URL SQLAlchemy can use: not a URL, an unknown dialect,
    a driver that is not installed. A setting to fix, not an outage: the CLI says it in one line
    (exit 2) instead of SQLAlchemy's traceback. Not a ValueError, so that the commands that print
    their own `error: …` for bad arguments leave it to the CLI's one handler, which masks secrets."""


SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_AUTOCHECKPOINT_PAGES = 1000  # SQLite's default: a commit that grows the log past it checkpoints
# SQLite files whose write-ahead log a thread of this process checkpoints (db/checkpoint.py): the
# process's own connections then leave checkpoints to it instead of running them in their commits.
BACKGROUND_CHECKPOINTS: set[str] = set()


def database_away(exc: BaseException) -> bool:
    """Whether a failed statement says the database is away — it may be back for the next try, so
    what was to be written is kept — rather than that it refused the statement, which would fail again."""
    if isinstance(exc, DatabaseUnavailable | OperationalError | InterfaceError | OSError):
        return True
    return bool(getattr(exc, "connection_invalidated", False))


def database_reason(exc: BaseException) -> str:
    """The first line of the driver's message: what an operator needs, without SQLAlchemy's noise."""
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def database_url(explicit: str | None = None) -> str:
    """The URL to use: an explicit `--db`, else `ROPSFEED_DATABASE_URL`, else ./ropsfeed.db."""
    return explicit or os.environ.get("ROPSFEED_DATABASE_URL") or DEFAULT_DATABASE_URL


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        pages = 0 if engine.url.database in BACKGROUND_CHECKPOINTS else SQLITE_AUTOCHECKPOINT_PAGES
        if record.info.get("autocheckpoint") != pages:  # one pragma when it changes, not per checkout
            dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={pages}")
            record.info["autocheckpoint"] = pages

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get("sqlite_immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


# json.dumps with any argument builds a new JSONEncoder on every call (a third of its cost for
# the short lists of a stored page); one encoder of the same settings gives the same text.
_JSON_ENCODE = json.JSONEncoder(ensure_ascii=False).encode


def json_text(value: Any) -> str:
    """JSON columns as an analyst reads them: "Aktualności", not "Aktualno\\u015bci".

    Python's json.dumps escapes every non-ASCII character by default; in the database that made
    `categories LIKE '%Aktualności%'` find nothing and every Polish word unreadable in a plain
    SELECT (JSON functions read both forms alike)."""
    return _JSON_ENCODE(value)


@cache
def get_engine(url: str) -> Engine:
    """One engine per URL per process; SQLite files get their directory created."""
    try:
        return _create_engine(url)
    except (ArgumentError, ImportError) as exc:  # NoSuchModuleError (unknown dialect) is an ArgumentError
        raise DatabaseUrlError(f"invalid database URL: {database_reason(exc)}") from exc


def _create_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseUnavailable(f"cannot create the folder of {parsed.database}: {exc.strerror}") from exc
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, json_serializer=json_text)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, json_serializer=json_text, connect_args=postgres_connect_args(url))


# libpq's connection parameters ropsfeed sets unless the URL (`?connect_timeout=30`) or libpq's own
# environment (`PGCONNECT_TIMEOUT`) says otherwise. Without them a server that accepts the connection
# and never answers (a hung server, a proxy in front of a dead one) left every command waiting for
# ever — the nightly job too, one more stuck process each night under cron — and a server that
# vanished mid-query (a network cut, a host gone) went unnoticed for hours: TCP keepalives are on
# by default, but their first probe waits two hours.
POSTGRES_DEFAULTS = {
    "connect_timeout": ("10", "PGCONNECT_TIMEOUT"),  # seconds for the whole connection set-up
    "keepalives": ("1", None),
    "keepalives_idle": ("30", None),  # a silent connection is probed after 30 s, every 10 s, dead after 3
    "keepalives_interval": ("10", None),
    "keepalives_count": ("3", None),
}


def postgres_connect_args(url: str) -> dict[str, str]:
    """The libpq parameters of `POSTGRES_DEFAULTS` that neither the URL nor the environment sets
    (psycopg and psycopg2 only: other drivers take other arguments)."""
    parsed = make_url(url)
    if parsed.get_driver_name() not in ("psycopg", "psycopg2"):
        return {}
    return {name: value for name, (value, env) in POSTGRES_DEFAULTS.items()
            if name not in parsed.query and not (env and os.environ.get(env))}  # fmt: skip


@contextmanager
def session_scope(url: str, *, write: bool = False) -> Iterator[Session]:
    """A session committed on success and rolled back on any error, so nothing half-written stays.

    `write=True` takes SQLite's write lock at the start of the transaction (`BEGIN IMMEDIATE`).
    """
    engine = get_engine(url)
    if write and engine.dialect.name == "sqlite":
        engine = engine.execution_options(sqlite_immediate=True)
    factory = sessionmaker(engine, expire_on_commit=False)
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
