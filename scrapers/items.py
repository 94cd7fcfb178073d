"""What spiders hand to the pipeline."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass
class RawResponse:
    """A fetched body to archive; `kind` says how to reparse it (article | api | feed | listing)."""

    source_id: str
    url: str
    kind: str
    status: int
    headers: dict[str, str]
    body: bytes
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


@dataclass
class AttachmentItem:
    name: str
    url: str
    file_type: str | None = None
    size: str | None = None


@dataclass
class AnnouncementItem:
    source_id: str
    url: str
    title: str
    body_html: str
    body_text: str
    lead: str | None = None
    categories: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    published_from: str | None = None
    published_granularity: str | None = None  # day | minute | second: a day-only date is not midnight
    modified_at: datetime | None = None
    modified_from: str | None = None
    external_id: str | None = None
    language: str = "pl"
    attachments: list[AttachmentItem] = field(default_factory=list)
    raw: RawResponse | None = None
    raw_page_id: int | None = None  # an already archived raw page (reparse), instead of `raw`

    @property
    def content_hash(self) -> str:
        """What counts as "the text changed": title and body text, whitespace-normalised."""
        normalised = " ".join(self.title.split()) + "\n" + " ".join(self.body_text.split())
        return hashlib.sha256(normalised.encode()).hexdigest()


@dataclass
class RawPageItem:
    """A response archived without an announcement (e.g. an article whose extraction failed)."""

    raw: RawResponse
