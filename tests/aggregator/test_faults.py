"""Faults: the database going away mid-crawl, a site that never answers, bad settings."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from aggregator.cli import main
from aggregator.crawl import check_settings, crawl_overrides
from db.engine import session_scope
from db.migrate import ensure_schema
from db.models import Announcement, CrawlRun, FailedPage
from scrapers.mirror.server import SNAPSHOT_DIR, BackgroundMirror
from tests.aggregator.cli_inprocess import invoke
from tests.conftest import REPO, run_cli

pytestmark = pytest.mark.network


def overlay_route(root: Path, host: str, route: str) -> None:
    (root / host).mkdir(parents=True, exist_ok=True)
    with (root / host / "routes.toml").open("a", encoding="utf-8") as handle:
        handle.write(route + "\n")


class TcpProxy:
    """127.0.0.1:PORT → the PostgreSQL server; `stop()` is the database vanishing (listener and every
    open connection closed at once), `start()` brings it back on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self.listener: socket.socket | None = None
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.port, self.listener = listener.getsockname()[1], listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            with self.lock:
                self.sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        assert self.listener is not None
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread (close alone does not)
        self.listener.close()
        with self.lock:
            for sock in self.sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self.sockets.clear()


@pytest.fixture
def slow_mirror(tmp_path: Path) -> Iterator[BackgroundMirror]:
    """mcps answers robots.txt after 3 s (time to pull the database away), rops-poznan never answers
    its REST API (it hangs for a minute)."""
    overlay_route(tmp_path, "mcps.com.pl",
                  '[[route]]\npath = "/robots.txt"\ndelay = 3.0\nbody = "User-agent: *\\nAllow: /\\n"\n')  # fmt: skip
    overlay_route(tmp_path, "rops.poznan.pl", '[[route]]\npath = "/wp-json/wp/v2/posts"\ndelay = 60.0\nbody = "[]"\n')
    with BackgroundMirror([tmp_path, SNAPSHOT_DIR]) as server:
        yield server


def test_hanging_site_is_cut_by_the_timeout_and_does_not_stall_the_others(
    sqlite_url: str, slow_mirror: BackgroundMirror
) -> None:
    result = run_cli("crawl", "rops-poznan", "rops-krakow", "--mirror", slow_mirror.url, "--db", sqlite_url,
                     env={"ROPSFEED_DOWNLOAD_TIMEOUT": "0.5", "ROPSFEED_ANNOTATION_WORKERS": "0"})  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    with session_scope(sqlite_url) as session:
        runs = {r.source_id: r for r in session.scalars(select(CrawlRun))}
    assert runs["rops-krakow"].status == "ok" and runs["rops-krakow"].items_new == 3
    assert runs["rops-poznan"].status == "failed"
    assert any("timed out after 0.5 s" in e for e in runs["rops-poznan"].errors), runs["rops-poznan"].errors


def test_bad_timeout_setting_is_refused_before_anything_runs(sqlite_url: str) -> None:
    result = invoke("run", "--db", sqlite_url, env={"ROPSFEED_DOWNLOAD_TIMEOUT": "soon"})
    assert result.returncode == 2
    assert "ROPSFEED_DOWNLOAD_TIMEOUT must be a number of seconds above 0, not 'soon'" in result.stderr


@pytest.mark.parametrize("value", ["0", "many", "-5"])
def test_bad_batch_size_is_refused_before_anything_runs(sqlite_url: str, value: str) -> None:
    result = invoke("run", "--db", sqlite_url, env={"ROPSFEED_BATCH_SIZE": value})
    assert result.returncode == 2
    assert f"ROPSFEED_BATCH_SIZE must be a whole number above 0, not {value!r}" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "refusal"),
    [
        # -5 made every lock expire as it was taken: a second run crawled what the first was crawling
        ("ROPSFEED_LOCK_TTL", "-5", "ROPSFEED_LOCK_TTL must be a number of seconds above 0, not '-5'"),
        ("ROPSFEED_LOCK_TTL", "abc", "ROPSFEED_LOCK_TTL must be a number of seconds above 0, not 'abc'"),
        ("ROPSFEED_ANNOTATION_WORKERS", "abc",
         "ROPSFEED_ANNOTATION_WORKERS must be a whole number of 0 or more, not 'abc'"),
        # a traceback and exit 1 on every command
        ("ROPSFEED_LOG_LEVEL", "LOUD",
         "ROPSFEED_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, not 'LOUD'"),
    ],
)  # fmt: skip
def test_bad_operation_settings_are_refused_naming_them_before_anything_runs(
    tmp_path: Path, name: str, value: str, refusal: str
) -> None:
    database = tmp_path / "ropsfeed.db"
    result = invoke("run", "--db", f"sqlite:///{database}", env={name: value})
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr == f"error: {refusal}\n"
    assert not database.exists(), "refused before the database was touched"


@pytest.mark.parametrize(
    ("name", "value", "refusal"),
    [
        # each was found only after the night's crawl: 'FAILED digests: …' and exit 1 when a digest
        # was due, an alert lost in the log, or a digest the SMTP server refused
        ("ROPSFEED_SMTP_URL", "smtp.example.org:25",
         "ROPSFEED_SMTP_URL scheme must be one of smtp, smtp+starttls, smtps, not 'smtp.example.org'"),
        ("ROPSFEED_SMTP_URL", "smtps://jan:hunter2@mail example.org:465",
         "ROPSFEED_SMTP_URL has no valid host name: smtps://jan:***@mail example.org:465"),
        ("ROPSFEED_SMTP_URL", "smtp://mail.example.org:0", "ROPSFEED_SMTP_URL port must be 1-65535: "
                                                           "smtp://mail.example.org:0"),
        ("ROPSFEED_MAIL_FROM", "ropsfeed biuletyn@example.org",
         "ROPSFEED_MAIL_FROM is not an email address ('Name <user@example.org>' or 'user@example.org'): "
         "'ropsfeed biuletyn@example.org'"),
        ("ROPSFEED_MAIL_FROM", "@example.org",
         "ROPSFEED_MAIL_FROM is not an email address ('Name <user@example.org>' or 'user@example.org'): "
         "'@example.org'"),
        ("ROPSFEED_BASE_URL", "ropsfeed.example.org",
         "ROPSFEED_BASE_URL must be the public http(s) URL of `ropsfeed serve` (https://host/path/), "
         "not 'ropsfeed.example.org'"),
        ("ROPSFEED_BASE_URL", "https://ropsfeed.example.org/?lang=pl",
         "ROPSFEED_BASE_URL must be the public http(s) URL of `ropsfeed serve` (https://host/path/), "
         "not 'https://ropsfeed.example.org/?lang=pl'"),
    ],
)  # fmt: skip
def test_malformed_mail_settings_are_refused_by_run_before_it_crawls(
    tmp_path: Path, name: str, value: str, refusal: str
) -> None:
    """`ropsfeed run` checks the mail settings that are set before it crawls (aggregator/mail/settings.py:
    `check_mail_env`), alone: the others unset."""
    database = tmp_path / "ropsfeed.db"
    unset = {n: "" for n in ("ROPSFEED_SMTP_URL", "ROPSFEED_MAIL_FROM", "ROPSFEED_BASE_URL", "ROPSFEED_SECRET_KEY")}
    result = run_cli("run", "--db", f"sqlite:///{database}", "--mirror", "http://127.0.0.1:9/",
                     env={**unset, name: value})  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr == f"error: {refusal}\n"
    assert "hunter2" not in result.stderr
    assert not database.exists(), "refused before the database was touched"


def test_unset_mail_settings_are_not_asked_for_by_run(tmp_path: Path) -> None:
    """Without ROPSFEED_SMTP_URL no digest is sent, as before: nothing is required, and well-formed
    settings pass — the run goes on to its next check (a mirror that is no URL, here)."""
    unset = {n: "" for n in ("ROPSFEED_SMTP_URL", "ROPSFEED_MAIL_FROM", "ROPSFEED_BASE_URL", "ROPSFEED_SECRET_KEY")}
    well_formed = {"ROPSFEED_MAIL_FROM": "Biuletyn ROPS <biuletyn@przykład.pl>",
                   "ROPSFEED_BASE_URL": "https://ropsfeed.example.org/biuletyn",
                   "ROPSFEED_SMTP_URL": "smtps://jan%40example.org:s3cr%3At@[2001:db8::25]:465"}  # fmt: skip
    for env in (unset, {**unset, **well_formed}):
        result = run_cli("run", "--db", f"sqlite:///{tmp_path / 'x.db'}", "--mirror", "nowhere", env=env)
        assert result.returncode == 2, result.stdout + result.stderr
        assert result.stderr == "error: --mirror must be an http:// or https:// URL, not 'nowhere'\n"


def test_the_alert_address_is_checked_by_run_before_it_crawls(tmp_path: Path) -> None:
    """ROPSFEED_ALERT_EMAIL is the alert's envelope recipient as written: a display name or a typo
    was found only when a source had failed three nights in a row (the alert lost in the log). Set
    without ROPSFEED_SMTP_URL it is no error — the alerts reach the log — but it is said at once."""
    unset = {n: "" for n in ("ROPSFEED_SMTP_URL", "ROPSFEED_MAIL_FROM", "ROPSFEED_BASE_URL", "ROPSFEED_SECRET_KEY")}
    database = tmp_path / "ropsfeed.db"
    for value in ("Dyżurny <ops@example.org>", "ops@example", "ops@example.org, szef@example.org"):
        env = {**unset, "ROPSFEED_SMTP_URL": "smtp://127.0.0.1:9", "ROPSFEED_ALERT_EMAIL": value}
        result = run_cli("run", "--db", f"sqlite:///{database}", "--mirror", "http://127.0.0.1:9/", env=env)
        assert result.returncode == 2, result.stdout + result.stderr
        [line] = result.stderr.splitlines()
        assert line.startswith(f"error: ROPSFEED_ALERT_EMAIL is not an email address ('user@example.org'): {value!r}")
        assert not database.exists(), "refused before the database was touched"
    result = run_cli("run", "--db", f"sqlite:///{database}", "--mirror", "nowhere",
                     env={**unset, "ROPSFEED_ALERT_EMAIL": "ops@example.org"})  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    warning, error = result.stderr.splitlines()
    assert "ROPSFEED_ALERT_EMAIL is set but ROPSFEED_SMTP_URL is not: alerts are logged, not mailed" in warning
    assert error == "error: --mirror must be an http:// or https:// URL, not 'nowhere'"


def test_unreachable_database_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    for database in (f"sqlite:///{tmp_path / 'a-file' / 'ropsfeed.db'}", "postgresql+psycopg://ropsfeed@127.0.0.1:9/x"):
        monkeypatch.setattr(sys, "argv", ["ropsfeed", "status", "--db", database])
        with pytest.raises(SystemExit) as exited:
            main()  # the real entry point: it turns the error into one line and exit 2
        stderr = capsys.readouterr().err
        assert exited.value.code == 2, stderr
        assert stderr.startswith("error: database unavailable: ") and len(stderr.splitlines()) == 1


@pytest.mark.postgres
def test_database_gone_mid_crawl_then_next_run_completes(
    postgres_url: str, slow_mirror: BackgroundMirror, mirror: BackgroundMirror
) -> None:
    ensure_schema(postgres_url)
    direct = make_url(postgres_url)
    proxy = TcpProxy((direct.host or "127.0.0.1", direct.port or 5432))
    proxy.start()
    through_proxy = direct.set(port=proxy.port).render_as_string(hide_password=False)
    command = [sys.executable, "-m", "aggregator.cli", "crawl", "mcps", "--mirror", slow_mirror.url,
               "--db", through_proxy]  # fmt: skip
    env = {**os.environ, "ROPSFEED_LOCK_TTL": "1", "ROPSFEED_ANNOTATION_WORKERS": "0"}
    crawl = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # until the crawl has begun (its run row exists), then pull the plug
        with session_scope(postgres_url) as session:
            if session.scalar(select(func.count()).select_from(CrawlRun).where(CrawlRun.status == "running")):
                break
        time.sleep(0.1)
    proxy.stop()
    _, stderr = crawl.communicate(timeout=120)
    assert crawl.returncode == 2, stderr
    assert stderr.splitlines()[-1].startswith("error: database unavailable: ") and "Traceback" not in stderr
    with session_scope(postgres_url) as session:
        assert session.scalar(select(func.count()).select_from(Announcement)) == 0, "nothing half-written"

    proxy.start()
    command[command.index(slow_mirror.url)] = mirror.url  # the database is back; no need to wait this time
    try:
        again = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    finally:
        proxy.stop()
    assert again.returncode == 0, again.stdout + again.stderr
    with session_scope(postgres_url) as session:
        runs = session.scalars(select(CrawlRun).order_by(CrawlRun.id)).all()
        stored = session.scalar(select(func.count()).select_from(Announcement))
        owed = session.scalars(select(FailedPage.kind)).all()
    assert [r.status for r in runs] == ["failed", "ok"] and stored == 7
    assert "interrupted" in runs[0].errors[-1], "the cut-short run is recorded as failed"
    walk = "mcps: walking every listing page for what an earlier crawl fetched and did not store: "
    walk += f"crawl run {runs[0].id} "
    assert walk in again.stderr, "what the cut-short run fetched is looked for on every listing page"
    assert owed == [], "and once walked, nothing is owed"


@pytest.mark.parametrize(
    ("name", "value", "refusal"),
    [
        (
            "ROPSFEED_RETRY_AFTER_MAX",
            "soon",
            "ROPSFEED_RETRY_AFTER_MAX must be a number of seconds above 0, not 'soon'",
        ),
        ("ROPSFEED_RETRY_AFTER_MAX", "0", "ROPSFEED_RETRY_AFTER_MAX must be a number of seconds above 0, not '0'"),
        ("ROPSFEED_RETRY_BACKOFF", "-1", "ROPSFEED_RETRY_BACKOFF must be a number of seconds of 0 or more, not '-1'"),
    ],
)
def test_bad_retry_waits_are_refused_before_anything_runs(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, refusal: str
) -> None:
    """The run's check (`check_settings`), in process: the CLI turns its ValueError into exit 2."""
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=re.escape(refusal)):
        check_settings()


def test_retry_waits_reach_the_crawl_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the run's overrides, so that Scrapyd's crawls on other machines get them too."""
    monkeypatch.setenv("ROPSFEED_RETRY_AFTER_MAX", "30")
    monkeypatch.setenv("ROPSFEED_RETRY_BACKOFF", "0")
    overrides = crawl_overrides("sqlite:///x.db", None, False, "run-1", "WARNING")
    assert (overrides["ROPSFEED_RETRY_AFTER_MAX"], overrides["ROPSFEED_RETRY_BACKOFF"]) == (30.0, 0.0)
    monkeypatch.delenv("ROPSFEED_RETRY_AFTER_MAX")
    monkeypatch.delenv("ROPSFEED_RETRY_BACKOFF")
    overrides = crawl_overrides("sqlite:///x.db", None, False, "run-1", "WARNING")
    assert (overrides["ROPSFEED_RETRY_AFTER_MAX"], overrides["ROPSFEED_RETRY_BACKOFF"]) == (120.0, 1.0)
