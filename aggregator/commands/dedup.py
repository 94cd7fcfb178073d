"""`ropsfeed dedup --jsonl`: the pipeline's pair decision as JSON lines (DESIGN.md §8 contract).

Each input line is ``{"a": {"url", "title", "text", "published"}, "b": {...}}``; each output line is
``{"same": true|false, "score": 0..1, "reason": "..."}`` – exactly :func:`aggregator.dedup.judge`,
so an operator can see why two items were or were not merged. One output line per input line, in
order; a bad line gets ``{"error": "..."}`` instead of stopping the stream, because batch callers
align output lines with input lines.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from aggregator.commands.jsonl import answer_lines
from aggregator.options import usage_error

if TYPE_CHECKING:
    from aggregator.dedup import Doc

__all__ = ["doc_from_json", "judge_line", "register"]


def _published(raw: object) -> date | datetime | None:
    """``YYYY-MM-DD``, a full ISO timestamp, ``YYYY-MM`` (first day of the month) or nothing."""
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise ValueError("published must be an ISO date string or null")
    value = raw.strip()
    try:
        return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
    except ValueError:
        pass
    try:
        year, month = value.split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        raise ValueError(f"invalid published date: {raw!r}") from None


def _string(record: dict[str, Any], key: str, side: str, required: bool = False) -> str:
    value = record.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise ValueError(f'"{side}.{key}" must be a string')
    return value


def doc_from_json(record: object, side: str) -> Doc:
    """A :class:`Doc` from one side of an input line (``text`` required; the rest may be missing)."""
    # Imported on first use (numpy, the models), so that every other command starts without them.
    from aggregator.dedup import Doc

    if not isinstance(record, dict):
        raise ValueError(f'"{side}" must be an object with "url", "title", "text", "published"')
    return Doc(
        url=_string(record, "url", side),
        title=_string(record, "title", side),
        text=_string(record, "text", side, required=True),
        published=_published(record.get("published")),
        source_id=record.get("source_id") if isinstance(record.get("source_id"), str) else None,
    )


def judge_line(line: str) -> dict[str, Any]:
    """The output object for one input line (never raises)."""
    if not line.strip():
        return {"error": "empty line"}
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return {"error": f"invalid JSON: {exc.msg}"}
    if not isinstance(record, dict) or "a" not in record or "b" not in record:
        return {"error": 'expected an object {"a": {...}, "b": {...}}'}
    try:
        a, b = doc_from_json(record["a"], "a"), doc_from_json(record["b"], "b")
    except ValueError as exc:
        return {"error": str(exc)}
    from aggregator.dedup import judge  # on first use, as in doc_from_json

    try:
        verdict = judge(a, b)
    except Exception as exc:  # one bad pair must not end the stream
        return {"error": f"{type(exc).__name__}: {exc}"}
    return {"same": verdict.same, "score": verdict.score, "reason": verdict.reason}


def register(app: typer.Typer) -> None:
    """Add the ``dedup`` command to the application."""

    @app.command("dedup")
    def dedup(
        jsonl: Annotated[
            bool, typer.Option("--jsonl", help='Read {"a": {...}, "b": {...}} lines on stdin; one verdict per line.')
        ] = False,
        db: Annotated[
            str | None, typer.Option("--db", help="Accepted like on every command; judging needs no database.")
        ] = None,
    ) -> None:
        """Decide whether pairs of announcements are the same story (same, score, reason)."""
        del db  # the contract gives every command --db; judging a pair needs none
        if not jsonl:
            raise usage_error("give --jsonl and pairs on stdin")
        answer_lines(judge_line, lambda message: {"error": message})
