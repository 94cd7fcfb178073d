"""Test databases: a fresh PostgreSQL schema per test, and copies of a database built once.

Migrating a database to head costs about 0.5 s on SQLite and 1 s on PostgreSQL (alembic, fifteen
revisions); hundreds of tests start from the same migrated database with the registry's sources.
That database is built once per session (`Templates`) by the same `upgrade` and `sync_sources`
calls, and each test gets its own copy: SQLite's backup API into the test's file; on PostgreSQL,
pg_dump's script of the template schema replayed into the test's schema (0.1 s; a database per
test, copied with `CREATE DATABASE … TEMPLATE`, made the server checkpoint at every drop and cost
more than the migrations). A test that mutates its copy changes nothing the next one sees.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from db.engine import get_engine


def sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def copy_sqlite(source: str, target: Path) -> str:
    """A consistent copy of the SQLite database `source` (its write-ahead log included) at `target`."""
    reader = sqlite3.connect(sqlite_path(source))
    writer = sqlite3.connect(target)
    try:
        with writer:
            reader.backup(writer)
    finally:
        reader.close()
        writer.close()
    return f"sqlite:///{target}"


class PostgresSchemas:
    """Schemas in the database of `admin_url`, one per test: a test's URL sets the search path to
    its schema, so it sees no other test's tables."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.admin: Engine = create_engine(admin_url)

    def create(self) -> str:
        """A new empty schema; the URL that works in it."""
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with self.admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        return f"{self.admin_url}?options=-csearch_path%3D{schema}"

    @staticmethod
    def schema(url: str) -> str:
        return str(make_url(url).query["options"]).removeprefix("-csearch_path=")

    def drop(self, url: str) -> None:
        get_engine(url).dispose()  # pooled connections would keep using the schema
        with self.admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{self.schema(url)}" CASCADE'))

    def dump(self, url: str) -> str | None:
        """pg_dump's SQL script of the schema at `url`, structure and rows (None: no pg_dump here)."""
        server = make_url(self.admin_url)
        command = ["pg_dump", "--schema", self.schema(url), "--no-owner", "--no-privileges", "--inserts",
                   "--host", server.host or "127.0.0.1", "--port", str(server.port or 5432),
                   "--username", server.username or "postgres", "--dbname", server.database or "postgres"]  # fmt: skip
        env = {"PGPASSWORD": server.password} if server.password else None
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True, env=env)
        except (OSError, subprocess.SubprocessError):
            return None
        # psql's meta-commands (\restrict) are no SQL
        return "\n".join(line for line in result.stdout.splitlines() if not line.startswith("\\"))

    def restore(self, script: str, source_schema: str, url: str) -> None:
        """Replay `dump`'s script of `source_schema` into the empty schema of `url`."""
        target = self.schema(url)
        script = script.replace(f"CREATE SCHEMA {source_schema};", "")
        script = re.sub(rf"\b{re.escape(source_schema)}\.", f"{target}.", script)
        with self.admin.begin() as connection:
            # several statements in one call: psycopg sends a query without parameters as a simple query
            connection.connection.driver_connection.execute(script)  # type: ignore[union-attr]
            connection.execute(text("RESET ALL"))  # the script's SETs (search_path '') stay with the connection

    def close(self) -> None:
        self.admin.dispose()


class Templates:
    """A database built once per backend by `build` (given an empty database's URL), copied per test."""

    def __init__(self, folder: Path, build: Callable[[str], object], postgres: PostgresSchemas | None) -> None:
        self.folder = folder
        self.build = build
        self.postgres = postgres
        self._sqlite: str | None = None
        self._postgres: tuple[str, str] | None = None  # the dump's script and the schema it names

    def copy_into(self, url: str) -> None:
        """Make the empty database at `url` (a SQLite file not created yet, or a PostgreSQL schema
        with nothing in it) a copy of the template of its backend."""
        if url.startswith("sqlite:"):
            if self._sqlite is None:
                self._sqlite = f"sqlite:///{self.folder / 'template.db'}"
                self.build(self._sqlite)
                get_engine(self._sqlite).dispose()
            copy_sqlite(self._sqlite, sqlite_path(url))
            return
        assert self.postgres is not None, "a PostgreSQL URL without the server's schemas"
        if self._postgres is None:
            template = self.postgres.create()
            self.build(template)
            self._postgres = (self.postgres.dump(template) or "", self.postgres.schema(template))
            self.postgres.drop(template)
        script, schema = self._postgres
        if script:
            self.postgres.restore(script, schema, url)
        else:  # no pg_dump here: each test builds its own
            self.build(url)
