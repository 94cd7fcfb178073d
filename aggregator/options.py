"""Options shared by every command (DESIGN.md §8: all commands accept `--db URL`)."""

from __future__ import annotations

from typing import Annotated

import typer

from db.engine import DEFAULT_DATABASE_URL

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help=f"Database URL (default: $ROPSFEED_DATABASE_URL or {DEFAULT_DATABASE_URL}).",
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
