"""`ropsfeed feed`: the unified feed to stdout (DESIGN.md §8)."""

from __future__ import annotations

from typing import Annotated

import typer

from aggregator.choices import FEED_FORMATS as FORMATS
from aggregator.notices import say_error
from aggregator.options import DbOption
from db.engine import database_url, session_scope
from db.migrate import ensure_schema


def feed(
    feed_format: Annotated[str, typer.Option("--format", help=f"One of: {', '.join(FORMATS)}.")] = "atom",
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
    query: Annotated[str | None, typer.Option(help="Words that must all occur (case and diacritics ignored).")] = None,
    limit: Annotated[int, typer.Option(help="Number of entries, newest first.")] = 50,
    db: DbOption = None,
) -> None:
    """Print the feed of announcements, newest first, filtered."""
    # Imported when the command runs (feedgen, lxml), so that every other command starts without them.
    from aggregator.feeds import FeedFilters, check_source, render, select_entries

    if feed_format not in FORMATS:
        say_error(f"unknown format {feed_format!r}; use one of: {', '.join(FORMATS)}")
        raise typer.Exit(2)
    try:
        filters = FeedFilters(voivodeship=voivodeship, source=source, entity=entity, query=query, limit=limit)
    except ValueError as exc:
        say_error(str(exc))
        raise typer.Exit(2) from exc
    url = database_url(db)
    ensure_schema(url)
    with session_scope(url) as session:
        try:
            check_source(session, source)
        except ValueError as exc:
            say_error(str(exc))
            raise typer.Exit(2) from exc
        entries = select_entries(session, filters, content=True)
    # bytes: UTF-8 as the documents declare, not the locale's code page of a file or a pipe (Windows)
    typer.echo(render(entries, filters, feed_format).encode("utf-8"))


def register(app: typer.Typer) -> None:
    app.command()(feed)
