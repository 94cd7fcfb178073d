"""A test database at an older schema revision, for the tests of the migrations after it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, MetaData, insert

from db.engine import get_engine
from db.migrate import alembic_config


def database_at(url: str, revision: str) -> tuple[Engine, MetaData]:
    """The database upgraded to `revision` (not to head), and its tables as they are there."""
    _run(url, command.upgrade, revision)
    engine = get_engine(url)
    return engine, reflected(engine)


def downgrade_to(url: str, revision: str) -> None:
    _run(url, command.downgrade, revision)


def reflected(engine: Engine) -> MetaData:
    tables = MetaData()
    tables.reflect(engine)
    return tables


def add_source(
    connection: Connection, tables: MetaData, source_id: str, voivodeship: str, base_url: str, when: datetime
) -> None:
    """A `sources` row for the announcements a test stores (its columns as of revision 0001)."""
    connection.execute(insert(tables.tables["sources"]).values(
        id=source_id, institution=source_id, voivodeship=voivodeship, platform="wordpress", base_url=base_url,
        verified=False, enabled=True, updated_at=when))  # fmt: skip


def _run(url: str, step: Callable[[Config, str], None], revision: str) -> None:
    with get_engine(url).begin() as connection:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        step(config, revision)
