"""Stories: the same news cross-posted on several sites becomes one story with all its sources.

Runs after each crawl (and reparse) over the announcements that have no story yet — new ones and
edited ones — so the work grows with what changed, not with the database. The near-duplicate
index (aggregator.dedup) is rebuilt from the signatures stored with each announcement; every
candidate pair is confirmed by the same `judge` that `ropsfeed dedup` exposes.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

import numpy as np
from sqlalchemy import Row, Select, and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from aggregator.dedup import Doc, StoryIndex
from aggregator.dedup.ahead import FeaturesAhead
from db.engine import database_reason, session_scope
from db.migrate import ensure_schema
from db.models import Announcement, Entity, Mention, Source, Story

log = logging.getLogger(__name__)


@dataclass
class StoryReport:
    assigned: int = 0
    joined: int = 0  # of those, how many joined a story that already had another member
    stories: int = 0  # stories in the database afterwards
    multi_source: int = 0  # stories carried by more than one announcement
    ahead: int = 0  # of the assigned, how many had their features computed during the crawl
    drafted: int = 0  # of the assigned, how many the crawl had added to the index already (StoryDraft)


class Member(Protocol):
    """What choosing a story's representative reads of a member (a row of `_MEMBER_COLUMNS`)."""

    id: int
    source_id: str
    published_at: datetime | None


M = TypeVar("M", bound=Member)

# Only the columns the step reads: loading whole Announcement objects (HTML, search columns)
# cost more than the index work of a crawl's new announcements.
_INDEX_COLUMNS = (Announcement.id, Announcement.url, Announcement.title, Announcement.body_text,
                  Announcement.published_at, Announcement.source_id, Announcement.story_key,
                  Announcement.deleted_at, Announcement.dedup_signature, Announcement.updated_at)  # fmt: skip
_MEMBER_COLUMNS = (Announcement.id, Announcement.source_id, Announcement.title, Announcement.published_at,
                   Announcement.story_key)  # fmt: skip
# What checking a StoryDraft against the database reads of every row.
_STATE_COLUMNS = (Announcement.id, Announcement.story_key, Announcement.deleted_at, Announcement.updated_at)
_CHUNK = 500  # values per IN (...): SQLite and psycopg cap the parameters of one statement


def _rows_by_id(session: Session, ids: list[int]) -> list[Row[Any]]:
    """`_INDEX_COLUMNS` of these rows, in id order (read in chunks of `_CHUNK`)."""
    rows: list[Row[Any]] = []
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        rows += session.execute(select(*_INDEX_COLUMNS).where(Announcement.id.in_(chunk))).all()
    return sorted(rows, key=lambda r: r.id)


def _indexed_and_pending(rows: list[Row[Any]]) -> tuple[list[Row[Any]], list[Row[Any]]]:
    """(the rows with a story, the live rows without one): what the index is built from and what
    it takes next. One definition for the step, the crawl's draft and the draft's check."""
    return [r for r in rows if r.story_key], [r for r in rows if not r.story_key and r.deleted_at is None]


def _doc(row: Row[Any]) -> Doc:
    return Doc(url=row.url, title=row.title, text=row.body_text, published=row.published_at, source_id=row.source_id)


def _encode(values: np.ndarray) -> bytes:
    return values.astype("<u4").tobytes()


def _decode(blob: bytes | None) -> list[int] | None:
    return None if blob is None else np.frombuffer(blob, dtype="<u4").astype(np.uint32).tolist()


class StoryDraft:
    """The story index of the stored announcements with the pending ones added in id order: what
    the story step computes before it writes.

    `ropsfeed crawl` builds it while the crawl still runs (`DraftRun`), from the announcements
    stored so far, whenever the crawl is about to wait for its worker processes anyway (a full
    backlog of annotations, scrapers.pipelines): the step after the crawl then adds only what came
    after. The step uses it only if it still describes the database (`matches`); the decisions are
    the same either way, as the index takes the same announcements in the same order."""

    def __init__(self, indexed: list[Row[Any]]) -> None:
        self.index = StoryIndex.from_records(
            (str(r.id), _doc(r), r.story_key, _decode(r.dedup_signature)) for r in indexed
        )
        self.sizes = Counter(r.story_key for r in indexed)
        self.base = {r.id: r.story_key for r in indexed}  # the stories it was built on
        # per pending announcement added, in order: id, updated_at as read, story, joined another
        self.added: list[tuple[int, datetime, str, bool]] = []

    def add(self, pending: list[Row[Any]], executor: Executor | None = None,
            ahead: FeaturesAhead | None = None) -> None:  # fmt: skip
        added = self.index.add_many(((str(r.id), _doc(r)) for r in pending), executor=executor, ahead=ahead)
        for row, (_, story) in zip(pending, added, strict=True):
            self.added.append((row.id, row.updated_at, story, self.sizes[story] > 0))
            self.sizes[story] += 1

    def matches(self, indexed: list[Row[Any]], pending: list[Row[Any]]) -> bool:
        """Whether the database still holds what this was built from: the same stories, and the
        announcements added still the first pending ones, unchanged (another run's story step,
        an edited or deleted page since: no)."""
        if len(pending) < len(self.added) or {r.id: r.story_key for r in indexed} != self.base:
            return False
        return all(
            (r.id, r.updated_at) == (id_, seen)
            for r, (id_, seen, _, _) in zip(pending[: len(self.added)], self.added, strict=True)
        )


def assign_stories(
    database_url: str,
    executor: Executor | None = None,
    ahead: FeaturesAhead | None = None,
    draft: StoryDraft | None = None,
) -> StoryReport:
    """Give every live announcement without a story its story, and refresh the stories it touched
    — and those whose members were deleted (tombstoned) or came back since their last refresh.

    `executor`: a process pool already running (the crawl's worker processes) computes the
    comparison features while this process does the index work; `ahead`: the features the crawl's
    workers computed already (aggregator.dedup.ahead); `draft`: the index the crawl built so far
    (`DraftRun`), continued if it still matches the database. The decisions are the same either way."""
    ensure_schema(database_url)
    report = StoryReport()
    with session_scope(database_url) as session:
        stale = set(session.scalars(stale_story_keys()))
        draft, indexed, pending = _what_to_add(session, draft)
    assignments: dict[int, tuple[str, bytes, datetime]] = {}
    if draft is not None or pending:
        if draft is None:  # (no draft, or one out of date)
            draft = StoryDraft(indexed)
        report.drafted = len(draft.added)
        draft.add(pending, executor, ahead)
        for id_, seen, story, joined in draft.added:
            report.joined += joined
            assignments[id_] = (story, _encode(draft.index.signature_array(str(id_))), seen)
        report.ahead = ahead.hits if ahead is not None else 0
    if assignments or stale:
        with session_scope(database_url, write=True) as session:
            if assignments:  # one executemany, not one statement per announcement
                table = Announcement.__table__
                # Only rows still as read: a crawl may store a new text of one meanwhile (its
                # story_key cleared, updated_at moved) — that row waits for the next pass.
                result = session.execute(
                    update(table)
                    .where(table.c.id == bindparam("announcement_id"), table.c.story_key.is_(None),
                           table.c.updated_at == bindparam("seen"))
                    .values(story_key=bindparam("story"), dedup_signature=bindparam("signature")),
                    [{"announcement_id": id_, "story": story, "signature": blob, "seen": seen}
                     for id_, (story, blob, seen) in assignments.items()],
                )  # fmt: skip
                report.assigned = result.rowcount
            touched = {story for story, _, _ in assignments.values()} | stale
            refresh_stories(session, touched)
    with session_scope(database_url) as session:
        report.stories = session.scalar(select(func.count()).select_from(Story)) or 0
        report.multi_source = session.scalar(select(func.count()).select_from(Story).where(Story.size > 1)) or 0
    return report


class DraftRun:
    """A crawl run's `StoryDraft`, caught up with the database when the crawl has time for it.

    `catch_up` reads the announcements stored since the last call (the first call: all of them)
    and adds the pending ones, with the features the workers computed ahead. Nothing is written:
    the story step after the crawl decides, under its lock, whether the draft still holds. A
    database error leaves the whole work to that step."""

    def __init__(self, database_url: str, ahead: FeaturesAhead | None) -> None:
        self.database_url = database_url
        self.ahead = ahead
        self.draft: StoryDraft | None = None
        self.last_id = 0
        self.failed = False

    def catch_up(self) -> None:
        if self.failed:
            return
        try:
            with session_scope(self.database_url) as session:
                rows = session.execute(
                    select(*_INDEX_COLUMNS).where(Announcement.id > self.last_id).order_by(Announcement.id)
                ).all()
            indexed, pending = _indexed_and_pending(rows)
            if self.draft is None:
                self.draft = StoryDraft(indexed)
            self.draft.add(pending, ahead=self.ahead)
        except Exception as exc:  # the step after the crawl does it all, as without a draft
            # the driver's first line: SQLAlchemy's text adds the SQL and a link, lines of their own
            log.warning("stories: no index built during the crawl (%s: %s)", type(exc).__name__, database_reason(exc))
            self.failed, self.draft = True, None
            return
        if rows:
            self.last_id = rows[-1].id

    def result(self) -> StoryDraft | None:
        return None if self.failed else self.draft


# The drafts of the crawl runs of this process, by run id (as aggregator.dedup.ahead keeps features).
_DRAFTS: dict[str, DraftRun] = {}


def draft_for(run_id: str, database_url: str, ahead: FeaturesAhead | None) -> DraftRun:
    if run_id not in _DRAFTS:
        _DRAFTS[run_id] = DraftRun(database_url, ahead)
    return _DRAFTS[run_id]


def release_draft(run_id: str) -> StoryDraft | None:
    """The run's draft, forgotten here (its story step takes it)."""
    run = _DRAFTS.pop(run_id, None)
    return run.result() if run is not None else None


def _what_to_add(
    session: Session, draft: StoryDraft | None
) -> tuple[StoryDraft | None, list[Row[Any]], list[Row[Any]]]:
    """(the draft to continue or None, the rows with a story, the pending rows to add to the draft
    or to a new index). With a draft, every row's state is read first, without its text: only
    the rows the draft has not seen are read whole, if it still matches."""
    if draft is not None:
        states = session.execute(select(*_STATE_COLUMNS).order_by(Announcement.id)).all()
        indexed, pending = _indexed_and_pending(states)
        if not pending:
            return None, indexed, []  # nothing to decide
        if draft.matches(indexed, pending):
            return draft, indexed, _rows_by_id(session, [r.id for r in pending[len(draft.added) :]])
        log.info("stories: the index built during the crawl is out of date; building it again")
    rows = session.execute(select(*_INDEX_COLUMNS).order_by(Announcement.id)).all()
    return None, *_indexed_and_pending(rows)


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
    brings its story back under the same key).

    A handful of statements whatever the number of stories (a crawl's new announcements mostly
    open stories of their own): members, mentions and existing stories read in chunks, new
    stories in one insert, changed ones in one executemany."""
    live = Announcement.deleted_at.is_(None)
    session.execute(
        delete(Story).where(~Story.key.in_(select(Announcement.story_key).where(Announcement.story_key.is_not(None),
                                                                              live)))
    )  # fmt: skip
    if not keys:
        return
    ordered = sorted(keys)
    members: dict[str, list[Row[Any]]] = defaultdict(list)
    for start in range(0, len(ordered), _CHUNK):
        query = (
            select(*_MEMBER_COLUMNS)
            .where(Announcement.story_key.in_(ordered[start : start + _CHUNK]), live)
            .order_by(Announcement.story_key, Announcement.id)
        )
        for row in session.execute(query):
            members[str(row.story_key)].append(row)
    ids = [a.id for rows in members.values() for a in rows]
    publisher = dict(session.execute(select(Source.id, Source.entity_key)).all())
    mentioned: dict[int, set[str]] = defaultdict(set)
    for start in range(0, len(ids), _CHUNK):
        for announcement_id, key in session.execute(
            select(Mention.announcement_id, Entity.key).join(Entity, Entity.id == Mention.entity_id)
            .where(Mention.announcement_id.in_(ids[start : start + _CHUNK]))
        ):  # fmt: skip
            mentioned[announcement_id].add(key)
    existing: dict[str, int] = {}
    wanted = list(members)
    for start in range(0, len(wanted), _CHUNK):
        existing.update(
            session.execute(select(Story.key, Story.id).where(Story.key.in_(wanted[start : start + _CHUNK]))).all()
        )
    now = datetime.now(UTC)
    new_stories: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for key, rows in members.items():
        chosen = representative(rows, publisher, mentioned)
        dates = [r.published_at for r in rows if r.published_at]
        values = {"representative_id": chosen.id, "title": chosen.title, "size": len(rows),
                  "first_published_at": min(dates) if dates else None, "updated_at": now}  # fmt: skip
        if key in existing:  # bound as new_<column>: a column's own name is reserved in an UPDATE
            changed.append({"story_id": existing[key], **{f"new_{name}": value for name, value in values.items()}})
        else:
            new_stories.append({"key": key, **values})
    if new_stories:
        session.execute(insert(Story.__table__), new_stories)
    if changed:
        table = Story.__table__
        session.execute(
            update(table)
            .where(table.c.id == bindparam("story_id"))
            .values({name[4:]: bindparam(name) for name in changed[0] if name != "story_id"}),
            changed,
        )


def representative(rows: list[M], publisher: dict[str, str | None], mentioned: dict[int, set[str]]) -> M:
    """The issuing institution's own page — the member whose publisher the others name — else the
    earliest published (undated last), then the first stored."""

    # how many members name each institution: one pass, not one per member (a story re-posted on
    # fifty sites would cost 2,500 look-ups)
    naming = Counter(entity for row in rows for entity in mentioned.get(row.id, ()))

    def named_by_others(row: M) -> int:
        entity = publisher.get(row.source_id)
        return naming[entity] - (entity in mentioned.get(row.id, ())) if entity else 0

    def earliest(row: M) -> tuple[int, datetime, int]:
        when = row.published_at or datetime.max.replace(tzinfo=UTC)
        return (row.published_at is None, when, row.id)

    return min(rows, key=lambda r: (-named_by_others(r), *earliest(r)))
