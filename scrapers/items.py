"""What spiders hand to the pipeline."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

from aggregator.urls import url_key

# gzip level of the raw page archive. Measured on the 5,000 pages of benchmarks/bench_crawl.py (19 MB of
# HTML and JSON): level 6 took 0.31 s and gave 6.20 MB, level 1 takes 0.19 s for 6.78 MB (+9%). The
# archive is written on every crawl and read only by `reparse`, so the crawl's CPU wins.
RAW_GZIP_LEVEL = 1


def gzipped(body: bytes) -> bytes:
    """A body as the raw page archive stores it. The gzip header carries no time (mtime 0): the
    same body gives the same bytes in every database, so archives of two crawls or a backup and
    its source compare equal."""
    return gzip.compress(body, compresslevel=RAW_GZIP_LEVEL, mtime=0)


def archive_form(body: bytes) -> tuple[str, bytes]:
    """A body's sha256 (hex) and `gzipped` form. The worker that reads a page makes these
    (`RawResponse.archived`): in the crawl process, which also runs the crawl itself, compressing
    5,000 pages took 0.17 s."""
    return hashlib.sha256(body).hexdigest(), gzipped(body)


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
    archived: tuple[str, bytes] | None = None  # `archive_form(body)`, when a worker made it already
    # an article's: the text of what led to it (listing link, feed item title), which the parser
    # weighed its title against; kept so that `reparse` reads the page as the crawl did
    link_text: str | None = None

    @cached_property
    def sha256(self) -> str:
        """Hex digest of the body (asked for several times per stored page: computed once)."""
        return self.archived[0] if self.archived is not None else hashlib.sha256(self.body).hexdigest()

    def body_gzip(self) -> bytes:
        """The body as the archive stores it (`gzipped`; made by the worker when it read the page)."""
        return self.archived[1] if self.archived is not None else gzipped(self.body)


@dataclass
class AttachmentItem:
    name: str
    url: str
    file_type: str | None = None
    size: str | None = None


@dataclass
class ImageItem:
    """A picture of the announcement (scrapers.extraction.images): its file, alt text and caption."""

    url: str
    alt: str | None = None
    caption: str | None = None


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
    images: list[ImageItem] = field(default_factory=list)
    raw: RawResponse | None = None
    raw_page_id: int | None = None  # an already archived raw page (reparse), instead of `raw`
    # identity keys (aggregator/urls.py) of the URLs the page was met under, the stored URL's first
    url_keys: tuple[str, ...] = ()
    # whether the site itself names `url` as the page's address (REST `link`, rel=canonical): an
    # existing row then takes it (a corrected slug); otherwise a row keeps the URL it was stored with
    url_declared: bool = False
    # the page failed in an earlier crawl (db.failed_pages) under this key: stored, it leaves that list
    failed_key: str | None = None

    @property
    def key(self) -> str:
        """The identity key the row is stored under."""
        return self.url_keys[0] if self.url_keys else url_key(self.url)

    @property
    def keys(self) -> tuple[str, ...]:
        return self.url_keys or (url_key(self.url),)

    @property
    def content_hash(self) -> str:
        """What counts as "the text changed": title and body text, whitespace-normalised."""
        normalised = " ".join(self.title.split()) + "\n" + " ".join(self.body_text.split())
        return hashlib.sha256(normalised.encode()).hexdigest()


@dataclass
class TombstoneItem:
    """A known page the site no longer has (HTTP 404/410 on re-crawl): a tombstone, not a delete."""

    source_id: str
    url: str
    keys: tuple[str, ...]  # URL keys and CMS ids (`wp:123`) it is known by
    reason: str


@dataclass
class RawPageItem:
    """A response archived without an announcement (e.g. an article whose extraction failed)."""

    raw: RawResponse
