"""Mail configuration from the environment (DESIGN.md §8): the SMTP server, the sender, the public
base URL for links and the key that signs tokens.

`ROPSFEED_SMTP_URL` takes three schemes: `smtp://host:port` (plain, for a local relay),
`smtp+starttls://user:pass@host:587` and `smtps://user:pass@host:465` (TLS from the first byte).
The password never appears in a repr, a log line or an error message.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.utils import parseaddr
from urllib.parse import unquote, urlsplit

from aggregator.feeds import base_url

SCHEMES = {"smtp": ("plain", 25), "smtp+starttls": ("starttls", 587), "smtps": ("ssl", 465)}
DEFAULT_TIMEOUT = 30.0
PREVIEW_SENDER = "ropsfeed <ropsfeed@localhost>"  # dry runs and previews only


class MailConfigError(ValueError):
    """A missing or malformed mail setting; the message names the variable and never a password."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str  # plain | starttls | ssl
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings:
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError as exc:
            raise MailConfigError(f"ROPSFEED_SMTP_URL is not a valid URL: {_redacted(url)}") from exc
        if parts.scheme not in SCHEMES:
            raise MailConfigError(f"ROPSFEED_SMTP_URL scheme must be one of {', '.join(SCHEMES)}, not {parts.scheme!r}")
        if not parts.hostname:
            raise MailConfigError(f"ROPSFEED_SMTP_URL has no host: {_redacted(url)}")
        security, default_port = SCHEMES[parts.scheme]
        return cls(
            host=parts.hostname,
            port=port or default_port,
            security=security,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    def describe(self) -> str:
        """For logs: no password."""
        user = f"{self.username}@" if self.username else ""
        return f"{self.security} SMTP {user}{self.host}:{self.port}"


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)


@dataclass(frozen=True)
class MailSettings:
    """Everything a digest run needs besides the database."""

    sender: Address
    base_url: str
    secret_key: str
    smtp: SmtpSettings | None  # None: not configured (dry runs and previews still work)

    @property
    def list_id(self) -> str:
        return f"ropsfeed digest <digest.{self.sender.domain}>"


def smtp_from_env() -> SmtpSettings | None:
    url = os.environ.get("ROPSFEED_SMTP_URL", "").strip()
    return SmtpSettings.from_url(url) if url else None


def parse_sender(value: str) -> Address:
    name, address = parseaddr(value)
    if "@" not in address or any(c in value for c in "\r\n"):
        raise MailConfigError(f"ROPSFEED_MAIL_FROM is not an email address: {value!r}")
    username, domain = address.rsplit("@", 1)
    return Address(display_name=name or "ropsfeed", username=username, domain=domain)


def secret_key() -> str:
    """The key that signs tokens; reading a token needs nothing else of the mail settings."""
    secret = os.environ.get("ROPSFEED_SECRET_KEY", "").strip()
    if not secret:
        raise MailConfigError("ROPSFEED_SECRET_KEY is not set: it signs the confirmation and unsubscribe links")
    return secret


def mail_settings(*, require_secret: bool = True, secret_fallback: str | None = None) -> MailSettings:
    """From the environment. Sending needs a real `ROPSFEED_SECRET_KEY` (it signs the links people
    will click for years); a preview may use `secret_fallback`."""
    secret = os.environ.get("ROPSFEED_SECRET_KEY", "").strip() or secret_fallback
    if not secret:
        if require_secret:
            raise MailConfigError("ROPSFEED_SECRET_KEY is not set: it signs the confirmation and unsubscribe links")
        secret = ""
    smtp = smtp_from_env()
    sender = os.environ.get("ROPSFEED_MAIL_FROM", "").strip()
    if not sender:
        if smtp is not None:
            raise MailConfigError("ROPSFEED_MAIL_FROM is not set: digests need a sender address")
        sender = PREVIEW_SENDER
    if smtp is not None and not os.environ.get("ROPSFEED_BASE_URL", "").strip():
        raise MailConfigError(
            "ROPSFEED_BASE_URL is not set: the unsubscribe and confirmation links in emails need the public URL"
            " of `ropsfeed serve`"
        )
    return MailSettings(sender=parse_sender(sender), base_url=base_url(), secret_key=secret, smtp=smtp)
