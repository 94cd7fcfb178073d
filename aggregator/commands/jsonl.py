"""The `--jsonl` mode of the text tools (`dates`, `entities`, `dedup`): one JSON object in per line
of stdin, one out per line of stdout, flushed at once — a script that keeps the tool open as a
pipe reads each answer before it writes the next question."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any


def answer_lines(answer: Callable[[str], dict[str, Any]]) -> None:
    """Write `answer(line)` as JSON for every line of stdin, each as soon as it is known."""
    for line in sys.stdin:
        sys.stdout.write(json.dumps(answer(line), ensure_ascii=False) + "\n")
        sys.stdout.flush()
