"""MIME messages: multipart/alternative (text, then HTML) with the headers mail providers expect
from a list: Message-ID, Date, List-Id, List-Unsubscribe (URL + mailto) and
List-Unsubscribe-Post for RFC 8058 one-click unsubscribe.

Header values never hold scraped text (the subject is built from a count and dates); the SMTP
policy refuses any header value with CR or LF, so an injected line break fails loudly instead of
adding a header.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from urllib.parse import quote

from aggregator.mail.render import Rendered
from aggregator.mail.settings import MailSettings
from aggregator.mail.subscribers import transport_address

# URLs with long tokens must not be folded or RFC 2047-encoded; 998 is RFC 5322's line limit.
POLICY = SMTP.clone(max_line_length=998)


def unsubscribe_url(settings: MailSettings, token: str) -> str:
    return f"{settings.base_url}unsubscribe/{token}"


def confirm_url(settings: MailSettings, token: str) -> str:
    return f"{settings.base_url}confirm/{token}"


def compose(settings: MailSettings, to: str, rendered: Rendered, *, unsubscribe_token: str | None = None,
            now: datetime | None = None) -> EmailMessage:  # fmt: skip
    message = EmailMessage(policy=POLICY)
    message["Subject"] = rendered.subject
    message["From"] = settings.sender
    message["To"] = Address(addr_spec=transport_address(to))
    message["Date"] = format_datetime(now or datetime.now(UTC))
    message["Message-ID"] = make_msgid(idstring="ropsfeed", domain=settings.sender.domain)
    message["Auto-Submitted"] = "auto-generated"
    if unsubscribe_token is not None:
        mailto = f"mailto:{settings.sender.addr_spec}?subject={quote('unsubscribe ' + unsubscribe_token)}"
        message["List-Id"] = settings.list_id
        message["List-Unsubscribe"] = f"<{unsubscribe_url(settings, unsubscribe_token)}>, <{mailto}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message["Precedence"] = "bulk"
    message.set_content(rendered.text, subtype="plain", charset="utf-8")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8")
    return message
