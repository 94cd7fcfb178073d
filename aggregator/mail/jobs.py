"""Digests inside the other commands: `ropsfeed run` sends the due ones after the crawl,
`ropsfeed demo` writes an HTML preview next to the feed files."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from aggregator.logs import TEXT_FORMAT, RedactingFilter
from aggregator.mail.digest import DigestBuilder
from aggregator.mail.message import unsubscribe_url
from aggregator.mail.render import render_digest
from aggregator.mail.send import SendReport, due_subscribers, send_digests
from aggregator.mail.settings import mail_settings
from aggregator.mail.tokens import unsubscribe_token
from db.engine import session_scope
from db.migrate import ensure_schema

log = logging.getLogger("aggregator.mail")
PREVIEW_SECRET = "preview-only-not-a-real-key"


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at the time (a test's capture, a redirected stream)."""

    @property  # type: ignore[override]
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        pass


def log_to_stderr() -> None:
    """Make the mail log's INFO lines visible in a command's output (cron mails them), in the
    format and with the redaction the command's `--log-format` chose (aggregator.logs)."""
    if not any(isinstance(h, _StderrHandler) for h in log.handlers):
        handler = _StderrHandler()
        chosen = next((h for h in logging.getLogger().handlers if h.get_name() == "ropsfeed"), None)
        handler.setFormatter(chosen.formatter if chosen and chosen.formatter else logging.Formatter(TEXT_FORMAT))
        handler.addFilter(RedactingFilter())
        log.addHandler(handler)
        log.propagate = False
    log.setLevel(logging.INFO)


def send_after_crawl(url: str, echo: Callable[[str], None], stop: Callable[[], object] = lambda: None
                     ) -> SendReport | None:  # fmt: skip
    """The scheduled job's second half; None when SMTP is not configured (said at INFO). `stop`: true
    once the run was asked to stop (aggregator/stopping.py): no digest is begun after that."""
    if not os.environ.get("ROPSFEED_SMTP_URL", "").strip():
        log.info("ROPSFEED_SMTP_URL is not set: no digests sent (set it to mail subscribers after each run)")
        return None
    if not due_subscribers(url, datetime.now(UTC)):  # an SMTP server set up for alerts only needs no more
        log.info("digests: nobody is due")
        return SendReport()
    report = send_digests(url, mail_settings(), echo=echo, stop=stop)
    log.info("digests: %s", report.summary())
    return report


def write_preview(url: str, path: Path, now: datetime | None = None) -> Path:
    """The newest stories rendered as a digest for a subscriber without filters."""
    ensure_schema(url)
    settings = mail_settings(secret_fallback=PREVIEW_SECRET, preview=True)
    with session_scope(url) as session:
        digest = DigestBuilder().preview(session, now or datetime.now(UTC))
    token = unsubscribe_token(settings.secret_key, 0, digest.email)
    rendered = render_digest(digest, unsubscribe_url=unsubscribe_url(settings, token), home_url=settings.base_url,
                             frequency="daily", weekday=None)  # fmt: skip
    path.write_text(rendered.html, encoding="utf-8")
    return path
