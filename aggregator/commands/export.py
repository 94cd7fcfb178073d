"""`ropsfeed export`: stories or announcements as CSV or JSON lines, with the feed's filters."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TextIO

import typer

from aggregator.choices import EXPORT_FORMATS as FORMATS
from aggregator.choices import EXPORT_LEVELS as LEVELS
from aggregator.notices import say_error
from aggregator.options import DbOption
from db.engine import database_url, session_scope
from db.migrate import ensure_schema


def export(
    export_format: Annotated[str, typer.Option("--format", help=f"One of: {', '.join(FORMATS)}.")] = "csv",
    level: Annotated[str, typer.Option(help="One row per story (as in the feed) or per announcement.")] = "stories",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")] = None,
    voivodeship: Annotated[
        str | None, typer.Option(help="Polish adjective: mazowieckie, podlaskie, śląskie (or slaskie), …")
    ] = None,
    source: Annotated[str | None, typer.Option(help="Source id (see `ropsfeed sources`).")] = None,
    entity: Annotated[
        str | None,
        typer.Option(
            help="Institution: entity key, acronym or name (any case, with or without diacritics, inflected)."
        ),
    ] = None,
    query: Annotated[
        str | None, typer.Option(help="Words that must all occur (case, diacritics, inflection ignored).")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many rows, newest first (default: all).")] = None,
    db: DbOption = None,
) -> None:
    """Export stories (or announcements) as CSV or JSON lines, newest first, filtered like the feed."""
    # Imported when the command runs (the feed's queries, feedgen), so that every other command starts without them.
    from aggregator.export import ANNOUNCEMENT_COLUMNS, STORY_COLUMNS, announcement_rows, story_rows, write
    from aggregator.feeds import FeedFilters, check_source

    problems = []
    if export_format not in FORMATS:
        problems.append(f"unknown format {export_format!r}; use one of: {', '.join(FORMATS)}")
    if level not in LEVELS:
        problems.append(f"unknown level {level!r}; use one of: {', '.join(LEVELS)}")
    if limit is not None and limit < 1:
        problems.append("limit must be at least 1")
    try:
        filters = FeedFilters(voivodeship=voivodeship, source=source, entity=entity, query=query)
    except ValueError as exc:
        problems.append(str(exc))
    if problems:
        for problem in problems:
            say_error(problem)
        raise typer.Exit(2)
    url = database_url(db)
    ensure_schema(url)
    rows, columns = (story_rows, STORY_COLUMNS) if level == "stories" else (announcement_rows, ANNOUNCEMENT_COLUMNS)
    with session_scope(url) as session:
        try:
            check_source(session, source)
        except ValueError as exc:
            say_error(str(exc))
            raise typer.Exit(2) from exc
        if output is None:
            with utf8_stdout() as out:
                write(rows(session, filters, limit), columns, export_format, out)
            return
        # Written next to the target and renamed at the end: a failed export never leaves half a file
        # where the previous complete one was.
        partial = output.with_name(output.name + ".partial")
        try:
            with partial.open("w", encoding="utf-8", newline="") as out:
                count = write(rows(session, filters, limit), columns, export_format, out)
            os.replace(partial, output)
        except OSError as exc:  # a folder that does not exist, a full disk: one line, not a traceback
            say_error(f"cannot write {output}: {exc.strerror or exc}")
            raise typer.Exit(2) from exc
        finally:
            partial.unlink(missing_ok=True)
    typer.echo(f"{count} {level} written to {output}", err=True)


@contextmanager
def utf8_stdout() -> Iterator[TextIO]:
    """Standard output as UTF-8 text, whatever the locale says, and without newline translation.

    The export is documented as UTF-8, but `sys.stdout` encodes with the locale's code page when it
    is a file or a pipe: on Windows (cp1250, `ropsfeed export > plik.csv`) or with a non-UTF-8
    locale, `csv` came out in that code page and `csv-excel` stopped at its byte order mark with
    a UnicodeEncodeError; Windows' text mode also made csv-excel's CRLF a CR CR LF."""
    sys.stdout.flush()
    out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="")
    try:
        yield out
    finally:
        out.flush()
        out.detach()  # the wrapper must not close the process's stdout when it goes


def register(app: typer.Typer) -> None:
    app.command()(export)
