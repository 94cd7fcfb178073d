"""The lines a command writes on stderr for the operator (`FAILED mcps: …`, `alarm mcps: …`).

They are a contract (docs/operations.md: scripts grep `FAILED <source>:`), so in text mode they stay
plain lines starting with their word. With `--log-format json` the same text becomes the message of a
log record instead, with the source and the kind of line as structured data: the crontab sends
stderr (and stdout) to a JSON-lines log, where a plain line would be the one record a collector
cannot read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import typer
from rich.console import Console
from rich.text import Text

from aggregator.logs import json_lines

log = logging.getLogger("ropsfeed.report")
STYLE = {"error": "red", "alarm": "yellow", "skipped": "yellow", "stopped": "yellow", "deleted": "yellow",
         "alarming": "yellow", "problem": "yellow"}  # fmt: skip


@dataclass(frozen=True)
class Notice:
    text: str  # the whole line, its first word saying what it is: `FAILED mcps: HTTP 500`
    event: str  # failed | error | alarm | skipped | deleted | failing | alarming | problem (reparse)
    level: int = logging.WARNING
    source: str | None = None


def tell(console: Console, notice: Notice) -> None:
    """One notice: a line on `console` (stderr) for people, a log record in JSON mode."""
    if json_lines():
        extra = {"event": notice.event, **({"source": notice.source} if notice.source else {})}
        log.log(notice.level, "%s", notice.text, extra=extra)
        return
    word, space, rest = notice.text.partition(" ")
    style = STYLE.get(notice.event, "")
    # Text, not markup: an error message may hold brackets that Rich would read as styles
    console.print(Text.assemble((word, style), space + rest), highlight=False, soft_wrap=True)


def say_error(message: str) -> None:
    """A command's refusal, `error: MESSAGE`: one plain stderr line a script can read, or with
    `--log-format json` one log record (event "error") like every other line of the run."""
    if json_lines():
        log.error("error: %s", message, extra={"event": "error"})
        return
    typer.echo(f"error: {message}", err=True)
