"""The ropsfeed schema (first cut): sources, crawl runs, the raw page archive, announcements with
their previous versions, and attachments.

An *announcement* is one page on one site, unique on (source, identity key of its URL). Raw pages are kept so
that announcements can be rebuilt without the network when a parser changes (DESIGN.md §1).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    and_,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from aggregator.urls import url_key
from db.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def _key_of_url(context: Any) -> str:
    """A row written without a key (tests, hand-made rows) gets its URL's plain key."""
    return url_key(context.get_current_parameters()["url"])


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


class Source(Base):
    """A crawled site, mirrored from the registry (scrapers/sources.toml) at every crawl."""

    __tablename__ = "sources"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    institution: Mapped[str] = mapped_column(String(300))
    voivodeship: Mapped[str] = mapped_column(String(40), index=True)
    platform: Mapped[str] = mapped_column(String(40))
    base_url: Mapped[str] = mapped_column(String(500))
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    entity_key: Mapped[str | None] = mapped_column(String(200), index=True)  # the publishing institution
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# Crawl runs that say nothing of the site: skipped (another run held the source) and stopped (a
# signal ended the crawl, nothing else went wrong)
NOT_RUNS_OF_THE_SITE = ("skipped", "stopped")


class CrawlRun(Base):
    """One source crawled by one invocation; `run_id` groups the sources of one invocation."""

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(String(36), index=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="running")  # running | ok | failed | skipped
    mirror: Mapped[str | None] = mapped_column(String(500))
    full: Mapped[bool] = mapped_column(Boolean, default=False)
    strategy: Mapped[str | None] = mapped_column(String(40))
    requests: Mapped[int] = mapped_column(Integer, default=0)
    responses: Mapped[dict[str, Any]] = mapped_column(default=dict)
    pages_fetched: Mapped[int] = mapped_column(Integer, default=0)
    items_new: Mapped[int] = mapped_column(Integer, default=0)
    items_updated: Mapped[int] = mapped_column(Integer, default=0)
    items_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    items_deleted: Mapped[int] = mapped_column(Integer, default=0)  # tombstoned by this run
    items_restored: Mapped[int] = mapped_column(Integer, default=0)  # tombstones whose page came back
    errors: Mapped[list[Any]] = mapped_column(default=list)
    alarms: Mapped[list[Any]] = mapped_column(default=list)
    alerted_at: Mapped[datetime | None]  # the operator was mailed about the failure streak this run extended

    @classmethod
    def crawled(cls) -> ColumnElement[bool]:
        """The runs that say how the source is doing (`ropsfeed status`, the alert mail): all but
        the skipped ones (another run held it) and the stopped ones (a signal cut them short, which
        is neither the site's success nor its failure)."""
        return cls.status.not_in(NOT_RUNS_OF_THE_SITE)

    @classmethod
    def met_the_site(cls) -> ColumnElement[bool]:
        """The runs that met the site's announcements: crawled (`crawled`) and found one at least.
        The first of them ends the site's backlog: what it met was years of it, and an undated page
        first met after it is news. Not a stopped first crawl (the next one meets the rest of the
        backlog), nor one that met nothing (the site down that night: the next night's crawl met
        all of it, and every undated page of the site posed as that day's news)."""
        met = cls.items_new + cls.items_updated + cls.items_unchanged + cls.items_restored
        return and_(cls.crawled(), met > 0)


class RunLock(Base):
    """A source being crawled right now: a second `ropsfeed run` skips it instead of crawling it twice.

    Locks expire so a killed run (power cut, OOM) never blocks a source for good; a live run renews
    its locks while it crawls (db/locks.py).
    """

    __tablename__ = "run_locks"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)  # a source id, or "stories"
    owner: Mapped[str] = mapped_column(String(36))  # the run id holding it
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class FailedPage(Base):
    """A page of a source that its last crawls could not store (db/failed_pages.py).

    Incremental crawls fetch listings, not known articles, and stop paging at a page with nothing
    new: without this row, an article that failed once and sits past the first listing page would
    wait for `--full`. Its source's next crawl asks for it again (`kind` article) or walks every
    listing page (`kind` listing); a page stored, or deleted by the site, leaves the table. A crawl
    that fetched pages and did not store them (killed, or its database writes failed) leaves one
    row of `kind` crawl (`url` the site, `url_key` "(crawl)"): the next crawls walk every listing page.
    """

    __tablename__ = "failed_pages"
    __table_args__ = (UniqueConstraint("source_id", "url_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"))
    url: Mapped[str] = mapped_column(String(2000))  # as the crawl asked for it (before any redirect)
    url_key: Mapped[str] = mapped_column(String(2000))  # its CMS id (`wp:123`) or its URL's identity key
    kind: Mapped[str] = mapped_column(String(20))  # article | listing | crawl | unstorable
    reason: Mapped[str] = mapped_column(Text)  # the last failure: "HTTP 500", "timed out after 30 s", …
    first_failed_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_failed_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=1)  # failed fetches in a row, the first included
    feed_published: Mapped[datetime | None]  # what the feed that led to it said (scrapers/spiders/feeds.py)
    feed_categories: Mapped[list[Any]] = mapped_column(default=list)
    # the listing link's text or feed item's title that led to it: a retry asks for the page
    # directly, and a page that states no title of its own is titled with it as its first attempt
    # would have been (migration 0017)
    link_text: Mapped[str | None] = mapped_column(Text, nullable=True)


class RawPage(Base):
    """A fetched response body, gzip-compressed; identical re-fetches are stored once."""

    __tablename__ = "raw_pages"
    __table_args__ = (UniqueConstraint("url", "body_sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    kind: Mapped[str] = mapped_column(String(20))  # article | api | feed | listing
    status: Mapped[int] = mapped_column(Integer)
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    body_sha256: Mapped[str] = mapped_column(String(64))
    body_gzip: Mapped[bytes] = mapped_column(LargeBinary)
    # an article page's: the listing link's text or the feed item's title that led to it, which
    # its title was read with (ArticleParser.parse); `reparse` reads the page with it again
    link_text: Mapped[str | None] = mapped_column(Text, nullable=True)


class Announcement(Base):
    """One announcement page of one source, updated in place when the site edits it."""

    __tablename__ = "announcements"
    __table_args__ = (
        UniqueConstraint("source_id", "url"),
        Index("uq_announcements_source_id_url_key", "source_id", "url_key", unique=True),
        Index("ix_announcements_source_id_external_id", "source_id", "external_id"),
        # The feed walks this newest first; source and story come from the index, not the wide rows.
        Index("ix_announcements_feed_order", "published_at", "source_id", "story_key", "id"),
        Index("ix_announcements_source_story", "source_id", "story_key", "id"),
        Index("ix_announcements_story_source", "story_key", "source_id"),
        # The feed's undated rows by first sight, newest first (migration 0010).
        Index("ix_announcements_undated", "published_at", "first_seen_at", "source_id", "story_key", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))  # a real URL the site answers (not the key)
    # the page's identity (aggregator/urls.py): the same page reached by another URL — http/https,
    # www., an alias host, a trailing slash, tracking parameters, `?p=123` — has the same key
    url_key: Mapped[str] = mapped_column(String(2000), index=True, default=_key_of_url)
    external_id: Mapped[str | None] = mapped_column(String(100))  # the CMS's id: wp:123, node:123
    title: Mapped[str] = mapped_column(Text)
    lead: Mapped[str | None] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    categories: Mapped[list[Any]] = mapped_column(default=list)
    # the pictures: [{"url", "alt", "caption"}] in page order (scrapers.extraction.images)
    images: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'"))
    language: Mapped[str] = mapped_column(String(8), default="pl")
    published_at: Mapped[datetime | None]
    published_from: Mapped[str | None] = mapped_column(String(40))
    # day | minute | second: a day-only date is stored as Warsaw midnight but is not a time of day
    published_granularity: Mapped[str | None] = mapped_column(String(10))
    modified_at: Mapped[datetime | None]
    modified_from: Mapped[str | None] = mapped_column(String(40))
    content_hash: Mapped[str] = mapped_column(String(64))
    # title, lead and body lower-cased without diacritics (ł → l): "nabor" finds "Nabór" on both backends
    search_text: Mapped[str] = mapped_column(Text, default="")
    # what full-text search indexes (db/search.py): distinct folded words plus their morfeusz2 lemmas
    search_terms: Mapped[str] = mapped_column(Text, default="")
    # the story (the same news on several sites); NULL until deduplication has seen this version
    story_key: Mapped[str | None] = mapped_column(String(64), index=True)
    dedup_signature: Mapped[bytes | None] = mapped_column(LargeBinary)  # MinHash, to rebuild the index
    raw_page_id: Mapped[int | None] = mapped_column(ForeignKey("raw_pages.id", ondelete="SET NULL"))
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # when a crawl last saw the page's files change with its text the same (one added, dropped, or
    # replaced under the same name): its feed entry's `updated` (aggregator/feeds.py), which a text
    # edit moves through its version row; NULL while the files are those it was first stored with
    files_changed_at: Mapped[datetime | None]
    # a tombstone: the site deleted the page (HTTP 404/410, gone from its complete REST listing);
    # the row stays (and stays out of feeds and stories) and comes back if the page returns
    deleted_at: Mapped[datetime | None]
    deleted_reason: Mapped[str | None] = mapped_column(String(200))

    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="announcement", cascade="all, delete-orphan", order_by="Attachment.id"
    )
    versions: Mapped[list[AnnouncementVersion]] = relationship(
        back_populates="announcement", cascade="all, delete-orphan", order_by="AnnouncementVersion.id"
    )


class AnnouncementVersion(Base):
    """The text an announcement had before the site edited it (edits are updates, not duplicates)."""

    __tablename__ = "announcement_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcements.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    modified_at: Mapped[datetime | None]
    replaced_at: Mapped[datetime] = mapped_column(default=utcnow)

    announcement: Mapped[Announcement] = relationship(back_populates="versions")


class Attachment(Base):
    """A file linked from an announcement ("Do pobrania", "Załączniki")."""

    __tablename__ = "attachments"
    __table_args__ = (UniqueConstraint("announcement_id", "url"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcements.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(String(2000))
    file_type: Mapped[str | None] = mapped_column(String(20))
    size: Mapped[str | None] = mapped_column(String(40))

    announcement: Mapped[Announcement] = relationship(back_populates="attachments")


class Entity(Base):
    """An institution: from the gazetteer (`in_gazetteer`) or first met in an announcement."""

    __tablename__ = "entities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    canonical: Mapped[str] = mapped_column(Text)
    acronym: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(60), index=True)
    voivodeship: Mapped[str | None] = mapped_column(String(40), index=True)
    website: Mapped[str | None] = mapped_column(String(300))
    in_gazetteer: Mapped[bool] = mapped_column(Boolean, default=False)
    aliases: Mapped[list[Any]] = mapped_column(default=list)  # surface forms seen in texts
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Mention(Base):
    """One occurrence of an entity in an announcement's title or body (offsets into that field)."""

    __tablename__ = "mentions"
    __table_args__ = (
        UniqueConstraint("announcement_id", "field", "char_start"),
        Index("ix_mentions_entity_announcement", "entity_id", "announcement_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # (looked up by the unique constraint's index, which starts with it; migration 0012)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcements.id", ondelete="CASCADE"))
    # (looked up by ix_mentions_entity_announcement, which starts with it; migration 0012)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"))
    field: Mapped[str] = mapped_column(String(10))  # title | body
    surface: Mapped[str] = mapped_column(Text)
    char_start: Mapped[int] = mapped_column(Integer)
    char_end: Mapped[int] = mapped_column(Integer)


class EventDate(Base):
    """A date or period an announcement mentions: events, deadlines, recruitment periods.

    `start_date`/`end_date` are Warsaw calendar days (a month or quarter is its first to last
    day); `kind` says how to read them: point, range, from (open end), until (a deadline).
    """

    __tablename__ = "event_dates"
    __table_args__ = (
        UniqueConstraint("announcement_id", "field", "char_start"),
        Index("ix_event_dates_start_date", "start_date"),
        Index("ix_event_dates_end_date", "end_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # (looked up by the unique constraint's index, which starts with it; migration 0012)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcements.id", ondelete="CASCADE"))
    field: Mapped[str] = mapped_column(String(10))
    match: Mapped[str] = mapped_column(Text)
    context: Mapped[str] = mapped_column(Text)
    char_start: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    start_at: Mapped[datetime | None]  # when a time of day is given (UTC)
    end_at: Mapped[datetime | None]
    granularity: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(10))


class Story(Base):
    """One piece of news with every announcement that carries it (cross-posts, reposts, teasers).

    The representative is the issuing institution's own page when another member names that
    institution, else the earliest; the feed and digests list stories through it.
    """

    __tablename__ = "stories"
    __table_args__ = (Index("ix_stories_representative_id", "representative_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    representative_id: Mapped[int | None] = mapped_column(ForeignKey("announcements.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer, default=1)
    first_published_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Subscriber(Base):
    """Someone who gets the email digest, with the filters of what they want to read.

    The filters combine like the feed's: any of the listed voivodeships, AND any of the sources,
    AND any of the institutions, AND any of the keywords; an empty list does not filter.
    `last_digest_at` is when the last digest run covered them (sent, or found nothing new): the
    next digest holds the stories first seen after it. The lease columns keep two concurrent
    `digest send` runs from both mailing one subscriber.
    """

    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # normalised (email-validator)
    frequency: Mapped[str] = mapped_column(String(10), default="daily")  # daily | weekly
    weekday: Mapped[int | None] = mapped_column(Integer)  # weekly: 0 = Monday … 6 = Sunday (Warsaw)
    voivodeships: Mapped[list[Any]] = mapped_column(default=list)
    sources: Mapped[list[Any]] = mapped_column(default=list)
    entities: Mapped[list[Any]] = mapped_column(default=list)
    keywords: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]
    last_digest_at: Mapped[datetime | None]
    bounce_count: Mapped[int] = mapped_column(Integer, default=0)  # refusals in a row; reset by a delivery
    last_bounce_at: Mapped[datetime | None]
    last_bounce: Mapped[str | None] = mapped_column(Text)  # the SMTP server's answer
    lease_owner: Mapped[str | None] = mapped_column(String(36))
    lease_expires_at: Mapped[datetime | None]


class Delivery(Base):
    """A story mailed to a subscriber, written only after the SMTP server accepted the message:
    the unique pair is what makes a retry never send a story twice."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("subscriber_id", "story_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    # the story's key, not its row id: a story rebuilt under the same key is still delivered
    story_key: Mapped[str] = mapped_column(String(64))
    announcement_id: Mapped[int | None] = mapped_column(ForeignKey("announcements.id", ondelete="SET NULL"))
    message_id: Mapped[str] = mapped_column(String(300))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
