"""The `ropsfeed` command line (DESIGN.md §8 is its contract: keep names, flags and JSON stable)."""

from __future__ import annotations

import typer

from aggregator.commands import (
    crawling,
    database,
    dates,
    dedup,
    entities,
    export,
    feed,
    maintenance,
    mirror,
    operations,
    sources,
    web,
)

app = typer.Typer(
    name="ropsfeed",
    help="Scrape, deduplicate and publish announcements of the Polish regional social-policy centres.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
for module in (crawling, operations, mirror, sources, feed, export, database, maintenance, dates, entities, dedup, web):
    module.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
