"""`ropsfeed entities`: institution mentions of a text as JSON (DESIGN.md §8 contract).

One text as an argument prints one JSON object; ``--jsonl`` reads ``{"text": "..."}`` lines on
stdin and writes one output line per input line, in order. A bad line gets an ``"error"`` key
instead of stopping the stream, because batch callers align output lines with input lines.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from aggregator.commands.jsonl import answer_lines
from aggregator.options import usage_error


def entities_payload(text: str) -> dict[str, Any]:
    """The contract's JSON object for one text."""
    # Imported on first use (the institution names, their inflection), so that every other command starts without it.
    from aggregator.entities import analyse_text

    return {
        "text": text,
        "entities": [
            {
                "mention": m.text,
                "canonical": m.entity.canonical,
                "acronym": m.entity.acronym,
                "kind": m.entity.kind,
            }
            for m in analyse_text(text)
        ],
    }


def _jsonl_line(line: str) -> dict[str, Any]:
    if not line.strip():
        return {"text": None, "entities": [], "error": "empty line"}
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return {"text": None, "entities": [], "error": f"invalid JSON: {exc.msg}"}
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        return {"text": None, "entities": [], "error": 'expected an object with a string "text"'}
    try:
        return entities_payload(record["text"])
    except Exception as exc:  # one bad text must not end the stream
        return {"text": record["text"], "entities": [], "error": f"{type(exc).__name__}: {exc}"}


def register(app: typer.Typer) -> None:
    """Add the ``entities`` command to the application."""

    @app.command("entities")
    def entities(
        text: Annotated[str | None, typer.Argument(help="Text to analyse (omit with --jsonl).")] = None,
        jsonl: Annotated[bool, typer.Option("--jsonl", help='Read {"text": ...} lines on stdin.')] = False,
        db: Annotated[
            str | None,
            typer.Option("--db", help="Accepted like on every command; the analysis needs no database."),
        ] = None,
    ) -> None:
        """Find institution names, their canonical nominative name, acronym and kind."""
        del db  # the contract gives every command --db; names are analysed without one
        if jsonl:
            answer_lines(_jsonl_line, lambda message: {"text": None, "entities": [], "error": message})
            return
        if text is None:
            raise usage_error("give a TEXT argument or --jsonl")
        typer.echo(json.dumps(entities_payload(text), ensure_ascii=False))
