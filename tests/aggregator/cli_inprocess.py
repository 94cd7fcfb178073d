"""`ropsfeed ARGS` inside the test process (no interpreter start-up: ~2 s saved per call) for the
commands that do not start Scrapy's reactor (status, db upgrade, …)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from typer.testing import CliRunner

from aggregator.cli import app


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200", **(env or {})})
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == "ropsfeed"]:  # it wrote to the runner's stderr
        root.removeHandler(handler)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Result(result.exit_code, result.stdout, result.stderr)
