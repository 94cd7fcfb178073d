"""`ropsfeed run` and `ropsfeed status`: exit codes, one line per failed source, health over runs."""

from __future__ import annotations

import json

import pytest

from scrapers.mirror.server import BackgroundMirror
from scrapers.registry import load_sources
from tests.conftest import run_cli

pytestmark = pytest.mark.network


def statuses(database: str) -> dict[str, dict]:
    result = run_cli("status", "--json", "--db", database)
    assert result.returncode == 0, result.stderr
    return {row["source_id"]: row for row in map(json.loads, result.stdout.splitlines())}


def test_run_then_status_through_success_and_repeated_failure(sqlite_url: str, mirror: BackgroundMirror) -> None:
    enabled = {s.id for s in load_sources() if s.enabled}
    assert {s for s, row in statuses(sqlite_url).items() if row["health"] == "never"} == {s.id for s in load_sources()}

    ok = run_cli("run", "--mirror", mirror.url, "--db", sqlite_url, timeout=300)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    after_success = statuses(sqlite_url)
    for source_id in enabled:
        row = after_success[source_id]
        assert (row["health"], row["consecutive_failures"]) == ("ok", 0), source_id
        assert row["last_success"] and row["announcements"] >= 3

    for _ in range(3):  # the mirror's port is closed: every source fails fast, clearly
        dead = run_cli("run", "--mirror", "http://127.0.0.1:9", "--db", sqlite_url, timeout=120)
        assert dead.returncode == 1
    lines = [line for line in dead.stderr.splitlines() if line.startswith("FAILED ")]
    assert {line.split()[1].rstrip(":") for line in lines} == enabled, "one line per failed source"
    assert all("connection refused" in line for line in lines)

    result = run_cli("status", "--db", sqlite_url)
    assert f"{len(enabled)} source(s) failed 3+ runs in a row" in result.stderr
    assert "has failed 3 runs in a row" in result.stderr, "logged at ERROR for the operator's mail"
    after_failures = statuses(sqlite_url)
    for source_id in enabled:
        row = after_failures[source_id]
        assert (row["health"], row["consecutive_failures"]) == ("failing", 3)
        assert row["last_success"] == after_success[source_id]["last_success"], "the last success is kept"
        assert row["announcements"] == after_success[source_id]["announcements"], "nothing stored was lost"
        assert "connection refused" in row["last_error"]
