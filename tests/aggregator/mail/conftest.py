"""Fixtures for the mail tests: a real SMTP server (aiosmtpd on a free loopback port) and a small
database of stories built through the ORM, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import email
import email.policy
import hashlib
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from aggregator.mail.settings import MailSettings, SmtpSettings, parse_sender
from db.models import Announcement, Attachment, Entity, EventDate, Mention, Story
from db.search import index_terms
from db.store import fold_for_search

NOW = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)  # a Monday, 07:00 in Warsaw
SECRET = "test-secret-key"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Recorder:
    """An aiosmtpd handler that keeps what it accepts and refuses on demand."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.refuse_after: int | None = None  # accept this many messages, then answer `refusal`
        self.refusal = "451 4.3.0 Try again later"
        self.reject: dict[str, str] = {}  # recipient -> RCPT answer
        self.reject_sender: str | None = None  # MAIL FROM answer, instead of accepting the sender
        self.delay = 0.0

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if self.reject_sender:
            return self.reject_sender
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if address in self.reject:
            return self.reject[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.refuse_after is not None and len(self.messages) >= self.refuse_after:
            return self.refusal
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"

    def parsed(self) -> list[EmailMessage]:
        return [email.message_from_bytes(raw, policy=email.policy.default) for _, _, raw in self.messages]  # type: ignore[misc]

    def recipients(self) -> list[str]:
        return [to for _, tos, _ in self.messages for to in tos]


@dataclass
class SmtpServer:
    handler: Recorder
    port: int
    url: str = field(init=False)

    def __post_init__(self) -> None:
        self.url = f"smtp://127.0.0.1:{self.port}"


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    handler = Recorder()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer(handler, port)
    finally:
        controller.stop()


@pytest.fixture
def mail_settings(smtp_server: SmtpServer) -> MailSettings:
    return MailSettings(
        sender=parse_sender("ropsfeed <digest@ropsfeed.example.org>"),
        base_url="https://ropsfeed.example.org/",
        secret_key=SECRET,
        smtp=SmtpSettings.from_url(smtp_server.url),
    )


def add_story(session: Any, *, source_id: str, title: str, lead: str = "",
              published: datetime | None = NOW - timedelta(hours=8), seen: datetime = NOW - timedelta(hours=6),
              attachments: int = 0,
              dates: tuple[tuple[date, date | None, str], ...] = (), also: tuple[str, ...] = (),
              body: str = "") -> str:  # fmt: skip
    """A story with its representative on `source_id` and one cross-post per source in `also`."""
    key = hashlib.sha1(f"{source_id}{title}".encode()).hexdigest()[:16]
    members = []
    for index, source in enumerate((source_id, *also)):
        url = f"https://{source}.example.pl/{key}/{index}"
        text = body or lead or title
        row = Announcement(
            source_id=source, url=url, title=title, lead=lead, body_text=text, body_html=f"<p>{text}</p>",
            content_hash=hashlib.sha256(url.encode()).hexdigest(), search_text=fold_for_search(title, lead, text),
            search_terms=index_terms(title, lead, text),
            published_at=published, first_seen_at=seen + timedelta(minutes=index), last_seen_at=seen,
            updated_at=seen, story_key=key,
        )  # fmt: skip
        session.add(row)
        members.append(row)
    session.flush()
    representative = members[0]
    for n in range(attachments):
        session.add(Attachment(announcement_id=representative.id, name=f"Załącznik {n + 1}",
                               url=f"{representative.url}/file{n}.pdf", file_type="pdf"))  # fmt: skip
    for n, (start, end, kind) in enumerate(dates):
        session.add(EventDate(announcement_id=representative.id, field="body", match="…", context="…", char_start=n,
                              start_date=start, end_date=end, granularity="day", kind=kind))  # fmt: skip
    session.add(Story(key=key, representative_id=representative.id, title=title, size=len(members),
                      first_published_at=published))  # fmt: skip
    return key


def mention(session: Any, story_key: str, entity_key: str, canonical: str, acronym: str | None = None) -> None:
    entity = session.query(Entity).filter_by(key=entity_key).one_or_none()
    if entity is None:
        entity = Entity(key=entity_key, canonical=canonical, acronym=acronym, kind="foundation", in_gazetteer=True)
        session.add(entity)
        session.flush()
    announcement = session.query(Announcement).filter_by(story_key=story_key).order_by(Announcement.id).first()
    session.add(Mention(announcement_id=announcement.id, entity_id=entity.id, field="body", surface=canonical,
                        char_start=0, char_end=len(canonical)))  # fmt: skip


def wait_for(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)
