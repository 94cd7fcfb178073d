"""Sending one plain-text operator alert through `ROPSFEED_SMTP_URL` (DESIGN.md §8).

The server settings and the sending are the digests' (aggregator.mail): the same URL schemes,
STARTTLS/SMTPS, UTF-8 login and error classification; an alert only adds its own short message.
No password ever reaches an exception message or a log line (errors name the host only).
"""

from __future__ import annotations

import os
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from aggregator.mail.settings import PREVIEW_SENDER, MailConfigError, SmtpSettings, parse_alert_recipient, parse_sender
from aggregator.mail.smtp import SendError, SmtpSender


class AlertMailError(RuntimeError):
    """The alert could not be sent; the message is safe to log."""


def send_alert(recipient: str, subject: str, body: str, smtp_url: str | None = None, timeout: float = 30.0) -> None:
    url = smtp_url or os.environ.get("ROPSFEED_SMTP_URL", "").strip()
    if not url:
        raise AlertMailError("ROPSFEED_ALERT_EMAIL is set but ROPSFEED_SMTP_URL is not: no server to send through")
    try:
        recipient = parse_alert_recipient(recipient)
        settings = SmtpSettings.from_url(url)
        sender = parse_sender(os.environ.get("ROPSFEED_MAIL_FROM") or PREVIEW_SENDER)
    except MailConfigError as exc:
        raise AlertMailError(str(exc)) from None
    settings = SmtpSettings(settings.host, settings.port, settings.security, settings.username, settings.password,
                            timeout)  # fmt: skip
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.domain)
    message.set_content(body)
    try:
        with SmtpSender(settings) as smtp:
            smtp.send(message, sender.addr_spec, recipient)
    except SendError as exc:
        raise AlertMailError(f"alert mail via {settings.host}:{settings.port} failed: {exc}") from None
