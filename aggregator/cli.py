"""The `ropsfeed` command line (DESIGN.md §8 is its contract: keep names, flags and JSON stable)."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated

import typer
from sqlalchemy.exc import InterfaceError, OperationalError

from aggregator.commands import (
    crawling,
    database,
    dates,
    dedup,
    digests,
    distributed,
    entities,
    export,
    feed,
    maintenance,
    mirror,
    operations,
    sources,
    web,
)
from aggregator.logs import configure_logging, redact
from db.engine import DatabaseUnavailable, database_reason

app = typer.Typer(
    name="ropsfeed",
    help="Scrape, deduplicate and publish announcements of the Polish regional social-policy centres.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


class LogFormat(StrEnum):
    text = "text"
    json = "json"


@app.callback()
def global_options(
    log_format: Annotated[
        LogFormat,
        typer.Option(
            "--log-format",
            envvar="ROPSFEED_LOG_FORMAT",
            help="Log lines on stderr: 'text' (for people) or 'json' (one object per line, for collectors).",
        ),
    ] = LogFormat.text,
) -> None:
    """Options that apply to every command (given before the command's name)."""
    configure_logging(log_format.value)


for module in (crawling, operations, distributed, mirror, sources, feed, export, database, maintenance, dates,
               entities, dedup, web, digests):  # fmt: skip
    module.register(app)


def main() -> None:
    """The entry point: a database that is away is one clear line and exit status 2, not a traceback."""
    try:
        app()
    except (DatabaseUnavailable, OperationalError, InterfaceError) as exc:
        typer.echo(f"error: database unavailable: {redact(database_reason(exc))}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
