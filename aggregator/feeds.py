"""The unified feed: Atom and RSS 2.0 (feedgen) and JSON Feed 1.1, newest first, with filters.

One entry per story: the representative page as the link, the other sites that carry the same
news as related links. Titles and summaries are plain text; links are always the real sites' URLs.
Entries given their content (aggregator.feed_content.load_content) also carry the full body — the
HTML nh3 sanitised at ingest (Atom `content`, RSS `content:encoded`, JSON Feed `content_html`) and
its clean text (`content_text`) — and the story's files: Atom enclosure links, JSON Feed
`attachments`, and in RSS (one enclosure per item, the picture's) a „Załączniki” list in the HTML.
"""

from __future__ import annotations

import html
import json
import mimetypes
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from feedgen.entry import FeedEntry as FeedgenEntry
from feedgen.feed import FeedGenerator
from sqlalchemy import ColumnElement, Row, Select, and_, case, func, literal, or_, select, text, union_all
from sqlalchemy.orm import Session, defer

from aggregator.choices import FEED_FORMATS as FORMATS
from aggregator.feed_content import FeedAttachment, attachments_html, load_content
from db.models import Announcement, AnnouncementVersion, CrawlRun, Entity, Mention, Source, Story
from db.search import parse_query, search_condition
from db.types import UTCDateTime
from scrapers.registry import VOIVODESHIPS, load_sources, voivodeship_named

FEED_TITLE = "ropsfeed – ogłoszenia regionalnych ośrodków polityki społecznej"
FEED_SUBTITLE = "Ogłoszenia MCPS, ROPS, RCPS, DOPS i urzędów marszałkowskich z 16 województw w jednym miejscu"
DEFAULT_BASE_URL = "http://127.0.0.1:8000/"
# A rare filter (the walk gave up) with at most this many matching announcements: list them and
# sort their stories; with more, walk on anyway.
MANY_MATCHES = 2000
WALK_FIRST_BATCH = 800  # candidates checked at first; the next batches are sized by the share that matched
WALK_MAX_BATCH = 6400
# A walk that would check more candidates than this for a page gives way to listing the matches
# (_few_matches), when there are few: below about one story in 80, the list is the cheaper.
WALK_BUDGET = 4000
# rows (offset + limit) by database; a deeper page, or an export, runs the filtered query
WALK_MAX_WANT = {"sqlite": 500, "postgresql": 5000}
BITMAP_BATCH = 100  # PostgreSQL: from this many candidates, a full-text check goes through the GIN index
WARSAW = ZoneInfo("Europe/Warsaw")
# A story first seen since `seen_since` but published longer than this before it is backfill
# (a newly added site, a `--full` re-walk), not news: digests leave it out.
BACKFILL_GRACE = timedelta(days=30)


@dataclass(frozen=True)
class FeedFilters:
    """Combined with AND; empty ones do not filter.

    The plural fields are a digest subscriber's interests: any of the listed values matches (a
    keyword matches when all its words occur). A single value and a list of the same kind combine
    into one list. `seen_since` keeps only stories none of whose pages was seen before it.
    """

    voivodeship: str | None = None
    source: str | None = None
    entity: str | None = None
    query: str | None = None
    limit: int = 50
    offset: int = 0  # for paging (the web page); feeds always start at the newest
    voivodeships: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    seen_since: datetime | None = None

    def __post_init__(self) -> None:
        # "Mazowieckie", "slaskie": the registry's spelling, which the sources table holds
        if self.voivodeship:
            object.__setattr__(self, "voivodeship", _voivodeship(self.voivodeship))
        object.__setattr__(self, "voivodeships", tuple(map(_voivodeship, self.voivodeships)))
        if not 1 <= self.limit <= 1000:
            raise ValueError("limit must be between 1 and 1000")
        if self.offset < 0:
            raise ValueError("offset must not be negative")
        if self.query:
            parse_query(self.query)  # a query without any word is refused here, with the reason

    def narrows(self) -> bool:
        return bool(self.voivodeship or self.source or self.entity or self.query or self.voivodeships
                     or self.sources or self.entities or self.searchable_keywords())  # fmt: skip

    def searchable_keywords(self) -> list[str]:
        """The keywords that hold a word (a keyword of punctuation only would match nothing)."""
        kept = []
        for keyword in self.keywords:
            try:
                parse_query(keyword)
            except ValueError:
                continue
            kept.append(keyword)
        return kept

    def query_string(self) -> str:
        pairs = [(k, v) for k, v in (("voivodeship", self.voivodeship), ("source", self.source),
                                     ("entity", self.entity), ("q", self.query)) if v]  # fmt: skip
        return urlencode(pairs)


def _voivodeship(value: str) -> str:
    named = voivodeship_named(value)
    if named is None:
        raise ValueError(f"unknown voivodeship {value!r}; use one of: {', '.join(VOIVODESHIPS)}")
    return named


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
    story_key: str | None = None  # None: not deduplicated yet, the announcement stands alone
    announcement_id: int | None = None  # the representative, for the web page's links
    sources_count: int = 1  # announcements carrying the story (several sites, reposts)
    sources: list[str] = field(default_factory=list)  # every page's source id, the representative's first
    image: str | None = None  # the representative's first picture (announcements.images)
    # the last time a crawl or a reparse wrote the representative or a live page of its story (its
    # text, its files: `db.store` moves `updated_at` for a change of files alone): for the feeds'
    # ETag (aggregator/web/feed_urls.py), never shown (see `_updated`)
    changed_at: datetime | None = None
    # filled by load_content (feeds only; None: not loaded, and the feed shows the lead alone)
    content_html: str | None = None
    content_text: str | None = None
    attachments: list[FeedAttachment] = field(default_factory=list)


def as_utc(value: datetime | str) -> datetime:
    """A raw SQL expression result: SQLite gives a naive string or datetime, PostgreSQL an aware one."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def base_url() -> str:
    url = os.environ.get("ROPSFEED_BASE_URL") or DEFAULT_BASE_URL
    return url if url.endswith("/") else url + "/"


def _merged(single: str | None, many: Iterable[str]) -> list[str]:
    return list(dict.fromkeys([*([single] if single else []), *(v for v in many if v)]))


def _candidates(
    filters: FeedFilters,
    dialect: str,
    where: Sequence[ColumnElement[bool]] = (),
    matches: tuple[set[str], list[int]] | None = None,
    *,
    filtered: bool = True,
) -> list[Select[tuple[int, datetime | None, datetime]]]:
    """The feed's rows, unordered (see _newest): story representatives, and announcements not yet
    deduplicated (each a story of its own); a story is kept when any of its announcements matches
    every filter. Narrow (ids and dates) so that sorting candidates never drags their texts along,
    and two plain sets rather than one `LEFT JOIN … OR`, which PostgreSQL misjudges into full scans.
    `where` narrows the rows further (a digest leaves out what the subscriber already got).
    `matches` (from _few_matches): the matching story keys and undeduplicated ids, when few.
    `filtered=False` leaves the filters out (the caller checks the rows itself: _walk)."""
    columns = (Announcement.id, Announcement.published_at, Announcement.first_seen_at)
    represents = and_(Story.representative_id == Announcement.id, Story.key == Announcement.story_key)
    if dialect == "sqlite":
        # SQLite would drive a join from `stories` and sort; EXISTS keeps it walking the feed index.
        represented = select(*columns).where(select(Story.id).where(represents).exists())
    else:
        # PostgreSQL: a semi-join on the representative alone. With the (representative, key) pair as
        # a join condition it multiplies the two selectivities, expects one row, and then re-runs the
        # filters' subqueries for every candidate (250 ms at 2k rows). A representative's key is its
        # story's: the story code sets both together; an edited page (key reset) is not a candidate.
        represented = select(*columns).where(
            Announcement.story_key.is_not(None), Announcement.id.in_(select(Story.representative_id))
        )
    # Tombstones (pages the site deleted) never represent a story (aggregator.stories keeps every
    # representative live); the few rows without a story are checked here.
    alone = select(*columns).where(Announcement.story_key.is_(None), Announcement.deleted_at.is_(None))
    if matches is not None:
        # Few matches: both planners drive the query from the list and sort a handful of rows.
        represented = represented.where(Announcement.story_key.in_(matches[0]))
        alone = alone.where(Announcement.id.in_(matches[1]))
    elif filtered and filters.narrows():
        # On SQLite, `story_key || ''` and `id + 0` keep the planner from driving the query from the
        # (possibly huge) list of matches and sorting them: it walks the feed index and probes the list.
        story_key = Announcement.story_key + literal("") if dialect == "sqlite" else Announcement.story_key
        own_id = Announcement.id + 0 if dialect == "sqlite" else Announcement.id
        represented = represented.where(story_key.in_(matching_members(filters, dialect, Announcement.story_key)))
        alone = alone.where(own_id.in_(matching_members(filters, dialect, Announcement.id)))
    if filters.seen_since:
        # news for a digest: deduplicated stories none of whose pages was seen before `seen_since`
        seen_before = select(Announcement.story_key).where(
            Announcement.story_key.is_not(None), Announcement.first_seen_at < filters.seen_since
        )
        represented = represented.where(
            Announcement.story_key.not_in(seen_before), feed_date() >= filters.seen_since - BACKFILL_GRACE
        )
        return [represented.where(*where)]
    return [represented.where(*where), alone.where(*where)]


def _few_matches(session: Session, filters: FeedFilters, dialect: str) -> tuple[set[str], list[int]] | None:
    """The story keys (and undeduplicated ids) of the announcements matching the filters, if there
    are at most MANY_MATCHES of them. A rare word or a small institution would otherwise make the
    planners walk the whole feed index looking for 50 rows that are not there (seconds at 100k)."""
    if not filters.narrows():
        return None
    members = matching_members(filters, dialect, Announcement.story_key, Announcement.id)
    rows = session.execute(members.limit(MANY_MATCHES + 1)).all()
    if len(rows) > MANY_MATCHES:
        return None
    return {key for key, _ in rows if key is not None}, sorted({id_ for key, id_ in rows if key is None})


def matching_members(
    filters: FeedFilters,
    dialect: str,
    column: ColumnElement[Any],
    *more: ColumnElement[Any],
    within: Sequence[ColumnElement[bool]] = (),
) -> Any:
    """`column` (and `more`) of every announcement that matches all the filters itself (a select);
    `within` limits the announcements looked at (a batch of the feed being walked)."""
    member = select(column, *more).join(Source, Source.id == Announcement.source_id).where(*within)
    if voivodeships := _merged(filters.voivodeship, filters.voivodeships):
        member = member.where(Source.voivodeship.in_(voivodeships))
    if sources := _merged(filters.source, filters.sources):
        member = member.where(Announcement.source_id.in_(sources))
    if filters.query:
        member = member.where(search_condition(dialect, Announcement.id, Announcement.search_terms, filters.query))
    if keywords := filters.searchable_keywords():
        member = member.where(
            or_(*(search_condition(dialect, Announcement.id, Announcement.search_terms, k) for k in keywords))
        )
    entities = _merged(filters.entity, filters.entities)
    if not entities:
        return member
    wanted = select(Entity.id).where(or_(*(_names_entity(e) for e in entities)))
    keys = select(Entity.key).where(Entity.id.in_(wanted))
    mentioned = select(Mention.announcement_id).where(Mention.entity_id.in_(wanted))
    # Two branches rather than one OR, so each is driven by its own index.
    return union_all(member.where(Announcement.id.in_(mentioned)), member.where(Source.entity_key.in_(keys)))


def _names_entity(value: str) -> ColumnElement[bool]:
    """The entities an `--entity` value names: its key, its canonical name, its acronym in any case
    ("rops", "Mcps"), or any way an analyst writes the name — lower case, without diacritics,
    inflected ("mazowieckie centrum polityki spolecznej", "Mazowieckiego Centrum Polityki
    Społecznej", "ROPS w Białymstoku") — read by the entity layer into the key a crawl stores.

    Not SQL's lower(): SQLite's folds only ASCII, so "… w łodzi" found RCPS w Łodzi on PostgreSQL
    and nothing on SQLite."""
    return or_(
        Entity.key == value,
        Entity.key.in_(linked_entity_keys(value)),
        func.lower(Entity.canonical) == value.lower(),
        func.upper(Entity.acronym) == value.upper(),
    )


@lru_cache(maxsize=4096)
def linked_entity_keys(value: str) -> tuple[str, ...]:
    """The key of the one institution `value` (a name of several words) names as a whole, as the
    entity layer links a mention in a page, so the key is the one a crawl stored; () when it names
    none or several. An acronym the gazetteer knows may be typed in lower case ("rops w
    bialymstoku")."""
    text = " ".join(value.split())
    if " " not in text:
        return ()  # a key, an acronym or one word: _names_entity's own comparisons (no morfeusz2 to load)
    from aggregator.entities import analyse_text, gazetteer

    attempts = [text]
    acronyms = {e.acronym.upper(): e.acronym for e in gazetteer() if e.acronym}
    words = text.split(" ")
    if any(w.upper() in acronyms and w != acronyms[w.upper()] for w in words):
        attempts.append(" ".join(acronyms.get(w.upper(), w) for w in words))
    for attempt in attempts:
        mentions = analyse_text(attempt)
        if len(mentions) == 1 and (mentions[0].char_start, mentions[0].char_end) == (0, len(attempt)):
            return (mentions[0].entity.key,)
    return ()


def _newest(
    session: Session,
    filters: FeedFilters,
    offset: int = 0,
    limit: int | None = None,
    where: Sequence[ColumnElement[bool]] = (),
) -> list[tuple[int, Any]]:
    """(id, feed date) of a page of the feed, ordered as `ORDER BY feed_date() DESC NULLS LAST, id
    DESC`, without computing feed_date() for every row: per candidate set, the dated rows come from
    the published_at index newest first, the few undated ones separately (fresh ones by first sight,
    backfill by id), and the top of each list is merged (100k rows: milliseconds, not seconds).
    `limit` overrides the filters' (an export may want every row)."""
    want = offset + (filters.limit if limit is None else limit)
    first_runs = {
        source_id: as_utc(finished)
        for source_id, finished in session.execute(
            select(CrawlRun.source_id, func.min(CrawlRun.finished_at))
            .where(CrawlRun.met_the_site())  # (the first of these ends the site's backlog)
            .group_by(CrawlRun.source_id)
        )
        if finished is not None
    }
    first_run_end = (
        case({k: literal(v, UTCDateTime()) for k, v in first_runs.items()}, value=Announcement.source_id, else_=None)
        if first_runs
        else None
    )
    # Implied by `first_seen_at > first_run_end`, but a range the undated index (0010) can seek to.
    fresh_bound = Announcement.first_seen_at > literal(min(first_runs.values()), UTCDateTime()) if first_runs else None
    # Undated announcements that are news (first seen after their source's first crawl) are rare:
    # one cheap look saves the filtered query for them when there are none.
    any_fresh = first_run_end is not None and (
        session.scalar(
            select(Announcement.id)
            .where(Announcement.published_at.is_(None), fresh_bound, Announcement.first_seen_at > first_run_end)
            .limit(1)
        )
        is not None
    )
    dialect = session.get_bind().dialect.name
    # A filter: walk the feed newest first and check each batch against the filters, instead of
    # working out every matching story first (100-200 ms for an institution or a common word on
    # PostgreSQL). A broad filter fills a page within the first batch or two. When the first
    # batches say the walk would be long (a rare filter), the matches are listed instead, if few.
    # Digests (`seen_since`) keep the one filtered query: their window is small and its condition
    # would be re-run for every batch. So do exports and, on SQLite, deep pages: for a thousand rows,
    # one filtered query beats a walk there (offset 950 of a common word: 120 ms against 240 ms at
    # 100k). Not on PostgreSQL, where that query's plan flips with the statistics (the same page in
    # 0.2 s or in 9 s from one ANALYZE to the next); the walk takes 0.3 s, whatever the statistics.
    walk = filters.narrows() and filters.seen_since is None and want <= WALK_MAX_WANT.get(dialect, 0)
    bases = _candidates(filters, dialect, where, filtered=not walk)
    checks = [_batch_check(session, filters, dialect, alone) if walk else None for alone in (False, True)]
    newest: list[tuple[int, Any]] | None = None
    if walk:
        dated = bases[0].where(Announcement.published_at.is_not(None))
        newest = _walk(session, dated, Announcement.published_at, want, checks[0], budget=WALK_BUDGET)
        if newest is None and (matches := _few_matches(session, filters, dialect)) is not None:
            bases, checks = _candidates(filters, dialect, where, matches), [None, None]
    appeared: list[tuple[int, Any]] = []
    for number, (base, check) in enumerate(zip(bases, checks, strict=False)):
        dated = base.where(Announcement.published_at.is_not(None))
        if number or newest is None or check is None:
            newest = _walk(session, dated, Announcement.published_at, want, check)
        appeared += newest or []
        if first_run_end is not None and any_fresh:
            fresh = base.where(
                Announcement.published_at.is_(None), fresh_bound, Announcement.first_seen_at > first_run_end
            )
            appeared += _walk(session, fresh, Announcement.first_seen_at, want, check) or []
    appeared.sort(key=lambda row: (row[1], row[0]), reverse=True)
    order: list[tuple[int, Any]] = appeared[:want]
    if len(order) < want:
        backfill: list[int] = []
        for base, check in zip(bases, checks, strict=False):
            undated = base.where(Announcement.published_at.is_(None))
            if first_run_end is not None:
                undated = undated.where(or_(first_run_end.is_(None), Announcement.first_seen_at <= first_run_end))
            backfill += [id_ for id_, _ in _walk(session, undated, None, want - len(order), check) or []]
        order += [(id_, None) for id_ in sorted(backfill, reverse=True)[: want - len(order)]]
    return order[offset:]


def _walk(
    session: Session,
    base: Select[Any],
    key: Any,
    want: int,
    check: Callable[[list[Row[Any]]], set[Any]] | None,
    budget: int | None = None,
) -> list[tuple[int, Any]] | None:
    """The first `want` rows of `base` ordered by `key` (None: by id alone) then id, newest first,
    as (id, key value), keeping only those `check` passes. Without a check: one query. With one:
    batches, each continuing where the last stopped (keyset, so every batch is an index range).
    None when the share of matches so far says more than `budget` candidates would be needed."""
    order = (key.desc(), Announcement.id.desc()) if key is not None else (Announcement.id.desc(),)
    # Only columns of the feed index: on SQLite, first_seen_at sits behind the bodies in the row
    # (overflow pages), and reading it for thousands of dated candidates cost more than the walk.
    query = base.with_only_columns(Announcement.id, key if key is not None else literal(None), Announcement.story_key)
    if check is None:
        return [(row[0], row[1]) for row in session.execute(query.order_by(*order).limit(want))]
    found: list[tuple[int, Any]] = []
    size, after, seen = WALK_FIRST_BATCH, None, 0
    while len(found) < want:
        batch = query
        if after is not None:
            last_id, last_key = after
            batch = batch.where(
                Announcement.id < last_id
                if key is None
                else and_(key <= last_key, or_(key < last_key, Announcement.id < last_id))
            )
        rows = session.execute(batch.order_by(*order).limit(size)).all()
        passed = check(rows)
        found += [(row[0], row[1]) for row in rows if row[0] in passed]
        if len(rows) < size:
            break
        after, seen = (rows[-1][0], rows[-1][1]), seen + len(rows)
        if len(found) < want and budget is not None and (not found or want * seen / len(found) > budget):
            return None
        # the next batch: what the share of matches so far says is needed, with a margin
        size = WALK_MAX_BATCH if not found else int((want - len(found)) * seen / len(found) * 1.5)
        size = max(WALK_FIRST_BATCH // 4, min(size, WALK_MAX_BATCH))
    return found[:want]


def _batch_check(
    session: Session, filters: FeedFilters, dialect: str, alone: bool
) -> Callable[[list[Row[Any]]], set[int]]:
    """For _walk: the ids among a batch of candidates (id, order key, story_key) whose story has an
    announcement matching every filter (for announcements without a story: which match themselves)."""

    def check(rows: list[Row[Any]]) -> set[int]:
        if not rows:
            return set()
        if alone:
            ids = [row[0] for row in rows]
            members = matching_members(filters, dialect, Announcement.id, within=[Announcement.id.in_(ids)])
            return set(_members(session, members, dialect, searches and len(rows) >= BITMAP_BATCH))
        keys = {row[-1] for row in rows}
        members = matching_members(filters, dialect, Announcement.story_key, within=[Announcement.story_key.in_(keys)])
        matched = set(_members(session, members, dialect, searches and len(rows) >= BITMAP_BATCH))
        return {row[0] for row in rows if row[-1] in matched}

    searches = bool(filters.query or filters.searchable_keywords())
    return check


def _members(session: Session, members: Any, dialect: str, bitmaps: bool) -> list[Any]:
    """Run a batch check. PostgreSQL, with a full-text search among the filters (`bitmaps`): plain
    index scans off for this statement, so the batch's rows are found by ANDing the story-key and GIN
    bitmaps. Else the planner reads the batch's rows by story key and computes to_tsvector() of each
    (0.1 ms a row: 130 ms for a batch of 400 stories, against 5 ms for the bitmaps; EXPLAIN ANALYZE
    at 100k). Not for a handful of rows (BITMAP_BATCH), which the GIN scan would cost more than.
    Both settings are this transaction's only and restored after the statement."""
    if dialect != "postgresql" or not bitmaps:
        return list(session.scalars(members))
    # JIT too: a disabled node left in a plan costs 1e10, far past jit_above_cost, and compiling the
    # check took 85 ms in some runs (bench_feed: p95 130 ms instead of 50 for a word in 1 story of 30).
    previous = session.execute(text("SELECT current_setting('enable_indexscan'), current_setting('jit')")).one()
    session.execute(text("SELECT set_config('enable_indexscan', 'off', true), set_config('jit', 'off', true)"))
    try:
        return list(session.scalars(members))
    finally:
        session.execute(
            text("SELECT set_config('enable_indexscan', :scan, true), set_config('jit', :jit, true)"),
            {"scan": previous[0], "jit": previous[1]},
        )


def feed_date() -> Any:
    """When an announcement appeared: its publication date; for a site that shows none, the time it
    was first seen, but only if that was after the source's first crawl (before, it is backfill of
    unknown age and must not pose as today's news)."""
    first_run_end = (
        select(func.min(CrawlRun.finished_at))
        .where(CrawlRun.source_id == Announcement.source_id, CrawlRun.met_the_site())
        .scalar_subquery()
    )
    return func.coalesce(
        Announcement.published_at,
        case((Announcement.first_seen_at > first_run_end, Announcement.first_seen_at), else_=None),
    )


def check_source(session: Session, source: str | None) -> None:
    """`--source` must name a source: the registry's, or one the database still holds (a source
    taken out of the registry keeps its announcements). A typo otherwise printed an empty feed or
    export with exit status 0, which a script cannot tell from a quiet source; `subscribers add`
    refuses it the same way. Raises ValueError with the line to print."""
    if not source:
        return
    known = {s.id for s in load_sources()} | set(session.scalars(select(Source.id)))
    if source not in known:
        raise ValueError(f"unknown source {source!r}; see `ropsfeed sources`")


def select_entries(
    session: Session,
    filters: FeedFilters,
    where: Sequence[ColumnElement[bool]] = (),
    *,
    offset: int | None = None,
    content: bool = False,
) -> list[FeedEntry]:
    """The feed's entries, newest first; `offset` (else the filters' own) skips that many; `where`
    narrows the stories further; `content`: with their bodies and files (load_content), for a feed."""
    entries = _entries(session, _newest(session, filters, filters.offset if offset is None else offset, where=where))
    if content:
        load_content(session, entries)
    return entries


def count_entries(
    session: Session, filters: FeedFilters, where: Sequence[ColumnElement[bool]] = (), *, cap: int | None = None
) -> int:
    """How many stories match `filters` (limit and offset ignored); with `cap`, counting stops at
    `cap` (a page says "more than 1000" rather than scanning everything for an exact figure)."""
    dialect = session.get_bind().dialect.name
    if cap is not None and filters.narrows() and dialect == "postgresql":
        # The first `cap` entries through the feed's own walk: PostgreSQL's plan for the plain
        # filtered count depends on its statistics and took seconds for a common word at 100k.
        return len(_newest(session, filters, 0, limit=cap, where=where))
    total = 0
    for base in _candidates(filters, dialect, where):
        ids = base.with_only_columns(Announcement.id)
        if cap is not None:
            ids = ids.limit(max(cap - total, 0))
        total += session.scalar(select(func.count()).select_from(ids.subquery())) or 0
    return total if cap is None else min(total, cap)


def iter_entries(
    session: Session, filters: FeedFilters, limit: int | None = None, chunk: int = 500
) -> Iterator[FeedEntry]:
    """Every entry of the feed (or the first `limit`), newest first, built `chunk` at a time."""
    total = session.scalar(select(func.count()).select_from(Announcement)) or 0
    order = _newest(session, filters, 0, total if limit is None else limit)
    for start in range(0, len(order), chunk):
        yield from _entries(session, order[start : start + chunk])


def _entries(session: Session, order: list[tuple[int, Any]]) -> list[FeedEntry]:
    bulky = (Announcement.body_text, Announcement.body_html, Announcement.search_text, Announcement.search_terms,
             Announcement.dedup_signature)  # fmt: skip
    loaded = {
        a.id: (a, s)
        for a, s in session.execute(
            select(Announcement, Source)
            .join(Source, Source.id == Announcement.source_id)
            .where(Announcement.id.in_([id_ for id_, _ in order]))
            .options(*(defer(column) for column in bulky))  # entries never show bodies: not loaded
        ).all()
    }
    rows = [(*loaded[id_], appeared) for id_, appeared in order]
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
    # the last edit a crawl saw of each: the version row it kept of the text before
    edited: dict[int, datetime] = {
        announcement_id: as_utc(replaced)
        for announcement_id, replaced in session.execute(
            select(AnnouncementVersion.announcement_id, func.max(AnnouncementVersion.replaced_at))
            .where(AnnouncementVersion.announcement_id.in_([a.id for a, _, _ in rows]))
            .group_by(AnnouncementVersion.announcement_id)
        )
    }
    others: dict[str, list[tuple[int, str, str]]] = {}
    story_changed: dict[str, datetime] = {}
    for story_key, announcement_id, url, source_id, updated_at in session.execute(
        select(Announcement.story_key, Announcement.id, Announcement.url, Announcement.source_id,
               Announcement.updated_at)
        .where(Announcement.story_key.in_(keys), Announcement.deleted_at.is_(None))
        .order_by(Announcement.published_at, Announcement.id)
    ):  # fmt: skip
        others.setdefault(str(story_key), []).append((announcement_id, url, source_id))
        if updated_at is not None:
            stamp = as_utc(updated_at)
            story_changed[str(story_key)] = max(stamp, story_changed.get(str(story_key), stamp))
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
                updated=_updated(announcement, published, edited.get(announcement.id)).astimezone(WARSAW),
                source_id=source.id,
                institution=source.institution,
                voivodeship=source.voivodeship,
                categories=list(announcement.categories or []),
                institutions=institutions.get(announcement.id, []),
                other_urls=[u for i, u, _ in others.get(str(announcement.story_key), []) if i != announcement.id],
                story_key=announcement.story_key,
                announcement_id=announcement.id,
                sources_count=max(1, len(others.get(str(announcement.story_key), []))),
                sources=_merged(source.id, (s for _, _, s in others.get(str(announcement.story_key), []))),
                image=next((str(i["url"]) for i in announcement.images or [] if i.get("url")), None),
                changed_at=max(
                    (as_utc(a) for a in (announcement.updated_at, story_changed.get(str(announcement.story_key))) if a),
                    default=None,
                ),
            )
        )
    return entries


def _updated(announcement: Announcement, published: datetime | None, edited: datetime | None) -> datetime:
    """An entry's `updated` (Atom; JSON Feed's date_modified): the latest of its publication, the
    site's own modification date, the last edit a crawl saw (`edited`: the version row kept of the
    text before), and the last change of its files alone a crawl saw (`files_changed_at`: a form
    added, a file replaced under the same name; before, the ETag moved and readers showed the
    entry unchanged). Not the row's `updated_at`: the first crawl writes years of backlog in one
    night, and `reparse` rewrites every row a parser fix touches, and with it readers that sort by
    `updated` showed news from 2006 as today's."""
    changes = [
        day for day in (published, announcement.modified_at, edited, announcement.files_changed_at) if day is not None
    ]
    return max(changes, default=announcement.first_seen_at)


class _AtomLinksEntry(FeedgenEntry):
    """feedgen's entry, its Atom links written with the attributes they were given.

    feedgen 1.0.0 writes an entry's Atom `<link>`s with their href only (lkiesow/python-feedgen#135,
    open): a story's other pages (rel="related") and its picture (rel="enclosure") read as more
    alternate links, and readers opened the last of them instead of the story's own page."""

    def atom_entry(self, extensions: bool = True) -> Any:
        entry = super().atom_entry(extensions)
        written, given = [element for element in entry if element.tag == "link"], self.link() or []
        if len(written) == len(given):  # one element per link, in order (else feedgen changed: leave it)
            for element, link in zip(written, given, strict=True):
                for name in ("rel", "type", "hreflang", "title", "length"):
                    # length "0" is RSS's "unknown" (it requires one); Atom's is optional: left out
                    if link.get(name) and not (name == "length" and str(link[name]) == "0"):
                        element.set(name, str(link[name]))
        return entry


def _feed_generator(
    entries: Sequence[FeedEntry], filters: FeedFilters, feed_format: str, title: str = FEED_TITLE
) -> FeedGenerator:
    """The Atom or RSS document: built per format, because feedgen gives an RSS item's single
    enclosure to the last enclosure link, and Atom's links to the files must not take the picture's."""
    home = base_url()
    query = filters.query_string()
    self_path = f"feed.{feed_format}"
    generator = FeedGenerator()
    generator.id(home + self_path + (f"?{query}" if query else ""))
    generator.title(title)
    generator.subtitle(FEED_SUBTITLE)
    generator.description(FEED_SUBTITLE)
    generator.language("pl")
    # the self link first: feedgen gives RSS's channel <link> the last one, which must be the page
    generator.link(href=home + self_path + (f"?{query}" if query else ""), rel="self")
    generator.link(href=home + (f"?{query}" if query else ""), rel="alternate")
    generator.generator("ropsfeed")
    generator.updated(max((e.updated for e in entries), default=datetime(2000, 1, 1, tzinfo=UTC)))
    for entry in entries:
        item = generator.add_entry(_AtomLinksEntry(), order="append")  # feedgen prepends by default
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
        if feed_format == "atom":
            for attachment in entry.attachments:
                length = {"length": str(attachment.size_in_bytes)} if attachment.size_in_bytes else {}
                item.link(href=attachment.url, rel="enclosure", type=attachment.mime_type, title=attachment.title,
                          **length)  # fmt: skip
            if entry.content_html:
                item.content(entry.content_html, type="html")
        elif entry.attachments or entry.content_html:
            # RSS: the lead with the files in the description; the body, with the files it does
            # not link itself, as content:encoded (which readers show instead, when it is there)
            if entry.attachments:
                lead = html.escape(entry.summary or entry.title)
                item.description(f"<p>{lead}</p>{attachments_html(entry.attachments)}")
            if entry.content_html:
                unlinked = [a for a in entry.attachments if not _links_to(entry.content_html, a.url)]
                item.content(entry.content_html + attachments_html(unlinked), type="html")
        # the picture (after the files: feedgen's RSS enclosure is the last enclosure link)
        if entry.image and (kind := mimetypes.guess_type(urlsplit(entry.image).path)[0] or "").startswith("image/"):
            item.enclosure(entry.image, "0", kind)  # RSS requires a length: 0, unknown (the file is the site's)
        item.author({"name": entry.institution})
        for term in (entry.voivodeship, entry.source_id, *entry.institutions, *entry.categories):
            item.category(term=term)
    return generator


def _links_to(body: str, url: str) -> bool:
    """Whether HTML serialised by nh3 (html5ever: `&` and `"` escaped in attributes) links to `url`."""
    escaped = url.replace("&", "&amp;").replace('"', "&quot;")
    return f'href="{escaped}"' in body


def render(entries: Sequence[FeedEntry], filters: FeedFilters, feed_format: str, *, title: str = FEED_TITLE) -> str:
    """The feed document; `title` its name in a feed reader (the web's feeds name their filters)."""
    if feed_format == "atom":
        return _feed_generator(entries, filters, "atom", title).atom_str(pretty=True).decode("utf-8")
    if feed_format == "rss":
        return _feed_generator(entries, filters, "rss", title).rss_str(pretty=True).decode("utf-8")
    if feed_format == "json":
        return render_json(entries, filters, title=title)
    raise ValueError(f"unknown feed format {feed_format!r}; use one of: {', '.join(FORMATS)}")


def render_json(entries: Sequence[FeedEntry], filters: FeedFilters, *, title: str = FEED_TITLE) -> str:
    """JSON Feed 1.1 (https://jsonfeed.org/version/1.1), with our fields under `_ropsfeed`."""
    home = base_url()
    query = filters.query_string()
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": title,
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
                **({"content_html": e.content_html} if e.content_html else {}),
                "content_text": e.content_text or e.summary or e.title,
                **({"date_published": e.published.isoformat()} if e.published else {}),
                "date_modified": e.updated.isoformat(),
                **({"image": e.image} if e.image else {}),
                "authors": [{"name": e.institution}],
                "tags": [e.voivodeship, e.source_id, *e.institutions, *e.categories],
                **({"attachments": [_json_attachment(a) for a in e.attachments]} if e.attachments else {}),
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


def _json_attachment(attachment: FeedAttachment) -> dict[str, Any]:
    """A JSON Feed attachment; `size_in_bytes` only when exact (aggregator.feed_content), the
    site's own words for the size and the link's file type under `_ropsfeed`."""
    ours = {"file_type": attachment.file_type, "size": attachment.size}
    return {
        "url": attachment.url,
        "mime_type": attachment.mime_type,
        "title": attachment.title,
        **({"size_in_bytes": attachment.size_in_bytes} if attachment.size_in_bytes is not None else {}),
        **({"_ropsfeed": {k: v for k, v in ours.items() if v}} if any(ours.values()) else {}),
    }
