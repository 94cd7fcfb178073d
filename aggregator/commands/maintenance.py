"""`ropsfeed reparse`: rebuild announcements, institutions and dates from the raw archive."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from aggregator.logs import json_lines
from aggregator.notices import Notice, log, say_error, tell
from aggregator.options import DbOption
from db.engine import database_url


def reparse(
    source_ids: Annotated[list[str] | None, typer.Argument(help="Source ids (default: every enabled source).")] = None,
    db: DbOption = None,
) -> None:
    """Re-run the current parsers over the archived pages, without the network."""
    # Imported when the command runs (Scrapy, the parsers, numpy): every other command starts without them.
    from aggregator.reparse import reparse as run_reparse

    try:
        reports = run_reparse(database_url(db), source_ids or [])
    except ValueError as exc:
        say_error(str(exc))
        raise typer.Exit(2) from exc
    if json_lines():  # as `crawl`: one record per source, stdout left empty for the JSON-lines log
        for r in reports:
            log.info("%s: %d raw pages, %d new, %d updated, %d unchanged, %d problems", r.source_id, r.raw_pages,
                     r.result.new, r.result.updated, r.result.unchanged, len(r.problems),
                     extra={"source": r.source_id, "event": "reparsed"})  # fmt: skip
    else:
        table = Table(title="Reparse from the raw archive")
        for column in ("source", "raw pages", "new", "updated", "unchanged", "problems"):
            table.add_column(column, justify="left" if column == "source" else "right")
        for r in reports:
            table.add_row(r.source_id, str(r.raw_pages), str(r.result.new), str(r.result.updated),
                          str(r.result.unchanged), str(len(r.problems)))  # fmt: skip
        Console().print(table)
    err = Console(stderr=True)
    for r in reports:
        for problem in r.problems:
            tell(err, Notice(f"problem {r.source_id}: {problem}", "problem", source=r.source_id))


def register(app: typer.Typer) -> None:
    app.command()(reparse)
