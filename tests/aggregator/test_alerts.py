"""A source failing N runs in a row: an ERROR line, and one email per new failure through a real SMTP
server (aiosmtpd on loopback)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from aggregator.alerts import plural
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
