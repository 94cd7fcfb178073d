"""Alembic, driven from code: every command brings the database to the newest schema first.

Two processes started together (two cron jobs, Scrapyd jobs on a fresh database) must not both
run the migrations: the upgrade takes a database-wide lock first (`BEGIN IMMEDIATE` on SQLite, a
transaction-level advisory lock on PostgreSQL), then looks at the revision again, so the second
process waits and finds nothing left to do.
"""

from __future__ import annotations

import importlib.util
import re
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text

from db.engine import database_url, get_engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATION_LOCK_ID = 0x726F7073  # "rops": the PostgreSQL advisory lock serialising schema upgrades

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def revision_module(file_name: str) -> ModuleType:
    """An earlier migration as a module, for a later one that re-creates its views with its SQL
    helpers (a revision's file name is no importable module name)."""
    path = MIGRATIONS_DIR / "versions" / file_name
    spec = importlib.util.spec_from_file_location(f"ropsfeed_migration_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def current_revision(url: str) -> str | None:
    """The revision the database says it is at (None: no schema yet), read without alembic."""
    with get_engine(url).connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def upgrade(url: str | None = None) -> str | None:
    """Upgrade to head; returns the revision the database is at afterwards."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    url = database_url(url)
    head = head_revision()
    if current_revision(url) != head:
        engine = get_engine(url)
        if engine.dialect.name == "sqlite":
            engine = engine.execution_options(sqlite_immediate=True)  # the write lock, before reading
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
            if MigrationContext.configure(connection).get_current_revision() != head:
                config = alembic_config(url)
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
    return current_revision(url)


_REVISION_LINE = re.compile(r"^revision\b[^=\n]*=\s*[\"'](\w+)[\"']", re.MULTILINE)
_DOWN_REVISION_LINE = re.compile(r"^down_revision\b[^=\n]*=\s*(?:[\"'](\w+)[\"']|None)", re.MULTILINE)


@cache
def files_head() -> str | None:
    """The newest revision, read from the migration files' `revision` and `down_revision` lines:
    the one no other file names as its predecessor (what alembic's ScriptDirectory answers; a test
    compares them). None when the files do not say it plainly (alembic is asked then)."""
    revisions: set[str] = set()
    predecessors: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision, down = _REVISION_LINE.search(source), _DOWN_REVISION_LINE.search(source)
        if revision is None or down is None:
            return None
        revisions.add(revision.group(1))
        if down.group(1):
            predecessors.add(down.group(1))
    heads = revisions - predecessors
    return heads.pop() if len(heads) == 1 else None


@cache
def ensure_schema(url: str) -> None:
    """Upgrade once per process and URL, so commands can call it freely. A database already at the
    newest revision is only asked for it: alembic (and the PostgreSQL dialect it imports) cost
    every command 0.1–0.2 s of start-up."""
    head = files_head()
    if head is not None and current_revision(database_url(url)) == head:
        return
    upgrade(url)
