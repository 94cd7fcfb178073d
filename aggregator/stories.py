"""Stories: the same news cross-posted on several sites becomes one story with all its sources.

Runs after each crawl (and reparse) over the announcements that have no story yet — new ones and
edited ones — so the work grows with what changed, not with the database. The near-duplicate
index (aggregator.dedup) is rebuilt from the signatures stored with each announcement; every
candidate pair is confirmed by the same `judge` that `ropsfeed dedup` exposes.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import Select, and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from aggregator.dedup import Doc, StoryIndex, signature
from db.engine import session_scope
from db.migrate import ensure_schema
from db.models import Announcement, Entity, Mention, Source, Story

log = logging.getLogger(__name__)


@dataclass
class StoryReport:
    assigned: int = 0
    joined: int = 0  # of those, how many joined a story that already had another member
    stories: int = 0  # stories in the database afterwards
    multi_source: int = 0  # stories carried by more than one announcement


def _doc(row: Announcement) -> Doc:
    return Doc(url=row.url, title=row.title, text=row.body_text, published=row.published_at, source_id=row.source_id)


def _encode(values: list[int]) -> bytes:
    return np.asarray(values, dtype="<u4").tobytes()


def _decode(blob: bytes | None) -> list[int] | None:
    return None if blob is None else np.frombuffer(blob, dtype="<u4").astype(np.uint32).tolist()


def assign_stories(database_url: str) -> StoryReport:
    """Give every live announcement without a story its story, and refresh the stories it touched
    — and those whose members were deleted (tombstoned) or came back since their last refresh."""
    ensure_schema(database_url)
    report = StoryReport()
    with session_scope(database_url) as session:
        rows = session.scalars(select(Announcement).order_by(Announcement.id)).all()
        stale = set(session.scalars(stale_story_keys()))
    indexed = [r for r in rows if r.story_key]
    pending = [r for r in rows if not r.story_key and r.deleted_at is None]
    assignments: dict[int, tuple[str, bytes]] = {}
    if pending:
        index = StoryIndex.from_records((str(r.id), _doc(r), r.story_key, _decode(r.dedup_signature)) for r in indexed)
        sizes = Counter(r.story_key for r in indexed)
        for row in pending:
            doc = _doc(row)
            story = index.add(str(row.id), doc)
            report.joined += sizes[story] > 0
            sizes[story] += 1
            assignments[row.id] = (story, _encode(signature(doc)))
    if assignments or stale:
        with session_scope(database_url, write=True) as session:
            for announcement_id, (story, blob) in assignments.items():
                session.execute(
                    update(Announcement)
                    .where(Announcement.id == announcement_id)
                    .values(story_key=story, dedup_signature=blob)
                )
            touched = {story for story, _ in assignments.values()} | stale
            refresh_stories(session, touched)
        report.assigned = len(assignments)
    with session_scope(database_url) as session:
        report.stories = session.scalar(select(func.count()).select_from(Story)) or 0
        report.multi_source = session.scalar(select(func.count()).select_from(Story).where(Story.size > 1)) or 0
    return report


def stale_story_keys() -> Select[tuple[str | None]]:
    """Stories whose membership changed since their last refresh: a member was tombstoned or
    restored (its `updated_at` is newer), or a restored member's story had been dropped."""
    return (
        select(Announcement.story_key)
        .outerjoin(Story, Story.key == Announcement.story_key)
        .where(
            Announcement.story_key.is_not(None),
            or_(
                and_(Story.id.is_(None), Announcement.deleted_at.is_(None)),
                Announcement.updated_at > Story.updated_at,
            ),
        )
        .distinct()
    )


def refresh_stories(session: Session, keys: set[str]) -> None:
    """Representative, title, size and first date of the given stories, from their live members;
    stories left without one go (their key stays on the tombstones, so a page that comes back
    brings its story back under the same key)."""
    live = Announcement.deleted_at.is_(None)
    session.execute(
        delete(Story).where(~Story.key.in_(select(Announcement.story_key).where(Announcement.story_key.is_not(None),
                                                                              live)))
    )  # fmt: skip
    if not keys:
        return
    members: dict[str, list[Announcement]] = defaultdict(list)
    for row in session.scalars(select(Announcement).where(Announcement.story_key.in_(keys), live)):
        members[str(row.story_key)].append(row)
    ids = [a.id for rows in members.values() for a in rows]
    publisher = dict(session.execute(select(Source.id, Source.entity_key)).all())
    mentioned: dict[int, set[str]] = defaultdict(set)
    for announcement_id, key in session.execute(
        select(Mention.announcement_id, Entity.key).join(Entity, Entity.id == Mention.entity_id)
        .where(Mention.announcement_id.in_(ids))
    ):  # fmt: skip
        mentioned[announcement_id].add(key)
    now = datetime.now(UTC)
    for key, rows in members.items():
        chosen = representative(rows, publisher, mentioned)
        dates = [r.published_at for r in rows if r.published_at]
        values = {"representative_id": chosen.id, "title": chosen.title, "size": len(rows),
                  "first_published_at": min(dates) if dates else None, "updated_at": now}  # fmt: skip
        existing = session.scalar(select(Story.id).where(Story.key == key))
        if existing is None:
            session.add(Story(key=key, **values))
        else:
            session.execute(update(Story).where(Story.id == existing).values(**values))


def representative(rows: list[Announcement], publisher: dict[str, str | None],
                   mentioned: dict[int, set[str]]) -> Announcement:  # fmt: skip
    """The issuing institution's own page — the member whose publisher the others name — else the
    earliest published (undated last), then the first stored."""

    def named_by_others(row: Announcement) -> int:
        entity = publisher.get(row.source_id)
        return sum(1 for other in rows if other.id != row.id and entity and entity in mentioned.get(other.id, ()))

    def earliest(row: Announcement) -> tuple[int, datetime, int]:
        when = row.published_at or datetime.max.replace(tzinfo=UTC)
        return (row.published_at is None, when, row.id)

    return sorted(rows, key=lambda r: (-named_by_others(r), *earliest(r)))[0]
