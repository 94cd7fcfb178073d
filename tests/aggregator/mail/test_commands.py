"""`ropsfeed subscribers …`, `ropsfeed digest send` (in process: the CLI's imports cost seconds a
process) and the digest half of `ropsfeed run` (in a fresh process, as cron runs it), against a real
SMTP server."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from aggregator.cli import app
from aggregator.mail.jobs import log_to_stderr, send_after_crawl
from db.engine import session_scope
from db.migrate import upgrade
from db.store import sync_sources
from scrapers.registry import load_sources
from tests.aggregator.mail.conftest import SmtpServer, add_story
from tests.conftest import run_cli


class Result:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def cli(*args: str, env: dict[str, str] | None = None) -> Result:
    result = CliRunner().invoke(app, list(args), env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Result(result.exit_code, result.stdout, result.stderr)


MAIL_ENV = {"ROPSFEED_MAIL_FROM": "Biuletyn ropsfeed <biuletyn@ropsfeed.example.org>",
            "ROPSFEED_SECRET_KEY": "cli-test-key", "ROPSFEED_BASE_URL": "https://ropsfeed.example.org"}  # fmt: skip


def fresh_story(database: str, title: str) -> None:
    now = datetime.now(UTC)
    upgrade(database)
    with session_scope(database, write=True) as session:
        sync_sources(session, load_sources())
        add_story(session, source_id="rops-bialystok", title=title, seen=now - timedelta(hours=1),
                  published=now - timedelta(hours=2))  # fmt: skip


def test_subscribers_add_list_remove(sqlite_url: str) -> None:
    added = cli("subscribers", "add", "Ewa.Nowak@Example.org", "--frequency", "weekly", "--weekday", "piątek",
                    "--voivodeship", "podlaskie", "--voivodeship", "mazowieckie", "--keyword", "ekonomia społeczna",
                    "--db", sqlite_url)  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "added ewa.nowak@example.org"
    again = cli("subscribers", "add", "ewa.nowak@example.org", "--source", "mcps", "--db", sqlite_url)
    assert again.stdout.strip() == "updated ewa.nowak@example.org"
    listed = cli("subscribers", "list", "--json", "--db", sqlite_url)
    [row] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert (row["email"], row["state"], row["frequency"], row["sources"], row["voivodeships"]) == (
        "ewa.nowak@example.org", "active", "daily", ["mcps"], []), "the second add replaced the settings"  # fmt: skip
    assert row["confirmed_at"] and row["last_digest_at"] is None
    assert "ewa.nowak@example.org\tactive\tdaily\tsources: mcps" in cli("subscribers", "list", "--db",
                                                                           sqlite_url).stdout  # fmt: skip
    bad = cli("subscribers", "add", "ewa@", "--db", sqlite_url)
    assert bad.returncode == 2 and "not a valid email address" in bad.stderr
    bad = cli("subscribers", "add", "jan@example.org", "--voivodeship", "mazowsze", "--db", sqlite_url)
    assert bad.returncode == 2 and "unknown voivodeship 'mazowsze'" in bad.stderr
    assert cli("subscribers", "remove", "EWA.NOWAK@example.org", "--db", sqlite_url).returncode == 0
    assert cli("subscribers", "list", "--db", sqlite_url).stdout.strip() == "no subscribers"
    assert cli("subscribers", "remove", "ewa.nowak@example.org", "--db", sqlite_url).returncode == 1


def test_subscribers_list_shows_a_source_out_of_the_registry(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The operator took the source out of sources.toml after Ewa chose it: listing still works."""
    from aggregator.mail import subscribers

    added = cli("subscribers", "add", "ewa@example.org", "--source", "rops-bialystok", "--db", sqlite_url)
    assert added.returncode == 0
    known = subscribers._known_sources() - {"rops-bialystok"}
    monkeypatch.setattr(subscribers, "_known_sources", lambda: known)
    listed = cli("subscribers", "list", "--db", sqlite_url)
    assert listed.returncode == 0 and "ewa@example.org\tactive\tdaily\tsources: rops-bialystok" in listed.stdout


def test_digest_send_dry_run_then_for_real(sqlite_url: str, smtp_server: SmtpServer) -> None:
    assert cli("subscribers", "add", "jan@example.org", "--db", sqlite_url).returncode == 0
    fresh_story(sqlite_url, "Konkurs dla podlaskich organizacji")
    env = {**MAIL_ENV, "ROPSFEED_SMTP_URL": smtp_server.url}
    dry = cli("digest", "send", "--dry-run", "--db", sqlite_url, env=env)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines()[0].startswith("jan@example.org: ropsfeed: 1 nowe ogłoszenie (")
    assert "[podlaskie] Konkurs dla podlaskich organizacji <https://rops-bialystok.example.pl/" in dry.stdout
    assert "nothing sent or recorded" in dry.stderr and smtp_server.handler.messages == []
    no_key = cli("digest", "send", "--db", sqlite_url, env={**env, "ROPSFEED_SECRET_KEY": ""})
    assert no_key.returncode == 2 and "ROPSFEED_SECRET_KEY is not set" in no_key.stderr
    sent = cli("digest", "send", "--frequency", "daily", "--db", sqlite_url, env=env)
    assert sent.returncode == 0, sent.stderr
    assert "1 digest(s) sent with 1 story(ies)" in sent.stderr
    assert smtp_server.handler.recipients() == ["jan@example.org"]
    [message] = smtp_server.handler.parsed()
    assert message["From"] == "Biuletyn ropsfeed <biuletyn@ropsfeed.example.org>"
    assert message["List-Unsubscribe"].startswith("<https://ropsfeed.example.org/unsubscribe/")
    assert cli("digest", "send", "--db", sqlite_url, env=env).returncode == 0
    assert len(smtp_server.handler.messages) == 1, "a second run the same day sends nothing"


def test_run_sends_due_digests_after_the_crawl(sqlite_url: str, smtp_server: SmtpServer) -> None:
    assert cli("subscribers", "add", "jan@example.org", "--db", sqlite_url).returncode == 0
    fresh_story(sqlite_url, "Nabór do Rady Działalności Pożytku Publicznego")
    dead_mirror = ("--mirror", "http://127.0.0.1:9")  # every source fails fast; stored stories still go out
    run = run_cli("run", *dead_mirror, "--db", sqlite_url, env={**MAIL_ENV, "ROPSFEED_SMTP_URL": smtp_server.url})
    assert run.returncode == 1, "the sources failed"
    assert "digests: 1 digest(s) sent with 1 story(ies)" in run.stderr
    assert smtp_server.handler.recipients() == ["jan@example.org"]


def test_without_smtp_the_job_says_so_at_info(sqlite_url: str, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    monkeypatch.delenv("ROPSFEED_SMTP_URL", raising=False)
    log_to_stderr()
    assert send_after_crawl(sqlite_url, echo=print) is None
    assert "INFO aggregator.mail: ROPSFEED_SMTP_URL is not set: no digests sent" in capsys.readouterr().err


def test_smtp_for_alerts_only_does_not_fail_the_job(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """No subscriber is due: the digest settings (sender, base URL, key) are not needed."""
    for name in ("ROPSFEED_MAIL_FROM", "ROPSFEED_BASE_URL", "ROPSFEED_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ROPSFEED_SMTP_URL", "smtp://127.0.0.1:9")
    upgrade(sqlite_url)
    report = send_after_crawl(sqlite_url, echo=print)
    assert report is not None and report.sent == 0 and not report.failed
