"""Alembic, driven from code: every command brings the database to the newest schema first."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from db.engine import database_url, get_engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def current_revision(url: str) -> str | None:
    with get_engine(url).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def upgrade(url: str | None = None) -> str | None:
    """Upgrade to head; returns the revision the database is at afterwards."""
    url = database_url(url)
    if current_revision(url) != head_revision():
        with get_engine(url).begin() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    return current_revision(url)


@cache
def ensure_schema(url: str) -> None:
    """Upgrade once per process and URL, so commands can call it freely."""
    upgrade(url)
