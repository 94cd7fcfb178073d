"""One SMTP connection for a whole run (plain, STARTTLS or SMTPS, with optional login), and the
sorting of failures into what is the recipient's fault and what is the server's.

- `Refused`: the server refused this recipient or message for good (5xx): a bounce, recorded on
  the subscriber. `RecipientRefused` says it was the recipient's address (RCPT TO) and
  `SenderRefused` that it came at MAIL FROM, before any recipient was named (our sender address,
  or the size declared): no fault of the recipient's. The subscribe form tells them apart.
- `Deferred`: a temporary refusal (4xx): nothing recorded as sent, the next run tries again.
- `ConnectionLost`: the server went away or never answered: the run stops, the rest waits.
"""

from __future__ import annotations

import base64
import logging
import smtplib
import ssl
from copy import deepcopy
from email.message import EmailMessage
from types import TracebackType

from aggregator.mail.settings import SmtpSettings

log = logging.getLogger(__name__)


class SendError(Exception):
    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"{code} {reason}" if code else reason)
        self.code = code
        self.reason = reason


class Refused(SendError):
    """Permanent (5xx): this address or message will not be accepted."""


class RecipientRefused(Refused):
    """Permanent, at RCPT TO: the server will not deliver to this address."""


class SenderRefused(Refused):
    """Permanent, at MAIL FROM, before any recipient is named: the server will not take mail from
    our sender address (or, for a server that announces SIZE, a message of that size)."""


class Deferred(SendError):
    """Temporary (4xx): try again in a later run."""


class ConnectionLost(SendError):
    """No conversation with the server any more."""


def _decode(reason: bytes | str) -> str:
    return reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)


def _classified(code: int, reason: bytes | str, permanent: type[Refused] = Refused) -> SendError:
    return (permanent if 500 <= code < 600 else Deferred)(code, _decode(reason))


def _login(client: smtplib.SMTP, username: str, password: str) -> None:
    """smtplib encodes credentials as ASCII; a password like `zażółć` goes as SASL PLAIN in UTF-8
    (RFC 4616), which servers accept."""
    if (username + password).isascii():
        client.login(username, password)
        return
    client.ehlo_or_helo_if_needed()
    token = base64.b64encode(f"\0{username}\0{password}".encode()).decode("ascii")
    code, reply = client.docmd("AUTH", f"PLAIN {token}")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, reply)


def _for_server(message: EmailMessage, eight_bit: bool) -> tuple[EmailMessage, list[str]]:
    """The message and the MAIL FROM parameters for a server (RFC 6152): 8-bit parts (UTF-8 text)
    go declared with BODY=8BITMIME to a server that offers 8BITMIME (smtplib declares nothing);
    to one that does not, a copy with those parts quoted-printable, which any server carries."""
    if not any(part.get("Content-Transfer-Encoding") == "8bit" for part in message.walk()):
        return message, []
    if eight_bit:
        return message, ["BODY=8BITMIME"]
    copy = deepcopy(message)
    for part in copy.walk():
        if part.get("Content-Transfer-Encoding") == "8bit" and part.get_content_maintype() == "text":
            part.set_content(part.get_content(), subtype=part.get_content_subtype(),
                             charset=part.get_content_charset() or "utf-8", cte="quoted-printable")  # fmt: skip
    return copy, []


class SmtpSender:
    """Opened lazily on the first message, reconnected once if the server dropped the line."""

    def __init__(self, settings: SmtpSettings, ssl_context: ssl.SSLContext | None = None) -> None:
        self.settings = settings
        self.ssl_context = ssl_context or ssl.create_default_context()
        self._client: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpSender:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:  # fmt: skip
        self.close()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        log.info("connecting to %s", s.describe())
        try:
            if s.security == "ssl":
                client: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=self.ssl_context)
            else:
                client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            client.ehlo()
            if s.security == "starttls":
                client.starttls(context=self.ssl_context)
                client.ehlo()
            if s.username:
                _login(client, s.username, s.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise ConnectionLost(exc.smtp_code, f"login as {s.username} refused: {_decode(exc.smtp_error)}") from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise ConnectionLost(None, f"cannot talk to {s.describe()}: {type(exc).__name__}: {exc}") from exc
        return client

    def send(self, message: EmailMessage, sender: str, recipient: str) -> None:
        """Returns only when the server accepted the message for the recipient."""
        for attempt in (1, 2):
            if self._client is None:
                self._client = self._connect()
            try:
                outgoing, options = _for_server(message, self._client.has_extn("8bitmime"))
                refused = self._client.send_message(outgoing, from_addr=sender, to_addrs=[recipient],
                                                    mail_options=options)  # fmt: skip
            except smtplib.SMTPRecipientsRefused as exc:
                code, reason = exc.recipients.get(recipient, (550, b"recipient refused"))
                raise _classified(code, reason, RecipientRefused) from exc
            except smtplib.SMTPSenderRefused as exc:
                raise _classified(exc.smtp_code, exc.smtp_error, SenderRefused) from exc
            except smtplib.SMTPDataError as exc:
                raise _classified(exc.smtp_code, exc.smtp_error) from exc
            except (smtplib.SMTPServerDisconnected, OSError) as exc:
                self._client = None
                if attempt == 2:
                    raise ConnectionLost(None, f"{self.settings.describe()} dropped the connection: {exc}") from exc
                continue
            except smtplib.SMTPResponseException as exc:
                raise _classified(exc.smtp_code, exc.smtp_error) from exc
            if recipient in refused:
                code, reason = refused[recipient]
                raise _classified(code, reason, RecipientRefused)
            return

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.quit()
            except (OSError, smtplib.SMTPException):
                self._client.close()
            self._client = None
