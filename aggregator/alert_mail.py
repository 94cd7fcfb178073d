"""Sending one plain-text operator alert through `ROPSFEED_SMTP_URL` (DESIGN.md §8).

Deliberately minimal: the digests have their own mail package with templates and delivery
bookkeeping; an alert needs only a server, a sender and a recipient. The URL schemes are the
contract's: `smtp://host:port`, `smtp+starttls://user:pass@host:587`, `smtps://user:pass@host:465`.
No password ever reaches an exception message or a log line (errors name the host only).
"""

from __future__ import annotations

import os
import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
DEFAULT_SENDER = "ropsfeed <ropsfeed@localhost>"


class AlertMailError(RuntimeError):
    """The alert could not be sent; the message is safe to log."""


def send_alert(recipient: str, subject: str, body: str, smtp_url: str | None = None, timeout: float = 30.0) -> None:
    url = smtp_url or os.environ.get("ROPSFEED_SMTP_URL")
    if not url:
        raise AlertMailError("ROPSFEED_ALERT_EMAIL is set but ROPSFEED_SMTP_URL is not: no server to send through")
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise AlertMailError(
            f"ROPSFEED_SMTP_URL must be smtp://, smtp+starttls:// or smtps://HOST (got {parts.scheme}://…)"
        )
    message = EmailMessage()
    message["From"] = os.environ.get("ROPSFEED_MAIL_FROM") or DEFAULT_SENDER
    message["To"] = recipient
    message["Subject"] = subject
    message.set_content(body)
    host, port = parts.hostname, parts.port or DEFAULT_PORTS[parts.scheme]
    try:
        smtp_class = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
        with smtp_class(host, port, timeout=timeout) as server:
            if parts.scheme == "smtp+starttls":
                server.starttls(context=ssl.create_default_context())
            if parts.username:
                server.login(unquote(parts.username), unquote(parts.password or ""))
            server.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        reason = exc.smtp_error.decode(errors="replace") if isinstance(exc, smtplib.SMTPResponseException) else exc
        raise AlertMailError(f"alert mail via {host}:{port} failed: {type(exc).__name__}: {reason}") from None
