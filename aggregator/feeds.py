"""The unified feed: Atom and RSS 2.0 (feedgen) and JSON Feed 1.1, newest first, with filters.

One entry per story: the representative page as the link, the other sites that carry the same
news as related links. Titles and summaries are plain text (scraped HTML never reaches a
feed reader); links are always the real sites' URLs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from feedgen.feed import FeedGenerator
from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from db.models import Announcement, CrawlRun, Entity, Mention, Source, Story
from db.store import fold_for_search
from scrapers.registry import VOIVODESHIPS

FEED_TITLE = "ropsfeed – ogłoszenia regionalnych ośrodków polityki społecznej"
FEED_SUBTITLE = "Ogłoszenia MCPS, ROPS, RCPS, DOPS i urzędów marszałkowskich z 16 województw w jednym miejscu"
DEFAULT_BASE_URL = "http://127.0.0.1:8000/"
FORMATS = ("atom", "rss", "json")
WARSAW = ZoneInfo("Europe/Warsaw")


@dataclass(frozen=True)
class FeedFilters:
    """Combined with AND; empty ones do not filter."""

    voivodeship: str | None = None
    source: str | None = None
    entity: str | None = None
    query: str | None = None
    limit: int = 50
    offset: int = 0  # for paging (the web page); feeds always start at the newest

    def __post_init__(self) -> None:
        if self.voivodeship and self.voivodeship not in VOIVODESHIPS:
            raise ValueError(f"unknown voivodeship {self.voivodeship!r}; use one of: {', '.join(VOIVODESHIPS)}")
        if not 1 <= self.limit <= 1000:
            raise ValueError("limit must be between 1 and 1000")
        if self.offset < 0:
            raise ValueError("offset must not be negative")

    def query_string(self) -> str:
        pairs = [(k, v) for k, v in (("voivodeship", self.voivodeship), ("source", self.source),
                                     ("entity", self.entity), ("q", self.query)) if v]  # fmt: skip
        return urlencode(pairs)


@dataclass
class FeedEntry:
    id: str
    url: str
    title: str
    summary: str
    published: datetime | None  # None: the site gives no date and it is not new since our first crawl
    updated: datetime
    source_id: str
    institution: str
    voivodeship: str
    categories: list[str] = field(default_factory=list)
    institutions: list[str] = field(default_factory=list)
    other_urls: list[str] = field(default_factory=list)
    announcement_id: int | None = None  # the representative, for the web page's links
    story_key: str | None = None
    sources_count: int = 1  # announcements carrying the story (several sites, reposts)


def as_utc(value: datetime | str) -> datetime:
    """A raw SQL expression result: SQLite gives a naive string or datetime, PostgreSQL an aware one."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def base_url() -> str:
    url = os.environ.get("ROPSFEED_BASE_URL") or DEFAULT_BASE_URL
    return url if url.endswith("/") else url + "/"


def _filtered(filters: FeedFilters) -> Select[tuple[Announcement, Source]]:
    """The page of stories `filters` asks for, newest first."""
    return (
        _matching(filters)
        .order_by(feed_date().desc().nulls_last(), Announcement.id.desc())
        .limit(filters.limit)
        .offset(filters.offset)
    )


def count_entries(session: Session, filters: FeedFilters, *, cap: int | None = None) -> int:
    """How many stories match `filters` (limit and offset ignored); with `cap`, counting stops at
    `cap` (a page says "more than 1000" rather than scanning everything for an exact figure)."""
    matching = _matching(filters).with_only_columns(Announcement.id)
    if cap is not None:
        matching = matching.limit(cap)
    return session.scalar(select(func.count()).select_from(matching.subquery())) or 0


def _matching(filters: FeedFilters) -> Select[tuple[Announcement, Source]]:
    """One row per story (its representative; an announcement not yet deduplicated stands alone),
    kept when any of the story's announcements matches every filter."""
    member = (
        select(Announcement.id, Announcement.story_key)
        .join(Source, Source.id == Announcement.source_id)
        .where(Announcement.deleted_at.is_(None))  # a page the site deleted is no news
    )
    if filters.voivodeship:
        member = member.where(Source.voivodeship == filters.voivodeship)
    if filters.source:
        member = member.where(Announcement.source_id == filters.source)
    if filters.entity:
        wanted = select(Entity.id).where(
            or_(
                Entity.key == filters.entity,
                func.lower(Entity.canonical) == filters.entity.lower(),
                Entity.acronym == filters.entity,
            )
        )
        keys = select(Entity.key).where(Entity.id.in_(wanted))
        mentioned = select(Mention.announcement_id).where(Mention.entity_id.in_(wanted))
        member = member.where(or_(Announcement.id.in_(mentioned), Source.entity_key.in_(keys)))
    if filters.query:
        terms = fold_for_search(filters.query).split()
        member = member.where(and_(*(Announcement.search_text.contains(term) for term in terms)))
    matching = member.subquery()
    statement = (
        select(Announcement, Source)
        .join(Source, Source.id == Announcement.source_id)
        .outerjoin(Story, Story.key == Announcement.story_key)
        .where(Announcement.deleted_at.is_(None))
        .where(or_(Story.representative_id == Announcement.id, Announcement.story_key.is_(None)))
        .where(
            or_(
                Announcement.story_key.in_(select(matching.c.story_key).where(matching.c.story_key.is_not(None))),
                Announcement.id.in_(select(matching.c.id)),
            )
        )
    )
    return statement


def feed_date() -> Any:
    """When an announcement appeared: its publication date; for a site that shows none, the time it
    was first seen, but only if that was after the source's first crawl (before, it is backfill of
    unknown age and must not pose as today's news)."""
    first_run_end = (
        select(func.min(CrawlRun.finished_at)).where(CrawlRun.source_id == Announcement.source_id).scalar_subquery()
    )
    return func.coalesce(
        Announcement.published_at,
        case((Announcement.first_seen_at > first_run_end, Announcement.first_seen_at), else_=None),
    )


def select_entries(session: Session, filters: FeedFilters) -> list[FeedEntry]:
    rows = session.execute(_filtered(filters).add_columns(feed_date())).all()
    ids = [announcement.id for announcement, _, _ in rows]
    institutions: dict[int, list[str]] = {}
    if ids:
        linked = session.execute(
            select(Mention.announcement_id, Entity.canonical)
            .join(Entity, Entity.id == Mention.entity_id)
            .where(Mention.announcement_id.in_(ids), Entity.in_gazetteer.is_(True))
            .order_by(Mention.announcement_id, Mention.field.desc(), Mention.char_start)
        )
        for announcement_id, canonical in linked:
            names = institutions.setdefault(announcement_id, [])
            if canonical not in names:
                names.append(canonical)
    keys = [a.story_key for a, _, _ in rows if a.story_key]
    others: dict[str, list[tuple[int, str]]] = {}
    for story_key, announcement_id, url in session.execute(
        select(Announcement.story_key, Announcement.id, Announcement.url)
        .where(Announcement.story_key.in_(keys), Announcement.deleted_at.is_(None))
        .order_by(Announcement.published_at, Announcement.id)
    ):
        others.setdefault(str(story_key), []).append((announcement_id, url))
    entries = []
    for announcement, source, appeared in rows:
        published = announcement.published_at or (as_utc(appeared) if appeared else None)
        published = published.astimezone(WARSAW) if published else None  # readers see Polish time
        entries.append(
            FeedEntry(
                id=f"{base_url()}story/{announcement.story_key}" if announcement.story_key else announcement.url,
                url=announcement.url,
                title=announcement.title,
                summary=announcement.lead or "",
                published=published,
                updated=max(published or announcement.first_seen_at, announcement.updated_at).astimezone(WARSAW),
                source_id=source.id,
                institution=source.institution,
                voivodeship=source.voivodeship,
                categories=list(announcement.categories or []),
                institutions=institutions.get(announcement.id, []),
                other_urls=[u for i, u in others.get(str(announcement.story_key), []) if i != announcement.id],
                announcement_id=announcement.id,
                story_key=announcement.story_key,
                sources_count=max(1, len(others.get(str(announcement.story_key), []))),
            )
        )
    return entries


def _feed_generator(entries: Sequence[FeedEntry], filters: FeedFilters, self_path: str) -> FeedGenerator:
    home = base_url()
    query = filters.query_string()
    generator = FeedGenerator()
    generator.id(home + self_path + (f"?{query}" if query else ""))
    generator.title(FEED_TITLE)
    generator.subtitle(FEED_SUBTITLE)
    generator.description(FEED_SUBTITLE)
    generator.language("pl")
    generator.link(href=home + (f"?{query}" if query else ""), rel="alternate")
    generator.link(href=home + self_path + (f"?{query}" if query else ""), rel="self")
    generator.generator("ropsfeed")
    generator.updated(max((e.updated for e in entries), default=datetime(2000, 1, 1, tzinfo=UTC)))
    for entry in entries:
        item = generator.add_entry(order="append")  # feedgen prepends by default
        item.id(entry.id)
        item.guid(entry.id, permalink=True)
        item.title(entry.title)
        item.link(href=entry.url, rel="alternate")
        for other in entry.other_urls:
            item.link(href=other, rel="related")
        if entry.published:
            item.published(entry.published)
        item.updated(entry.updated)
        item.summary(entry.summary or entry.title)
        item.author({"name": entry.institution})
        for term in (entry.voivodeship, entry.source_id, *entry.institutions, *entry.categories):
            item.category(term=term)
    return generator


def render(entries: Sequence[FeedEntry], filters: FeedFilters, feed_format: str) -> str:
    if feed_format == "atom":
        return _feed_generator(entries, filters, "feed.atom").atom_str(pretty=True).decode("utf-8")
    if feed_format == "rss":
        return _feed_generator(entries, filters, "feed.rss").rss_str(pretty=True).decode("utf-8")
    if feed_format == "json":
        return render_json(entries, filters)
    raise ValueError(f"unknown feed format {feed_format!r}; use one of: {', '.join(FORMATS)}")


def render_json(entries: Sequence[FeedEntry], filters: FeedFilters) -> str:
    """JSON Feed 1.1 (https://jsonfeed.org/version/1.1), with our fields under `_ropsfeed`."""
    home = base_url()
    query = filters.query_string()
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": FEED_TITLE,
        "description": FEED_SUBTITLE,
        "home_page_url": home + (f"?{query}" if query else ""),
        "feed_url": home + "feed.json" + (f"?{query}" if query else ""),
        "language": "pl",
        "items": [
            {
                "id": e.id,
                "url": e.url,
                "title": e.title,
                "summary": e.summary,
                "content_text": e.summary or e.title,
                **({"date_published": e.published.isoformat()} if e.published else {}),
                "date_modified": e.updated.isoformat(),
                "authors": [{"name": e.institution}],
                "tags": [e.voivodeship, e.source_id, *e.institutions, *e.categories],
                "_ropsfeed": {
                    "source": e.source_id,
                    "voivodeship": e.voivodeship,
                    "institutions": e.institutions,
                    "other_urls": e.other_urls,
                },
            }
            for e in entries
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=1)
