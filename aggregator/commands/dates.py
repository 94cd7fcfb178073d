"""`ropsfeed dates`: the date expressions of a text as JSON (DESIGN.md §8 contract).

One text as an argument prints one JSON object; ``--jsonl`` reads
``{"text": "...", "reference": "YYYY-MM-DD"}`` lines on stdin and writes one output line per
input line, in order.  A bad line gets an ``"error"`` key instead of stopping the stream,
because batch callers align output lines with input lines.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any

import typer

from aggregator.commands.jsonl import answer_lines
from aggregator.options import usage_error


def parse_reference(raw: object) -> date | None:
    """'2024-05-14' (or a full ISO timestamp, whose date is used) → date; None/'' → None."""
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise ValueError("reference must be a YYYY-MM-DD string")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return datetime.fromisoformat(raw).date()  # raises ValueError for anything else


def dates_payload(text: str, reference: date | None) -> dict[str, Any]:
    """The contract's JSON object for one text."""
    # Imported on first use (the date grammar is compiled at import), so that every other command starts without it.
    from aggregator.dates import find_dates, span_to_json

    return {"text": text, "dates": [span_to_json(span) for span in find_dates(text, reference)]}


def _jsonl_line(line: str) -> dict[str, Any]:
    if not line.strip():
        return {"text": None, "dates": [], "error": "empty line"}
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return {"text": None, "dates": [], "error": f"invalid JSON: {exc.msg}"}
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        text = record.get("text") if isinstance(record, dict) else None
        return {"text": text, "dates": [], "error": 'expected an object with a string "text"'}
    text = record["text"]
    try:
        reference = parse_reference(record.get("reference"))
    except ValueError:
        return {"text": text, "dates": [], "error": f"invalid reference: {record.get('reference')!r}"}
    try:
        return dates_payload(text, reference)
    except Exception as exc:  # one bad text must not end the stream
        return {"text": text, "dates": [], "error": f"{type(exc).__name__}: {exc}"}


def register(app: typer.Typer) -> None:
    """Add the ``dates`` command to the application."""

    @app.command("dates")
    def dates(
        text: Annotated[str | None, typer.Argument(help="Text to scan (omit with --jsonl).")] = None,
        reference: Annotated[
            str | None,
            typer.Option("--reference", help="Publication date YYYY-MM-DD; br. and year-less dates use it."),
        ] = None,
        jsonl: Annotated[
            bool, typer.Option("--jsonl", help='Read {"text": ..., "reference": ...} lines on stdin.')
        ] = False,
        db: Annotated[
            str | None,
            typer.Option("--db", help="Accepted like on every command; dates need no database."),
        ] = None,
    ) -> None:
        """Find Polish date expressions and print them as exact dates and ranges."""
        del db  # the contract gives every command --db; dates are parsed without one
        if jsonl:
            answer_lines(_jsonl_line, lambda message: {"text": None, "dates": [], "error": message})
            return
        if text is None:
            raise usage_error("give a TEXT argument or --jsonl")
        try:
            ref = parse_reference(reference)
        except ValueError as exc:
            raise usage_error(f"--reference must be YYYY-MM-DD, not {reference!r}") from exc
        typer.echo(json.dumps(dates_payload(text, ref), ensure_ascii=False))
