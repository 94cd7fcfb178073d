"""Subscribing to the email digest from the web page, double opt-in, and unsubscribing.

- `GET /subscribe` shows the form; `POST /subscribe` validates it and mails a confirmation link
  (signed, expiring, carrying the chosen settings), then redirects (303, Post/Redirect/Get) to
  `GET /subscribe/sent`, which says the mail went out: reloading that page posts nothing again,
  so it neither mails twice nor runs into the rate limits. The address travels to that page only
  inside a signed, hour-long token (`?to=`), so nobody can make the site say it mailed an address
  of their choosing. The answer is the same whether the address is new or known, so the form
  tells nobody who subscribes. An invalid form is answered at once (400, the values kept). At most
  ADDRESS_LIMIT confirmations go to one address, and CLIENT_LIMIT are asked from one client, an
  hour (429 beyond).
- `GET /confirm/<token>` shows what will be confirmed; its button (`POST`) confirms. A link
  scanner that fetches every URL in a mailbox therefore cannot subscribe anyone.
- `GET /unsubscribe/<token>` asks for confirmation; `POST /unsubscribe/<token>` unsubscribes at
  once: it is the RFC 8058 one-click target that mail providers call with
  `List-Unsubscribe=One-Click`, so it needs nothing but the signed token.
A tampered, foreign or expired token gets a 400 page and changes nothing.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import re
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.types import Message

from aggregator.mail.message import compose, confirm_url
from aggregator.mail.render import frequency_label, render_confirmation
from aggregator.mail.settings import MailConfigError, MailSettings, mail_settings, secret_key
from aggregator.mail.smtp import Refused, SenderRefused, SendError, SmtpSender
from aggregator.mail.subscribers import (
    WEEKDAYS_PL,
    DigestSettings,
    SubscriberError,
    normalise_email,
    subscribe,
    transport_address,
    unsubscribe,
)
from aggregator.mail.tokens import (
    InvalidToken,
    confirm_token,
    read_confirm_token,
    read_sent_token,
    read_unsubscribe_token,
    sent_token,
)
from aggregator.urls import site_of
from aggregator.web.filters import has_control_characters
from aggregator.web.queries import filter_choices
from aggregator.web.security import RateLimit
from aggregator.web.templating import templates
from db.engine import session_scope
from db.models import Entity, Source, Subscriber
from scrapers.registry import VOIVODESHIPS

log = logging.getLogger(__name__)
MAX_FORM_BYTES = 20_000
_LIST_SPLIT = re.compile(r"[,;\n]+")
# Confirmation mails (limit, seconds): anyone can post the form, which must not become a way to mail
# someone over and over, nor many people from one machine. Three an address an hour let a person
# correct their choice twice; sixty a client let a training room subscribe together.
ADDRESS_LIMIT = (3, 3600.0)
CLIENT_LIMIT = (60, 3600.0)

ERRORS = {
    "email": "Podaj poprawny adres e-mail.",
    "frequency": "Wybierz, jak często wysyłać przegląd.",
    "weekday": "Wybierz dzień tygodnia.",
    "filters": "Wybrane filtry są nieprawidłowe.",
    "address_limit": "Na ten adres wysłaliśmy już kilka wiadomości z linkiem potwierdzającym. Sprawdź skrzynkę "
                     "(także folder ze spamem) albo spróbuj ponownie za godzinę.",
    "client_limit": "Wysłano stąd w ostatniej godzinie zbyt wiele zapisów. Spróbuj ponownie za godzinę.",
    # the confirmation mail not sent, by the answer of the SMTP server (see _send_failed)
    "refused": "Serwer poczty odrzucił wiadomość na ten adres. Sprawdź, czy adres jest wpisany poprawnie.",
    "deferred": "Nie udało się wysłać wiadomości potwierdzającej. Spróbuj ponownie za kilka minut.",
    "unavailable": "Zapisy są chwilowo niedostępne. Spróbuj ponownie później.",
}  # fmt: skip


def _loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def _settings(request: Request) -> MailSettings:
    try:
        settings = mail_settings()
        if settings.smtp is None:
            raise MailConfigError("ROPSFEED_SMTP_URL is not set: confirmation emails cannot be sent")
        if _loopback(urlsplit(settings.base_url).hostname) and not _loopback(request.url.hostname):
            # `serve` names itself http://127.0.0.1:PORT/ when ROPSFEED_BASE_URL is not set: fine on
            # the machine itself, a dead link in the mailbox of anyone who reached it otherwise
            raise MailConfigError(
                f"ROPSFEED_BASE_URL is not the server's public URL: the links mailed would point to"
                f" {settings.base_url}, and this visitor came to {request.url.hostname}"
            )
    except MailConfigError as exc:
        log.error("subscriptions are unavailable: %s", exc)
        raise HTTPException(503, "Zapisy są chwilowo niedostępne.") from exc
    return settings


def _secret() -> str:
    try:
        return secret_key()
    except MailConfigError as exc:
        log.error("subscription links cannot be checked: %s", exc)
        raise HTTPException(503, "Zapisy są chwilowo niedostępne.") from exc


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in _LIST_SPLIT.split(value) if part.strip())


def _form_page(request: Request, values: dict[str, Any], error: str | None = None, status: int = 200) -> Response:
    with session_scope(request.app.state.database_url) as session:
        choices = filter_choices(session)
    return templates.TemplateResponse(
        request,
        "subscribe.html",
        {"choices": choices, "values": values, "error": error, "weekdays": WEEKDAYS_PL, "voivodeships": VOIVODESHIPS},
        status_code=status,
    )


def _confirmation_limits(request: Request) -> tuple[RateLimit, RateLimit]:
    """(per address, per client) for this app, made at its first subscription."""
    state = request.app.state
    if not hasattr(state, "confirmation_limits"):
        state.confirmation_limits = (RateLimit(*ADDRESS_LIMIT), RateLimit(*CLIENT_LIMIT))
    return state.confirmation_limits  # type: ignore[no-any-return]


def _limited(request: Request, values: dict[str, Any], error: str) -> Response:
    response = _form_page(request, values, ERRORS[error], 429)
    response.headers["Retry-After"] = str(int(ADDRESS_LIMIT[1]))
    return response


def subscribe_form(request: Request) -> Response:
    return _form_page(request, {"frequency": "daily", "weekday": 0, "voivodeships": [], "sources": [],
                                "entities": [], "keywords": ""})  # fmt: skip


async def _read_form(request: Request) -> FormData:
    """The posted form, at most MAX_FORM_BYTES of it: counted on the bytes as they arrive, since a
    chunked body has no Content-Length to check (Starlette alone would take up to 1,000 fields of
    1 MB each). No files: the form has none. Refusals in Polish, not Starlette's English."""
    if int(request.headers.get("content-length") or 0) > MAX_FORM_BYTES:
        raise HTTPException(400, "Formularz jest za duży.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise HTTPException(400, "Formularz jest za duży.")

    async def replay() -> Message:
        return {"type": "http.request", "body": bytes(body), "more_body": False}

    try:
        return await Request(request.scope, replay).form(max_files=0)
    except HTTPException as exc:  # a file, a malformed multipart body
        raise HTTPException(400, "Nieprawidłowy formularz.") from exc


async def subscribe_submit(request: Request) -> Response:
    form = await _read_form(request)
    values: dict[str, Any] = {
        "email": str(form.get("email") or "").strip(),
        "frequency": str(form.get("frequency") or "daily"),
        "weekday": str(form.get("weekday") or "0"),
        "voivodeships": [str(v) for v in form.getlist("voivodeship")],
        "sources": [str(v) for v in form.getlist("source")],
        "entities": [str(v) for v in form.getlist("entity")],
        "keywords": str(form.get("keywords") or ""),
    }
    try:
        email = normalise_email(values["email"])
    except SubscriberError:
        return _form_page(request, values, ERRORS["email"], 400)
    # ASCII digits: str.isdigit() takes "²", and int() then raised (a 500)
    if not (values["weekday"].isascii() and values["weekday"].isdigit()) or not 0 <= int(values["weekday"]) <= 6:
        return _form_page(request, values, ERRORS["weekday"], 400)
    chosen = [values["keywords"], *values["voivodeships"], *values["sources"], *values["entities"]]
    if any(has_control_characters(value) for value in chosen):  # a NUL: PostgreSQL refused the query, a 500
        values["keywords"] = "".join(char for char in values["keywords"] if not has_control_characters(char))
        return _form_page(request, values, ERRORS["filters"], 400)
    try:
        settings = DigestSettings(
            frequency=values["frequency"],
            weekday=int(values["weekday"]) if values["frequency"] == "weekly" else None,
            voivodeships=tuple(values["voivodeships"]),
            sources=tuple(values["sources"]),
            entities=tuple(values["entities"]),
            keywords=_split(values["keywords"]),
        )
    except SubscriberError as exc:
        key = "frequency" if "frequency" in str(exc) else "filters"
        return _form_page(request, values, ERRORS[key], 400)
    mail = _settings(request)
    by_address, by_client = _confirmation_limits(request)
    if not by_client.allow(request.client.host if request.client else ""):
        log.warning("subscribe form: too many confirmations asked from %s", request.client)
        return _limited(request, values, "client_limit")
    if not by_address.allow(email):
        return _limited(request, values, "address_limit")
    with session_scope(request.app.state.database_url, write=True) as session:
        subscribe(session, email, settings, confirmed=False)
        named = _named(session, settings)
    token = confirm_token(mail.secret_key, email, settings.as_json())
    rendered = render_confirmation(email, confirm_url(mail, token), settings.frequency, settings.weekday, named)
    message = compose(mail, email, rendered)
    try:
        with SmtpSender(mail.smtp) as sender:  # type: ignore[arg-type]
            sender.send(message, mail.sender.addr_spec, transport_address(email))
    except SendError as exc:
        # nothing reached the address: the visitor told to try again must not meet a 429 that says
        # several mails were sent to it (the client's count stands: it still asked)
        by_address.refund(email)
        return _send_failed(request, values, email, exc)
    sent = request.url_for("subscribe_sent").include_query_params(to=sent_token(mail.secret_key, email))
    return RedirectResponse(f"{sent.path}?{sent.query}", status_code=303)


def _send_failed(request: Request, values: dict[str, Any], email: str, exc: SendError) -> Response:
    """The form again, with what the SMTP server's answer means for the visitor. A permanent refusal
    (5xx) of the message or of the address will be the same in a few minutes: the visitor is asked to
    check the address (400). A refusal of our own sender address is the operator's to fix (logged as
    an error; 503). A temporary refusal (4xx) or a server that cannot be reached may pass (503)."""
    if isinstance(exc, SenderRefused):
        log.error("confirmation for %s not sent: the SMTP server refuses our sender address: %s", email, exc)
        return _form_page(request, values, ERRORS["unavailable"], 503)
    log.warning("confirmation for %s not sent: %s", email, exc)
    if isinstance(exc, Refused):
        return _form_page(request, values, ERRORS["refused"], 400)
    return _form_page(request, values, ERRORS["deferred"], 503)


def subscribe_sent(request: Request) -> Response:
    """Where a sent form lands (303): names the address while the token lasts (SENT_MAX_AGE), and
    still says the mail went out, without naming it, when the token is missing, stale or forged
    (a bookmark, a reload the next day): nothing here is worth an error page."""
    email: str | None = None
    with contextlib.suppress(InvalidToken, MailConfigError):
        email = read_sent_token(secret_key(), request.query_params.get("to", ""))
    response = templates.TemplateResponse(request, "subscription.html", {"state": "sent", "email": email})
    # the URL holds the address (signed, not encrypted): kept out of caches and of any Referer
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _confirm_data(request: Request) -> tuple[str, DigestSettings]:
    try:
        email, data = read_confirm_token(_secret(), request.path_params["token"])
        return email, DigestSettings.from_json(data)
    except (InvalidToken, SubscriberError) as exc:
        raise HTTPException(400, "Link potwierdzający jest nieprawidłowy albo wygasł. Zapisz się ponownie.") from exc


def _named(session: Session, settings: DigestSettings) -> dict[str, list[str]]:
    """The chosen sources and institutions named as the form showed them ("Regionalny Ośrodek
    Polityki Społecznej w Białymstoku (rops-bialystok.pl)"), not by the ids it posted; an id the
    database no longer knows is shown as it is."""
    sources = {
        s.id: f"{s.institution} ({site_of(s.base_url)})"
        for s in session.scalars(select(Source).where(Source.id.in_(settings.sources)))
    }
    entities = {
        e.key: f"{e.canonical} ({e.acronym})" if e.acronym else e.canonical
        for e in session.scalars(select(Entity).where(Entity.key.in_(settings.entities)))
    }
    return {
        "voivodeships": list(settings.voivodeships),
        "sources": [sources.get(s, s) for s in settings.sources],
        "entities": [entities.get(e, e) for e in settings.entities],
        "keywords": list(settings.keywords),
    }


def confirm_page(request: Request) -> Response:
    email, settings = _confirm_data(request)
    with session_scope(request.app.state.database_url) as session:
        named = _named(session, settings)
    return templates.TemplateResponse(
        request, "subscription.html",
        {"state": "confirm", "email": email, "label": frequency_label(settings.frequency, settings.weekday),
         "named": named},
    )  # fmt: skip


def confirm_submit(request: Request) -> Response:
    email, settings = _confirm_data(request)
    with session_scope(request.app.state.database_url, write=True) as session:
        subscribe(session, email, settings, confirmed=True)
    return templates.TemplateResponse(
        request, "subscription.html",
        {"state": "confirmed", "email": email, "label": frequency_label(settings.frequency, settings.weekday)},
    )  # fmt: skip


def _unsubscribe_data(request: Request) -> tuple[int, str]:
    try:
        return read_unsubscribe_token(_secret(), request.path_params["token"])
    except InvalidToken as exc:
        raise HTTPException(400, "Link do wypisania się jest nieprawidłowy.") from exc


def unsubscribe_page(request: Request) -> Response:
    subscriber_id, email = _unsubscribe_data(request)
    with session_scope(request.app.state.database_url) as session:
        row = session.get(Subscriber, subscriber_id)
        active = row is not None and row.email == email and row.unsubscribed_at is None
    return templates.TemplateResponse(
        request, "subscription.html", {"state": "unsubscribe" if active else "unsubscribed", "email": email}
    )


def unsubscribe_submit(request: Request) -> Response:
    """One click: no page in between, no cookie, no CSRF token — the signed token is the proof."""
    subscriber_id, email = _unsubscribe_data(request)
    with session_scope(request.app.state.database_url, write=True) as session:
        unsubscribe(session, subscriber_id, email)
    return templates.TemplateResponse(request, "subscription.html", {"state": "unsubscribed", "email": email})


ROUTES = [
    Route("/subscribe", subscribe_form, methods=["GET"], name="subscribe"),
    Route("/subscribe", subscribe_submit, methods=["POST"], name="subscribe_submit"),
    Route("/subscribe/sent", subscribe_sent, methods=["GET"], name="subscribe_sent"),
    Route("/confirm/{token}", confirm_page, methods=["GET"], name="confirm"),
    Route("/confirm/{token}", confirm_submit, methods=["POST"], name="confirm_submit"),
    Route("/unsubscribe/{token}", unsubscribe_page, methods=["GET"], name="unsubscribe"),
    Route("/unsubscribe/{token}", unsubscribe_submit, methods=["POST"], name="unsubscribe_submit"),
]
