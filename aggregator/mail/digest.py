"""What goes into one subscriber's digest: the stories matching their filters first seen since
their last digest and not mailed to them yet, grouped by voivodeship, newest first; then the
stories already mailed to them whose text or files the site has changed since (`edited`).

Story selection is the feed's (`aggregator.feeds.select_entries` with the subscriber's filters,
`seen_since` and "not delivered to this subscriber"); this module only adds what an email shows
besides: the sources' names, a short plain-text lead, the number of attachments and the dates the
story mentions. Those details are cached per story for the whole run, because thousands of
subscribers get the same few stories.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import nh3
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from aggregator import polish
from aggregator.feeds import WARSAW, FeedEntry, FeedFilters, count_entries, select_entries
from aggregator.mail.subscribers import DigestSettings
from db.models import Announcement, AnnouncementVersion, Attachment, Delivery, EventDate, Source, Subscriber

EDITED_HEADING = "Zmienione od ostatniego przeglądu"
TEXT_CHANGED, FILES_CHANGED = "treść", "załączniki"  # what an edited story's „Zmieniono:” line names
_WORD = re.compile(r"\w+")
MAX_STORIES = 100  # a longer digest is not read: the newest are listed, the rest counted and linked
LEAD_CHARS = 280
MAX_DATES = 4
MAX_ALSO = 5  # other sites' pages of a story linked besides the title's
PERIOD = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}


@dataclass
class DigestStory:
    key: str
    title: str
    url: str
    voivodeship: str
    sources: tuple[str, ...]  # institutions' names, the representative's first
    published: date | None  # Warsaw day
    lead: str
    attachments: int
    dates: tuple[str, ...]  # `do 15 marca 2024`, `19–20 maja 2022`
    announcement_id: int | None = None
    # the story's pages on other sites (or reposts), oldest first: one institution's two sites name it
    # once in `sources`, and the reader still sees every page that carries the story
    also: tuple[str, ...] = ()


@dataclass
class Digest:
    subscriber_id: int
    email: str
    since: datetime
    until: datetime
    stories: list[DigestStory] = field(default_factory=list)
    more: int = 0  # matching stories beyond MAX_STORIES: named in the email, not listed nor recorded
    # stories mailed before whose text changed since (a deadline extended, a title fixed): a
    # subscriber who read the first text would otherwise act on it
    edited: list[DigestStory] = field(default_factory=list)
    # what changed in each edited story since it was mailed (`TEXT_CHANGED`, `FILES_CHANGED`): a
    # regulation replaced under the same link looks like the story mailed before unless it is said
    changes: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def period(self) -> str:
        return polish.period(self.since.astimezone(WARSAW).date(), self.until.astimezone(WARSAW).date())

    @property
    def subject(self) -> str:
        """`ropsfeed: 5 nowych ogłoszeń (30 listopada – 6 grudnia 2026)` — no scraped text in a header."""
        return f"ropsfeed: {self.headline} ({self.period})"

    @property
    def headline(self) -> str:
        """`5 nowych ogłoszeń`, `2 nowe ogłoszenia i 1 zmienione`, `1 zmienione ogłoszenie`."""
        edited = len(self.edited)
        if not edited:
            return polish.stories_count(self.total)
        if not self.total:
            return polish.count_noun(edited, "zmienione ogłoszenie", "zmienione ogłoszenia", "zmienionych ogłoszeń")
        also = polish.count_noun(edited, "zmienione", "zmienione", "zmienionych")
        return f"{polish.stories_count(self.total)} i {also}"

    @property
    def empty(self) -> bool:
        return not self.stories and not self.edited

    @property
    def total(self) -> int:
        return len(self.stories) + self.more

    def groups(self) -> list[tuple[str, list[DigestStory]]]:
        """Voivodeships in the order of their newest story; stories newest first within each."""
        grouped: dict[str, list[DigestStory]] = {}
        for story in self.stories:
            grouped.setdefault(story.voivodeship, []).append(story)
        return list(grouped.items())

    def sections(self) -> list[tuple[str, list[DigestStory]]]:
        """What the email lists, each under its heading: the new stories by voivodeship
        („Województwo mazowieckie”), then the edited ones (`EDITED_HEADING`)."""
        sections = [(f"Województwo {voivodeship}", stories) for voivodeship, stories in self.groups()]
        return sections + ([(EDITED_HEADING, self.edited)] if self.edited else [])

    def changed(self, story: DigestStory) -> str:
        """`treść`, `załączniki`, `treść i załączniki`: what the „Zmieniono:” line of an edited
        story names; empty for a new one."""
        return " i ".join(self.changes.get(story.key, ()))


def plain_text(value: str | None) -> str:
    """Scraped text as plain text: any markup removed by nh3, entities decoded, one line."""
    cleaned = html.unescape(nh3.clean(value or "", tags=set()))
    return " ".join(cleaned.split())


def short(text: str, limit: int = LEAD_CHARS) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:–-")
    return cut + "…"


def since_for(subscriber: Subscriber, now: datetime) -> datetime:
    """The last digest's run, or one period back for a first digest."""
    return subscriber.last_digest_at or now - PERIOD[subscriber.frequency]


def filters_for(settings: DigestSettings, since: datetime) -> FeedFilters:
    return FeedFilters(voivodeships=settings.voivodeships, sources=settings.sources, entities=settings.entities,
                       keywords=settings.keywords, seen_since=since, limit=MAX_STORIES)  # fmt: skip


def not_delivered_to(subscriber_id: int) -> ColumnElement[bool]:
    delivered = select(Delivery.story_key).where(Delivery.subscriber_id == subscriber_id)
    return Announcement.story_key.not_in(delivered)


def edited_since_delivery(session: Session, subscriber_id: int) -> dict[str, tuple[str, ...]]:
    """The live stories mailed to the subscriber that changed after they were mailed, each with what
    changed: one of its pages got a new text (a version replaced), in other words than the mail
    read (`TEXT_CHANGED`), or its files changed with the text the same (`FILES_CHANGED`: a form or
    a regulation replaced under the same link, `announcements.files_changed_at`). Each change is
    said once, as `_record_delivery` moves the delivery's `sent_at` to the mail that said it. An
    edit of punctuation, spacing or letter case alone (a dash fixed in the title) is not said: the
    subscriber could not tell what changed."""
    live = (Delivery.subscriber_id == subscriber_id, Announcement.deleted_at.is_(None))
    rows = session.execute(
        select(Delivery.story_key, AnnouncementVersion.title, AnnouncementVersion.body_text, Announcement.title,
               Announcement.body_text)
        .join(Announcement, Announcement.story_key == Delivery.story_key)
        .join(AnnouncementVersion, AnnouncementVersion.announcement_id == Announcement.id)
        .where(*live, AnnouncementVersion.replaced_at > Delivery.sent_at)
    )  # fmt: skip
    text = {key for key, *texts in rows if _words(texts[0], texts[1]) != _words(texts[2], texts[3])}
    files = set(
        session.scalars(
            select(Delivery.story_key)
            .join(Announcement, Announcement.story_key == Delivery.story_key)
            .where(*live, Announcement.files_changed_at > Delivery.sent_at)
        )
    )
    return {
        key: tuple(change for change, keys in ((TEXT_CHANGED, text), (FILES_CHANGED, files)) if key in keys)
        for key in sorted(text | files)
    }


def _words(title: str | None, body: str | None) -> tuple[list[str], list[str]]:
    return _WORD.findall((title or "").casefold()), _WORD.findall((body or "").casefold())


class DigestBuilder:
    """Builds digests; one per run, so story details are looked up once per story."""

    def __init__(self) -> None:
        self._stories: dict[str, DigestStory] = {}
        self._institutions: dict[str, str] = {}

    def build(self, session: Session, subscriber: Subscriber, now: datetime) -> Digest:
        since = since_for(subscriber, now)
        filters = filters_for(DigestSettings.of(subscriber), since)
        where = [not_delivered_to(subscriber.id)]
        entries = select_entries(session, filters, where)
        digest = Digest(subscriber_id=subscriber.id, email=subscriber.email, since=since, until=now)
        digest.stories = self.stories(session, entries)
        if len(entries) == MAX_STORIES:  # a flood (a new site's first week): the newest, and a count of the rest
            total = count_entries(session, filters, where)
            digest.more = max(0, total - len(entries))
        edited = edited_since_delivery(session, subscriber.id)
        if edited:
            entries = select_entries(session, FeedFilters(limit=MAX_STORIES), [Announcement.story_key.in_(edited)])
            digest.edited = self.stories(session, entries)
            digest.changes = {story.key: edited[story.key] for story in digest.edited}
        return digest

    def preview(self, session: Session, now: datetime, limit: int = 20) -> Digest:
        """The newest stories whatever their age, as a digest for a subscriber without filters."""
        entries = [e for e in select_entries(session, FeedFilters(limit=limit)) if e.story_key]
        stories = self.stories(session, entries)
        oldest = min((s.published for s in stories if s.published), default=now.date())
        since = datetime.combine(oldest, datetime.min.time(), WARSAW)
        return Digest(subscriber_id=0, email="podglad@example.org", since=since, until=now, stories=stories)

    def stories(self, session: Session, entries: Iterable[FeedEntry]) -> list[DigestStory]:
        entries = [e for e in entries if e.story_key]
        missing = [e for e in entries if e.story_key not in self._stories]
        if missing:
            self._load(session, missing)
        return [self._stories[str(e.story_key)] for e in entries]

    def _load(self, session: Session, entries: list[FeedEntry]) -> None:
        if not self._institutions:
            self._institutions = dict(session.execute(select(Source.id, Source.institution)).all())
        ids = [e.announcement_id for e in entries if e.announcement_id is not None]
        attachments = dict(
            session.execute(
                select(Attachment.announcement_id, func.count())
                .where(Attachment.announcement_id.in_(ids))
                .group_by(Attachment.announcement_id)
            ).all()
        )
        dates: dict[int, list[tuple[bool, date, str]]] = {}
        for row in session.scalars(select(EventDate).where(EventDate.announcement_id.in_(ids))):
            label = polish.date_span(row.start_date, row.end_date, row.kind)
            dates.setdefault(row.announcement_id, []).append((row.kind != "until", row.start_date, label))
        for entry in entries:
            labels = [label for _, _, label in sorted(dates.get(entry.announcement_id or -1, []))]
            self._stories[str(entry.story_key)] = DigestStory(
                key=str(entry.story_key),
                title=plain_text(entry.title),
                url=entry.url,
                voivodeship=entry.voivodeship,
                sources=tuple(dict.fromkeys(self._institutions.get(s, s) for s in entry.sources)),
                published=entry.published.astimezone(WARSAW).date() if entry.published else None,
                lead=short(plain_text(entry.summary)),
                attachments=int(attachments.get(entry.announcement_id, 0)),
                dates=tuple(dict.fromkeys(labels))[:MAX_DATES],
                announcement_id=entry.announcement_id,
                also=tuple(entry.other_urls[:MAX_ALSO]),
            )
