"""`ropsfeed run` and `ropsfeed status`: exit codes, one line per failed source, health over runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scrapers.mirror.server import SNAPSHOT_DIR, BackgroundMirror
from scrapers.registry import load_sources
from tests.conftest import run_cli
from tests.scrapers import overlays

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
    assert "Traceback" not in dead.stderr, "a site that cannot be reached is a line, not 30 lines of Twisted frames"
    assert f"{len(enabled)} source(s) failed 3+ runs in a row: " in dead.stderr, "run names them after its table"

    result = run_cli("status", "--db", sqlite_url, env={"COLUMNS": ""})  # no width given: Rich's default, 80
    assert f"{len(enabled)} source(s) failed 3+ runs in a row" in result.stderr
    table, _, notes = result.stdout.partition("runs in a row · 30 days")  # the table, then the notes
    assert "…" not in table and all(f" {source_id} " in table for source_id in enabled), "ids whole"
    assert all(f"\n{source_id} last error: GET http" in notes for source_id in enabled), "each error below it"
    assert "has failed 3 runs in a row" in result.stderr, "logged at ERROR for the operator's mail"
    after_failures = statuses(sqlite_url)
    for source_id in enabled:
        row = after_failures[source_id]
        assert (row["health"], row["consecutive_failures"]) == ("failing", 3)
        assert row["last_success"] == after_success[source_id]["last_success"], "the last success is kept"
        assert row["announcements"] == after_success[source_id]["announcements"], "nothing stored was lost"
        assert "connection refused" in row["last_error"]


def test_a_run_with_a_layout_alarm_exits_3_logs_json_only_and_is_reported_by_status(
    sqlite_url: str, tmp_path: Path
) -> None:
    overlays.krakow_listing_redesigned(tmp_path)
    with BackgroundMirror([tmp_path, SNAPSHOT_DIR]) as site:
        result = run_cli("--log-format", "json", "run", "--alarm-exit", "--mirror", site.url, "--db", sqlite_url,
                         timeout=300)  # fmt: skip
    assert result.returncode == 3, "no source failed, but one raised an alarm: " + result.stdout + result.stderr
    assert result.stdout == ""
    records = [json.loads(line) for line in result.stderr.splitlines()]  # every line is one JSON object
    alarms = [r for r in records if r.get("event") == "alarm"]
    assert [r["source"] for r in alarms] == ["rops-krakow"] * 2, "the spider's record and the report's line"
    assert not [r for r in records if r.get("event") == "failed"]

    status = run_cli("--log-format", "json", "status", "--alarming-after", "1", "--db", sqlite_url)
    records = [json.loads(line) for line in status.stderr.splitlines()]
    logged = [(r["level"], r["source"]) for r in records if r["logger"] == "ropsfeed.alerts"]
    assert logged == [("ERROR", "rops-krakow")]
    [summary] = [r for r in records if r["logger"] == "ropsfeed.report"]
    assert summary["message"] == "1 source(s) raised a layout alarm 1+ runs in a row: rops-krakow"
    assert statuses(sqlite_url)["rops-krakow"]["consecutive_alarms"] == 1
