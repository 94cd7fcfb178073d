"""What the pages show beyond the feed's list: the filter choices and one story with everything
known about it. The list itself comes from aggregator.feeds (one selection for feed and page)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import groupby
from operator import attrgetter

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from aggregator.feeds import FeedFilters
from aggregator.polish import sort_key as polish_sort_key
from aggregator.urls import site_of
from db.models import Announcement, Attachment, Entity, EventDate, Mention, Source, Story


@dataclass(frozen=True)
class SourceChoice:
    id: str
    institution: str
    voivodeship: str
    site: str  # the host: two sources of one institution (MCPS and its ES portal) differ by it


@dataclass(frozen=True)
class EntityChoice:
    key: str
    name: str
    acronym: str | None


@dataclass(frozen=True)
class Choices:
    """Options of the filter form: only what the database holds, so no choice leads nowhere."""

    voivodeships: list[str]
    sources: list[SourceChoice]
    entities: list[EntityChoice]

    @property
    def sources_by_voivodeship(self) -> list[tuple[str, list[SourceChoice]]]:
        """`sources` in groups, in their Polish order: Jinja's `groupby` sorts the groups again by
        code point, and "łódzkie", "śląskie" came after "zachodniopomorskie"."""
        return [(name, list(group)) for name, group in groupby(self.sources, key=attrgetter("voivodeship"))]


@dataclass(frozen=True)
class MentionedDate:
    start: date
    end: date | None
    kind: str
    match: str
    context: str


@dataclass(frozen=True)
class Institution:
    key: str
    name: str
    acronym: str | None
    website: str | None


@dataclass
class Member:
    """One announcement carrying the story: one site's page."""

    announcement: Announcement
    source: Source
    attachments: list[Attachment] = field(default_factory=list)


@dataclass
class StoryView:
    key: str | None
    title: str
    representative: Member
    members: list[Member]
    dates: list[MentionedDate]
    institutions: list[Institution]

    @property
    def published(self) -> datetime | None:
        dated = [m.announcement.published_at for m in self.members if m.announcement.published_at]
        return min(dated) if dated else None


def filter_choices(session: Session) -> Choices:
    sources = sorted(
        (
            SourceChoice(id=s.id, institution=s.institution, voivodeship=s.voivodeship, site=site_of(s.base_url))
            for s in session.scalars(
                select(Source).where(
                    select(Announcement.id)
                    .where(Announcement.source_id == Source.id, Announcement.deleted_at.is_(None))
                    .exists()
                )
            )
        ),
        key=lambda s: (polish_sort_key(s.voivodeship), polish_sort_key(s.institution), s.site),
    )
    # EXISTS per gazetteer entity (an index lookup each), not DISTINCT over every mention
    mentioned = select(Mention.id).where(Mention.entity_id == Entity.id).exists()
    publishing = select(Source.entity_key).where(Source.entity_key.is_not(None))
    entities = [
        EntityChoice(key=key, name=name, acronym=acronym)
        for key, name, acronym in session.execute(
            select(Entity.key, Entity.canonical, Entity.acronym)
            .where(Entity.in_gazetteer.is_(True))
            .where(mentioned | Entity.key.in_(publishing))
        )
    ]
    entities.sort(key=lambda e: polish_sort_key(e.name))
    voivodeships = sorted({s.voivodeship for s in sources}, key=polish_sort_key)
    return Choices(voivodeships=voivodeships, sources=sources, entities=entities)


def filter_names(session: Session, filters: FeedFilters) -> list[str]:
    """The filters other than the words, named as people read them: `woj. mazowieckie`,
    `Mazowieckie Centrum Polityki Społecznej (mcps.com.pl)`, an institution's canonical name."""
    parts = []
    if filters.voivodeship:
        parts.append(f"woj. {filters.voivodeship}")
    if filters.source:
        source = session.get(Source, filters.source)
        parts.append(f"{source.institution} ({site_of(source.base_url)})" if source else filters.source)
    if filters.entity:
        parts.append(session.scalar(select(Entity.canonical).where(Entity.key == filters.entity)) or filters.entity)
    return parts


def filters_title(names: list[str], filters: FeedFilters) -> str:
    """The filters in words, for a filtered feed's title: `woj. mazowieckie · Mazowieckie Centrum
    Polityki Społecznej (mcps.com.pl) · „nabór”` (`names`: `filter_names`); "" when nothing is
    filtered. Every filtered feed was called the same, so two subscriptions in a feed reader could
    not be told apart."""
    return " · ".join([*names, f"„{filters.query}”"] if filters.query else names)


def load_story(session: Session, key: str) -> StoryView | None:
    story = session.scalar(select(Story).where(Story.key == key))
    if story is None:
        return None
    announcements = list(
        session.scalars(
            select(Announcement)
            .where(Announcement.story_key == key, Announcement.deleted_at.is_(None))  # tombstones are gone
            .options(selectinload(Announcement.attachments))
            .order_by(Announcement.published_at.nulls_last(), Announcement.id)
        )
    )
    if not announcements:
        return None
    representative = next((a for a in announcements if a.id == story.representative_id), announcements[0])
    return _view(session, key, story.title or representative.title, representative, announcements)


def story_of(session: Session, announcement_id: int) -> str | None:
    """The key of the story an announcement belongs to, when that story exists (a tombstone's
    page is gone: it has none, and `load_announcement` does not show it either)."""
    return session.scalar(
        select(Story.key)
        .join(Announcement, Announcement.story_key == Story.key)
        .where(Announcement.id == announcement_id, Announcement.deleted_at.is_(None))
    )


def load_announcement(session: Session, announcement_id: int) -> StoryView | None:
    """A single announcement shown like a story (one not yet deduplicated has no story)."""
    announcement = session.scalar(
        select(Announcement).where(Announcement.id == announcement_id).options(selectinload(Announcement.attachments))
    )
    if announcement is None or announcement.deleted_at is not None:  # the site deleted the page
        return None
    return _view(session, None, announcement.title, announcement, [announcement])


def _view(
    session: Session, key: str | None, title: str, representative: Announcement, announcements: list[Announcement]
) -> StoryView:
    ids = [a.id for a in announcements]
    wanted = {a.source_id for a in announcements}
    sources = {s.id: s for s in session.scalars(select(Source).where(Source.id.in_(wanted)))}
    members = [Member(a, sources[a.source_id], list(a.attachments)) for a in announcements]
    dates: dict[tuple[date, date | None, str], MentionedDate] = {}
    for row in session.scalars(
        select(EventDate).where(EventDate.announcement_id.in_(ids)).order_by(EventDate.start_date, EventDate.id)
    ):
        dates.setdefault(
            (row.start_date, row.end_date, row.kind),
            MentionedDate(start=row.start_date, end=row.end_date, kind=row.kind, match=row.match, context=row.context),
        )
    institutions: dict[str, Institution] = {}
    publishers = [s.entity_key for s in sources.values() if s.entity_key]
    for entity in session.scalars(
        select(Entity)
        .where(
            Entity.id.in_(select(Mention.entity_id).where(Mention.announcement_id.in_(ids)))
            | Entity.key.in_(publishers)
        )
        .order_by(Entity.in_gazetteer.desc(), func.lower(Entity.canonical))
    ):
        institutions.setdefault(
            entity.key,
            Institution(
                key=entity.key,
                name=entity.canonical,
                acronym=entity.acronym,
                website=entity.website if entity.in_gazetteer else None,
            ),
        )
    return StoryView(
        key=key,
        title=title,
        representative=next(m for m in members if m.announcement.id == representative.id),
        members=members,
        dates=list(dates.values()),
        institutions=list(institutions.values()),
    )
