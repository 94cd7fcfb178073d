"""Signed tokens for the links in emails (itsdangerous, keyed by `ROPSFEED_SECRET_KEY`).

A confirmation link expires (a forgotten subscribe form must not be confirmable for ever) and
carries the settings the form asked for, so an unconfirmed request never changes an existing
subscription. An unsubscribe link never expires: it sits in old emails and must keep working.
The "confirmation sent" page's token only lets that page name the address the form was
posted with, and nobody craft a page saying that mail went to an address of their choosing.
Each kind has its own salt, so one kind of token is never accepted as the other; a tampered or
foreign token raises `InvalidToken`.
"""

from __future__ import annotations

from typing import Any

from itsdangerous import BadData, URLSafeSerializer, URLSafeTimedSerializer

CONFIRM_MAX_AGE = 3 * 24 * 3600  # seconds
# The "confirmation sent" page after the form's redirect names the address for as long as it takes
# to look at the mailbox; later the page still says the mail went out, without naming it.
SENT_MAX_AGE = 3600  # seconds
_CONFIRM_SALT = "ropsfeed.confirm"
_UNSUBSCRIBE_SALT = "ropsfeed.unsubscribe"
_SENT_SALT = "ropsfeed.sent"


class InvalidToken(ValueError):
    """Tampered, expired, of another kind, or signed with another key."""


def confirm_token(secret: str, email: str, settings: dict[str, Any]) -> str:
    return URLSafeTimedSerializer(secret, salt=_CONFIRM_SALT).dumps({"email": email, "settings": settings})


def read_confirm_token(secret: str, token: str, max_age: int = CONFIRM_MAX_AGE) -> tuple[str, dict[str, Any]]:
    try:
        data = URLSafeTimedSerializer(secret, salt=_CONFIRM_SALT).loads(token, max_age=max_age)
        return str(data["email"]), dict(data["settings"])
    except (BadData, KeyError, TypeError) as exc:
        raise InvalidToken("the confirmation link is invalid or has expired") from exc


def unsubscribe_token(secret: str, subscriber_id: int, email: str) -> str:
    return URLSafeSerializer(secret, salt=_UNSUBSCRIBE_SALT).dumps([subscriber_id, email])


def read_unsubscribe_token(secret: str, token: str) -> tuple[int, str]:
    try:
        subscriber_id, email = URLSafeSerializer(secret, salt=_UNSUBSCRIBE_SALT).loads(token)
        return int(subscriber_id), str(email)
    except (BadData, ValueError, TypeError) as exc:
        raise InvalidToken("the unsubscribe link is invalid") from exc


def sent_token(secret: str, email: str) -> str:
    return URLSafeTimedSerializer(secret, salt=_SENT_SALT).dumps(email)


def read_sent_token(secret: str, token: str, max_age: int = SENT_MAX_AGE) -> str:
    try:
        return str(URLSafeTimedSerializer(secret, salt=_SENT_SALT).loads(token, max_age=max_age))
    except BadData as exc:
        raise InvalidToken("the confirmation-sent link is invalid or has expired") from exc
