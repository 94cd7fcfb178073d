"""Logs: text or JSON lines, and no secret ever written (passwords in URLs, tokens, the secret key)."""

from __future__ import annotations

import io
import json
import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest

from aggregator.logs import NetworkTracebackFilter, RedactingFilter, configure_logging, redact
from db.engine import session_scope
from db.migrate import ensure_schema
from db.store import finish_run, start_run, sync_sources
from scrapers.mirror.server import BackgroundMirror
from scrapers.registry import load_sources
from tests.aggregator.cli_inprocess import invoke
from tests.conftest import run_cli

PASSWORD = "Hunter2-pass%21"  # percent-encoded "!" as it appears in a URL


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (f"connecting to smtps://alerts:{PASSWORD}@mail.example.org:465", "smtps://alerts:***@mail.example.org:465"),
        (f"postgresql+psycopg://ropsfeed:{PASSWORD}@db.internal/ropsfeed", "ropsfeed:***@db.internal"),
        ("GET https://example.org/unsubscribe?token=eyJhbGciOi.abc&lang=pl", "?token=***&lang=pl"),
        ("headers {'Authorization': 'Bearer abc.def.ghi'}", "'Authorization': 'Bearer ***'"),
        (
            "https://mcps.com.pl/aktualnosci/?page=2 returned 200",
            "https://mcps.com.pl/aktualnosci/?page=2 returned 200",
        ),
    ],
)
def test_redact_patterns(text: str, kept: str) -> None:
    cleaned = redact(text, [])
    assert kept in cleaned
    for secret in (PASSWORD, "eyJhbGciOi", "abc.def.ghi"):
        assert secret not in cleaned


def test_filter_masks_arguments_tracebacks_and_configured_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROPSFEED_SECRET_KEY", "the-signing-key-42")
    monkeypatch.setenv("ROPSFEED_SMTP_URL", f"smtp+starttls://alerts:{PASSWORD}@mail.example.org:587")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    try:
        logger.error("SMTP %s refused the login", f"smtp+starttls://alerts:{PASSWORD}@mail.example.org:587")
        logger.error("password %s decoded", "Hunter2-pass!")  # the unquoted form of the configured one
        logger.error("token signed with %s", "the-signing-key-42")
        try:
            raise RuntimeError(f"could not connect to smtps://alerts:{PASSWORD}@mail.example.org")
        except RuntimeError:
            logger.exception("sending failed")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert "Hunter2" not in output and "the-signing-key-42" not in output
    assert output.count("***") >= 4 and "RuntimeError" in output, output


def test_json_lines_without_the_smtp_password(sqlite_url: str) -> None:
    ensure_schema(sqlite_url)
    with session_scope(sqlite_url, write=True) as session:
        sync_sources(session, load_sources())
        for _ in range(3):
            finish_run(session, start_run(session, "r", "mcps", None, False), status="failed",
                       errors=["GET https://mcps.com.pl/robots.txt: connection refused"])  # fmt: skip
    env = {"ROPSFEED_ALERT_EMAIL": "admin@example.org", "ROPSFEED_SMTP_URL": f"smtps://alerts:{PASSWORD}@127.0.0.1:9"}
    result = run_cli("--log-format", "json", "status", "--db", sqlite_url, env=env)
    assert result.returncode == 0, result.stderr
    assert "Hunter2" not in result.stderr + result.stdout
    records = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert {"time", "level", "logger", "message"} <= set(records[0])
    assert any(r["level"] == "ERROR" and "mcps has failed 3 runs in a row" in r["message"] for r in records)
    assert any(r["level"] == "ERROR" and "alert mail via 127.0.0.1:9 failed" in r["message"] for r in records)

    text = invoke("status", "--db", sqlite_url, env=env)
    assert " ERROR ropsfeed.alerts: mcps has failed 3 runs in a row" in text.stderr and "Hunter2" not in text.stderr


def test_configure_logging_is_idempotent() -> None:
    root = logging.getLogger()
    before = len(root.handlers)
    configure_logging("json")
    configure_logging("text")
    try:
        assert len(root.handlers) == before + 1
    finally:
        for handler in [h for h in root.handlers if h.get_name() == "ropsfeed"]:
            root.removeHandler(handler)


def test_scrapy_settings_dump_is_redacted_under_any_handler(caplog: pytest.LogCaptureFixture) -> None:
    import scrapers.settings  # noqa: F401  (installs the filter, as in a Scrapyd job)

    with caplog.at_level(logging.INFO, logger="scrapy.crawler"):
        logging.getLogger("scrapy.crawler").info(
            "Overridden settings:\n%(settings)s",
            {"settings": {"ROPSFEED_DATABASE_URL": f"postgresql+psycopg://ropsfeed:{PASSWORD}@db/ropsfeed"}},
        )
    assert "Hunter2" not in caplog.text and "ropsfeed:***@db" in caplog.text


def test_a_site_that_cannot_be_reached_is_one_line_without_a_traceback() -> None:
    from scrapy.exceptions import DownloadConnectionRefusedError

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(NetworkTracebackFilter())
    handler.addFilter(RedactingFilter())
    robots, ours = logging.getLogger("scrapy.downloadermiddlewares.robotstxt"), logging.getLogger("scrapers.test")
    for logger in (robots, ours):
        logger.addHandler(handler)
    try:
        cases = [
            (robots, DownloadConnectionRefusedError("111: Connection refused")),
            (robots, ValueError("a bug in a middleware")),
            (ours, DownloadConnectionRefusedError("x")),
        ]
        for logger, exc in cases:
            try:
                raise exc
            except Exception as caught:
                logger.error("Error downloading <GET https://mcps.com.pl/>: %s", caught, exc_info=True)
    finally:
        for logger in (robots, ours):
            logger.removeHandler(handler)
    refused, bug, own = stream.getvalue().split("Error downloading")[1:]
    assert "111: Connection refused" in refused and "Traceback" not in refused, "Scrapy's record of an unreachable site"
    assert "Traceback" in bug and "ValueError: a bug in a middleware" in bug, "any other exception keeps its traceback"
    assert "Traceback" in own, "only Scrapy's records lose it"


LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (?P<level>[A-Z]+) (?P<logger>\S+): (?P<message>.*)$")


def test_a_line_about_a_source_starts_with_it_in_text_and_names_it_in_json(
    sqlite_url: str, mirror: BackgroundMirror
) -> None:
    """What an operator greps a night's log for. A site that cannot be reached: Scrapy's records
    (the retries given up, robots.txt) named the request only, not the source; in JSON lines the
    pipeline's and the crawl recorder's records ("mcps: crawl run 1 recorded (ok)") had no
    `source` field, though their message starts with it."""
    unreachable = run_cli("crawl", "mcps", "--mirror", "http://127.0.0.1:9", "--db", sqlite_url)
    assert unreachable.returncode == 1, unreachable.stderr
    lines = [found for line in unreachable.stderr.splitlines() if (found := LOG_LINE.match(line))]
    assert any(line["logger"].startswith("scrapy.") for line in lines), unreachable.stderr
    assert all(line["message"].startswith("mcps: ") for line in lines), unreachable.stderr

    crawled = run_cli("--log-format", "json", "crawl", "mcps", "--mirror", mirror.url, "--db", sqlite_url,
                      env={"ROPSFEED_LOG_LEVEL": "INFO"})  # fmt: skip
    assert crawled.returncode == 0, crawled.stderr
    records = [json.loads(line) for line in crawled.stderr.splitlines()]
    about = [r for r in records if r["message"].startswith(("mcps:", "mcps "))]
    assert any(r["logger"] == "scrapers.extensions" for r in about), records
    assert all(r.get("source") == "mcps" for r in about), [r for r in about if r.get("source") != "mcps"]
    assert not any("source" in r for r in records if r["logger"] in ("aggregator.crawl", "aggregator.mail"))


TWISTED_FAILURE = """
import sys
from aggregator.crawl import quiet_crawler_process
from aggregator.logs import configure_logging
from scrapy.settings import Settings
from twisted.logger import Logger

configure_logging(sys.argv[1])
quiet_crawler_process(Settings({"LOG_INSTALL_ROOT_HANDLER": False}))  # as `ropsfeed crawl` makes it
try:
    raise ValueError("boom")
except ValueError:
    # what Twisted's reactor logs when a timed call raises (twisted/internet/base.py)
    Logger(namespace="twisted.internet.base").failure("while handling timed call")
"""


def test_a_twisted_failure_is_logged_once_through_our_handler_not_also_as_plain_text() -> None:
    """Twisted printed its critical events to stderr as plain text besides handing them to Scrapy's
    observer: under load a JSON log (`--log-format json`) got a line that is no JSON object."""
    done = subprocess.run([sys.executable, "-c", TWISTED_FAILURE, "json"], capture_output=True, text=True,
                          timeout=60, cwd=Path(__file__).resolve().parents[2])  # fmt: skip
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stderr.splitlines()]  # every line is one JSON object
    assert [r["message"].splitlines()[0] for r in records] == ["while handling timed call"]
    assert "ValueError: boom" in records[0]["message"] + records[0].get("exception", "")
