"""A source failing N runs in a row: an ERROR line, and one email per new failure through a real SMTP
server (aiosmtpd on loopback)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from aggregator.polish import plural
from db.engine import session_scope
from db.migrate import ensure_schema
from db.store import finish_run, start_run, sync_sources
from scrapers.registry import load_sources
from tests.aggregator.cli_inprocess import invoke as run_cli


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def fail(database: str, source_id: str, error: str) -> None:
    with session_scope(database, write=True) as session:
        run = start_run(session, f"run-{source_id}-{error[-3:]}", source_id, None, False)
        finish_run(session, run, status="failed", errors=[error])


def test_plural_forms() -> None:
    forms = ("źródło", "źródła", "źródeł")
    assert [plural(n, *forms) for n in (1, 2, 4, 5, 12, 14, 21, 22, 25, 0)] == [
        "źródło", "źródła", "źródła", "źródeł", "źródeł", "źródeł", "źródeł", "źródła", "źródeł", "źródeł"
    ]  # fmt: skip


def test_failing_sources_are_mailed_once_per_new_failure(sqlite_url: str, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    ensure_schema(sqlite_url)
    with session_scope(sqlite_url, write=True) as session:
        sync_sources(session, load_sources())
    for attempt in range(3):
        fail(sqlite_url, "mcps", f"GET https://mcps.com.pl/robots.txt: connection refused #{attempt}")
    fail(sqlite_url, "mazovia", "GET https://mazovia.pl/pl/aktualnosci/aktualnosci.html: HTTP 503 #x1")
    env = {"ROPSFEED_ALERT_EMAIL": "admin@example.org", "ROPSFEED_MAIL_FROM": "ropsfeed <noreply@example.org>"}

    down = run_cli("status", "--db", sqlite_url, env={**env, "ROPSFEED_SMTP_URL": f"smtp://127.0.0.1:{free_port()}"})
    assert down.returncode == 0, down.stderr
    assert "mcps has failed 3 runs in a row" in down.stderr and "alert mail via 127.0.0.1" in down.stderr
    assert inbox.messages == []

    env["ROPSFEED_SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    for _ in range(2):  # the second check finds the failure already mailed
        result = run_cli("status", "--db", sqlite_url, env=env)
        assert result.returncode == 0, result.stderr
        assert "ERROR" in result.stderr and "mcps has failed 3 runs in a row" in result.stderr
    assert len(inbox.messages) == 1, "mailed once, not at every check"
    mail = inbox.messages[0]
    assert mail["To"] == "admin@example.org" and mail["From"] == "ropsfeed <noreply@example.org>"
    assert mail["Subject"] == "ropsfeed: 1 źródło nie działa (3 nieudane pobrania z rzędu lub więcej)"
    body = mail.get_content()
    assert "• mcps — Mazowieckie Centrum Polityki Społecznej" in body
    assert "connection refused #2" in body and "ostatnie udane pobranie: nigdy" in body and "mazovia" not in body

    result = run_cli("status", "--failing-after", "1", "--db", sqlite_url, env=env)
    assert "mazovia has failed 1 runs in a row" in result.stderr
    assert len(inbox.messages) == 2 and "mazovia" in inbox.messages[1].get_content()
    assert inbox.messages[1]["Subject"] == "ropsfeed: 1 źródło nie działa (1 nieudane pobranie z rzędu lub więcej)"

    fail(sqlite_url, "mcps", "GET https://mcps.com.pl/robots.txt: timed out after 30 s #new")
    fail(sqlite_url, "mazovia", "GET https://mazovia.pl/: HTTP 503 #x2")
    run_cli("status", "--failing-after", "1", "--db", sqlite_url, env=env)
    assert len(inbox.messages) == 3, "the next failed night is mailed again"
    assert inbox.messages[2]["Subject"] == "ropsfeed: 2 źródła nie działają (1 nieudane pobranie z rzędu lub więcej)"


def alarm(database: str, source_id: str, alarms: list[str], status: str = "ok") -> None:
    with session_scope(database, write=True) as session:
        run = start_run(session, f"run-{source_id}-{len(alarms)}", source_id, None, False)
        finish_run(session, run, status=status, alarms=alarms)


def test_a_layout_alarm_night_after_night_is_reported_and_mailed_once_per_run(
    sqlite_url: str, smtp: tuple[Inbox, int]
) -> None:
    """The run succeeds and loses nothing, so one alarm only shows in `status`; the same source
    alarmed N runs in a row is a site whose layout changed: an ERROR line and the operator's email."""
    inbox, port = smtp
    ensure_schema(sqlite_url)
    with session_scope(sqlite_url, write=True) as session:
        sync_sources(session, load_sources())
    empty = "listing https://www.rops.krakow.pl/aktualnosci.html yielded no items (layout change?)"
    env = {"ROPSFEED_ALERT_EMAIL": "admin@example.org", "ROPSFEED_SMTP_URL": f"smtp://127.0.0.1:{port}"}
    alarm(sqlite_url, "rops-krakow", [])
    for _ in range(2):
        alarm(sqlite_url, "rops-krakow", [empty])
    alarm(sqlite_url, "mcps", ["feed https://mcps.com.pl/feed/ has no items"])

    result = run_cli("status", "--json", "--db", sqlite_url, env=env)
    rows = {row["source_id"]: row for row in map(json.loads, result.stdout.splitlines())}
    assert (rows["rops-krakow"]["health"], rows["rops-krakow"]["consecutive_alarms"]) == ("alarm", 2)
    assert rows["mcps"]["consecutive_alarms"] == 1 and rows["mazovia"]["consecutive_alarms"] == 0
    assert "raised a layout alarm" not in result.stderr and inbox.messages == [], "two nights may be a hiccup"

    alarm(sqlite_url, "rops-krakow", [empty, *(f"REST API post {n} has no title" for n in range(6))])
    for _ in range(2):  # the second check finds the run already mailed
        result = run_cli("status", "--db", sqlite_url, env=env)
        assert result.returncode == 0, result.stderr
        assert f"rops-krakow raised a layout alarm 3 runs in a row; last alarm: {empty}" in result.stderr
        assert "1 source(s) raised a layout alarm 3+ runs in a row: rops-krakow" in result.stderr
    assert len(inbox.messages) == 1
    mail = inbox.messages[0]
    assert mail["Subject"] == "ropsfeed: 1 źródło z alarmem zmiany układu strony (3 pobrania z rzędu lub więcej)"
    body = mail.get_content().replace("\r\n", "\n")
    assert "• rops-krakow — Regionalny Ośrodek Polityki Społecznej w Krakowie" in body
    assert f"  alarm: {empty}\n" in body and "  … i 2 więcej" in body and "mcps" not in body

    # a source failing as well is reported as failing, once, in the same email as the alarming ones
    for attempt in range(3):
        fail(sqlite_url, "mazovia", f"GET https://mazovia.pl/: HTTP 503 #{attempt}")
    alarm(sqlite_url, "mcps", ["feed https://mcps.com.pl/feed/ has no items"], status="failed")
    alarm(sqlite_url, "rops-krakow", [empty])
    run_cli("status", "--alarming-after", "2", "--db", sqlite_url, env=env)
    assert len(inbox.messages) == 2, "the next alarmed night is mailed again"
    assert inbox.messages[1]["Subject"] == (
        "ropsfeed: 1 źródło nie działa (3 nieudane pobrania z rzędu lub więcej); "
        "2 źródła z alarmem zmiany układu strony (2 pobrania z rzędu lub więcej)"
    )
    body = inbox.messages[1].get_content()
    assert body.index("• mazovia") < body.index("• mcps") < body.index("• rops-krakow")

    alarm(sqlite_url, "rops-krakow", [])  # the site is read again: the streak ends
    result = run_cli("status", "--json", "--db", sqlite_url, env=env)
    rows = {row["source_id"]: row for row in map(json.loads, result.stdout.splitlines())}
    assert (rows["rops-krakow"]["health"], rows["rops-krakow"]["consecutive_alarms"]) == ("ok", 0)


def stop(database: str, source_id: str, night: int) -> None:
    """A night's crawl of the source ended by SIGTERM (`systemctl stop`), nothing else wrong."""
    with session_scope(database, write=True) as session:
        run = start_run(session, f"run-{source_id}-stopped-{night}", source_id, None, False)
        finish_run(session, run, status="stopped", errors=["crawl ended early: shutdown (stopped by a signal…)"])


def test_stopped_nights_are_neither_a_success_nor_a_failure_of_the_source(
    sqlite_url: str, smtp: tuple[Inbox, int]
) -> None:
    """Three nights of `systemctl stop` (maintenance, reboots) made a source "failing" and mailed the
    operator that the site was down; a stop between two failures hid the streak. Stopped runs are
    left out of both."""
    inbox, port = smtp
    ensure_schema(sqlite_url)
    with session_scope(sqlite_url, write=True) as session:
        sync_sources(session, load_sources())
    env = {"ROPSFEED_ALERT_EMAIL": "admin@example.org", "ROPSFEED_MAIL_FROM": "ropsfeed <noreply@example.org>",
           "ROPSFEED_SMTP_URL": f"smtp://127.0.0.1:{port}"}  # fmt: skip
    for night in range(3):
        stop(sqlite_url, "mcps", night)
    quiet = run_cli("status", "--json", "--db", sqlite_url, env=env)
    mcps = next(s for s in map(json.loads, quiet.stdout.splitlines()) if s["source_id"] == "mcps")
    assert (mcps["health"], mcps["consecutive_failures"], mcps["last_failure"]) == ("never", 0, None)
    assert inbox.messages == [] and "mcps has failed" not in quiet.stderr

    fail(sqlite_url, "mazovia", "GET https://mazovia.pl/: HTTP 503 #n1")
    fail(sqlite_url, "mazovia", "GET https://mazovia.pl/: HTTP 503 #n2")
    stop(sqlite_url, "mazovia", 3)
    fail(sqlite_url, "mazovia", "GET https://mazovia.pl/: HTTP 503 #n4")
    result = run_cli("status", "--db", sqlite_url, env=env)
    assert "mazovia has failed 3 runs in a row" in result.stderr, "the stop did not end the streak"
    assert len(inbox.messages) == 1 and "HTTP 503 #n4" in inbox.messages[0].get_content()
