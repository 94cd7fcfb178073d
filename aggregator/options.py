"""Options shared by every command (DESIGN.md §8: all commands accept `--db URL`)."""

from __future__ import annotations

from typing import Annotated

import typer

from aggregator.notices import say_error
from db.engine import DEFAULT_DATABASE_URL

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help=f"Database URL (default: $ROPSFEED_DATABASE_URL or {DEFAULT_DATABASE_URL}).",
        show_default=False,
    ),
]
MirrorOption = Annotated[
    str | None,
    typer.Option(
        "--mirror",
        metavar="URL",
        envvar="ROPSFEED_MIRROR",  # README's configuration table: "same as --mirror"
        help="Fetch from this mirror (MIRROR/HOST/PATH) instead of the live sites.",
        show_default=False,
    ),
]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Show Scrapy's INFO log.")]
AlarmExitOption = Annotated[
    bool,
    typer.Option(
        "--alarm-exit",
        envvar="ROPSFEED_ALARM_EXIT",
        help="Exit 3 when no source failed but one raised a layout alarm (default: 0, as DESIGN.md §8 has it).",
    ),
]


def usage_error(message: str) -> typer.Exit:
    """`error: MESSAGE` on stderr and exit status 2, as every command says a bad argument: one line a
    script can read (typer.BadParameter drew a box of several lines, wrapped at 80 columns)."""
    say_error(message)
    return typer.Exit(2)
