"""The `--jsonl` mode of the text tools (`dates`, `entities`, `dedup`): one JSON object in per line
of stdin, one out per line of stdout, flushed at once — a script that keeps the tool open as a
pipe reads each answer before it writes the next question.

JSON lines are UTF-8 (RFC 8259 §8.1) whatever the locale says: read and written as bytes, not
through the locale's encoding, which under a cp1250 or latin-2 locale (or PYTHONIOENCODING) turned
a caller's „Łódź” into mojibake in both directions. A line that is not UTF-8 gets the tool's error
record, as any other bad line does, and the stream goes on."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO


def answer_lines(answer: Callable[[str], dict[str, Any]], error: Callable[[str], dict[str, Any]]) -> None:
    """Write `answer(line)` as JSON for every line of stdin, each as soon as it is known;
    `error(message)` for a line that is not UTF-8."""
    buffer: BinaryIO | None = getattr(sys.stdout, "buffer", None)
    sys.stdout.flush()
    out = io.TextIOWrapper(buffer, encoding="utf-8", newline="\n", write_through=True) if buffer else sys.stdout
    try:
        for line, broken in _utf8_lines():
            out.write(json.dumps(error(broken) if broken else answer(line), ensure_ascii=False) + "\n")
            out.flush()
    finally:
        if out is not sys.stdout:
            out.detach()  # stdout's buffer stays open for whoever writes after


def _utf8_lines() -> Iterator[tuple[str, str | None]]:
    """Each line of stdin as text, with None; or, for a line that is not UTF-8, why not."""
    stream: BinaryIO | None = getattr(sys.stdin, "buffer", None)
    if stream is None:  # a text stream with no bytes under it (a test's StringIO): already text
        for line in sys.stdin:
            yield line, None
        return
    for raw in iter(stream.readline, b""):
        try:
            yield raw.decode("utf-8"), None
        except UnicodeDecodeError as exc:
            yield "", f"the line is not UTF-8 (byte {exc.object[exc.start]:#04x} at {exc.start})"
