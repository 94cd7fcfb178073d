"""Mail configuration from the environment (DESIGN.md §8): the SMTP server, the sender, the public
base URL for links and the key that signs tokens.

`ROPSFEED_SMTP_URL` takes three schemes: `smtp://host:port` (plain, for a local relay),
`smtp+starttls://user:pass@host:587` and `smtps://user:pass@host:465` (TLS from the first byte).
The password never appears in a repr, a log line or an error message.

A malformed setting used to be noticed only when a digest was due or an alert was sent, after the
night's crawl (a `FAILED digests` line, exit 1, or an alert lost in the log); `check_mail_env` lets
`ropsfeed run` refuse it before it crawls, with the very checks the sending makes.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.utils import getaddresses, parseaddr
from urllib.parse import unquote, urlsplit

from aggregator.feeds import base_url

log = logging.getLogger(__name__)

SCHEMES = {"smtp": ("plain", 25), "smtp+starttls": ("starttls", 587), "smtps": ("ssl", 465)}
DEFAULT_TIMEOUT = 30.0
PREVIEW_SENDER = "ropsfeed <ropsfeed@localhost>"  # dry runs and previews only


# A host name as a resolver takes it: dot-separated labels of letters (an IDN's too), digits, "-", "_".
_HOST_NAME = re.compile(r"[^\W_][\w-]*(?:\.[^\W_][\w-]*)*\.?")
# What an address's local part or domain cannot hold unquoted in a header or an SMTP command.
_NOT_IN_ADDRESS = re.compile(r"[\s<>()\[\],;:\\\"]")


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
        if not _valid_host(parts.hostname):  # "smtp://mail example.org" was taken, and failed to resolve
            raise MailConfigError(f"ROPSFEED_SMTP_URL has no valid host name: {_redacted(url)}")
        if port == 0:  # it was silently the scheme's default port
            raise MailConfigError(f"ROPSFEED_SMTP_URL port must be 1-65535: {_redacted(url)}")
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


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return _HOST_NAME.fullmatch(host) is not None
    return True


def _redacted(url: str) -> str:
    """`url` without its password; what urlsplit cannot read ("smtp://u:p@[::1") is said up to the
    host, whose "@" it finds as urlsplit does (the last one), or "***" (it raised from here before,
    a ValueError with a traceback where a setting's error belonged)."""
    try:
        password = urlsplit(url).password
    except ValueError:
        scheme, _, rest = url.partition("://")
        return f"{scheme}://***@{rest.rpartition('@')[2]}" if "@" in rest else url
    return url if password is None else url.replace(f":{password}@", ":***@", 1)


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
    """`ROPSFEED_MAIL_FROM`: one address, alone or in angle brackets after a display name
    ("ropsfeed <biuletyn@example.org>").

    parseaddr takes almost anything: "@example.org" (no user), "ropsfeed biuletyn@example.org" (the
    angle brackets forgotten: the user "ropsfeed biuletyn"), "biuletyn@exa mple.org" (the space
    dropped), "ropsfeed <biuletyn@example.org" (the ">" forgotten), "a@x.org, b@x.org" (the first);
    each was sent as something the operator did not write, or refused by the SMTP server when a
    digest was due. The address must stand as written; a quoted local part ("a b"@x.org) is not taken."""
    name, address = parseaddr(value)
    username, _, domain = address.rpartition("@")
    written = value.strip()
    if (
        not username
        or not domain
        or any(c in value for c in "\r\n")
        or len(getaddresses([value])) != 1  # two addresses, or a display name with a bare comma
        or _NOT_IN_ADDRESS.search(username)
        or _NOT_IN_ADDRESS.search(domain)
        or not (written.endswith(f"<{address}>") if "<" in written else written == address)
    ):
        raise MailConfigError(
            f"ROPSFEED_MAIL_FROM is not an email address ('Name <user@example.org>' or 'user@example.org'): {value!r}"
        )
    return Address(display_name=name or "ropsfeed", username=username, domain=domain)


def parse_base_url(value: str) -> str:
    """`ROPSFEED_BASE_URL`: the public http(s) URL of `ropsfeed serve`, ending in "/" (the links
    in emails and feeds are written after it: `{base}unsubscribe/{token}`), so no query or fragment."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a port that is none
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or not _valid_host(parts.hostname)
        or parts.query
        or parts.fragment
        or re.search(r"\s", value)
    ):
        raise MailConfigError(
            f"ROPSFEED_BASE_URL must be the public http(s) URL of `ropsfeed serve` (https://host/path/), not {value!r}"
        )
    return value if value.endswith("/") else value + "/"


def parse_alert_recipient(value: str) -> str:
    """`ROPSFEED_ALERT_EMAIL`: one plain address (it is the SMTP envelope's recipient as written);
    a display name, two addresses or no address at all was found only when an alert was due."""
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise MailConfigError(
            f"ROPSFEED_ALERT_EMAIL is not an email address ('user@example.org'): {value!r} ({exc})"
        ) from None
    return value


def check_mail_env() -> None:
    """The mail settings that are set, checked as sending would check them: `ropsfeed run` calls
    this before it crawls, so a malformed one is refused at once rather than after the crawl, when
    a digest is due or an alert is mailed. Settings that are not set are not asked for (without
    `ROPSFEED_SMTP_URL` no digest is sent, as before; an alert address without it is said once, as a
    warning: alerts then reach the log only)."""
    smtp_from_env()
    if sender := os.environ.get("ROPSFEED_MAIL_FROM", "").strip():
        parse_sender(sender)
    if base := os.environ.get("ROPSFEED_BASE_URL", "").strip():
        parse_base_url(base)
    if alert := os.environ.get("ROPSFEED_ALERT_EMAIL", "").strip():
        parse_alert_recipient(alert)
        if not os.environ.get("ROPSFEED_SMTP_URL", "").strip():
            log.warning("ROPSFEED_ALERT_EMAIL is set but ROPSFEED_SMTP_URL is not: alerts are logged, not mailed")


def secret_key() -> str:
    """The key that signs tokens; reading a token needs nothing else of the mail settings."""
    secret = os.environ.get("ROPSFEED_SECRET_KEY", "").strip()
    if not secret:
        raise MailConfigError("ROPSFEED_SECRET_KEY is not set: it signs the confirmation and unsubscribe links")
    return secret


def mail_settings(*, require_secret: bool = True, secret_fallback: str | None = None,
                  preview: bool = False) -> MailSettings:  # fmt: skip
    """From the environment. Sending needs a real `ROPSFEED_SECRET_KEY` (it signs the links people
    will click for years), a sender and the public base URL; a preview (`demo`, `--dry-run`) sends
    nothing and may do without them."""
    secret = os.environ.get("ROPSFEED_SECRET_KEY", "").strip() or secret_fallback
    if not secret:
        if require_secret:
            raise MailConfigError("ROPSFEED_SECRET_KEY is not set: it signs the confirmation and unsubscribe links")
        secret = ""
    smtp = smtp_from_env()
    sending = smtp is not None and not preview
    sender = os.environ.get("ROPSFEED_MAIL_FROM", "").strip()
    if not sender:
        if sending:
            raise MailConfigError("ROPSFEED_MAIL_FROM is not set: digests need a sender address")
        sender = PREVIEW_SENDER
    if sending and not os.environ.get("ROPSFEED_BASE_URL", "").strip():
        raise MailConfigError(
            "ROPSFEED_BASE_URL is not set: the unsubscribe and confirmation links in emails need the public URL"
            " of `ropsfeed serve`"
        )
    configured = os.environ.get("ROPSFEED_BASE_URL", "").strip()
    home = parse_base_url(configured) if configured else base_url()
    return MailSettings(sender=parse_sender(sender), base_url=home, secret_key=secret, smtp=smtp)
