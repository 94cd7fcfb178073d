"""Writing crawl results: announcements (new / updated with a kept version / unchanged), their
attachments, the raw page archive, sources and crawl runs.

Writes come in batches inside one transaction each, so a crash loses at most the open batch and
never leaves a half-written announcement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import and_, bindparam, delete, or_, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session, defer
from sqlalchemy.orm.attributes import set_committed_value

from db.clean import clean_item, clean_raws, shown
from db.models import (
    Announcement,
    AnnouncementVersion,
    Attachment,
    CrawlRun,
    Entity,
    EventDate,
    Mention,
    RawPage,
    Source,
)
from db.search import fold, search_fields
from db.upsert import insert_for, insert_rows, upsert, upsert_statement

if TYPE_CHECKING:
    from aggregator.annotate import Annotations
    from scrapers.items import AnnouncementItem, RawResponse
    from scrapers.registry import SourceConfig


class EntityLike(Protocol):
    key: str
    canonical: str
    acronym: str | None
    kind: str
    voivodeship: str | None
    website: str | None


Annotator = Callable[["AnnouncementItem", datetime], "Annotations"]
# (search_text, search_terms) of an item, e.g. computed ahead in the annotation worker
SearchFields = Callable[["AnnouncementItem"], tuple[str, str]]


class RefusedItem(ValueError):
    """An announcement the database cannot take whatever is tried (db/clean.py: its URL is too
    long); the crawl's pipeline gives it up alone and stores the rest of its batch."""


@dataclass
class BatchResult:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0  # tombstoned: the site deleted the page
    restored: int = 0  # tombstones whose page came back (also counted as updated or unchanged)
    # pages whose stored text was kept because the page now has none (only a picture or a file)
    kept_text: list[str] = field(default_factory=list)

    def __iadd__(self, other: BatchResult) -> BatchResult:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.deleted += other.deleted
        self.restored += other.restored
        self.kept_text += other.kept_text
        return self


def fold_for_search(*parts: str) -> str:
    """Lower case without diacritics (ł, Ł included): the form both the column and queries take."""
    return " ".join(fold(" ".join(parts)).split())


def sync_sources(session: Session, sources: Iterable[SourceConfig]) -> None:
    rows = [
        {
            "id": s.id,
            "institution": s.institution,
            "voivodeship": s.voivodeship,
            "platform": s.platform,
            "base_url": s.base_url,
            "verified": s.verified,
            "note": s.note,
            "enabled": s.enabled,
            "entity_key": s.entity,
            "updated_at": datetime.now(UTC),
        }
        for s in sources
    ]
    upsert(session, Source.__table__, rows, ["id"], [k for k in rows[0] if k != "id"] if rows else [])


def sync_entities(session: Session, entities: Iterable[EntityLike]) -> None:
    """The gazetteer in the entities table: known institutions exist before any mention of them."""
    rows = [
        {"key": e.key, "canonical": e.canonical, "acronym": e.acronym, "kind": e.kind, "voivodeship": e.voivodeship,
         "website": e.website, "in_gazetteer": True, "aliases": [], "created_at": datetime.now(UTC)}
        for e in entities
    ]  # fmt: skip
    upsert(session, Entity.__table__, rows, ["key"], ["canonical", "acronym", "kind", "voivodeship", "website",
                                                      "in_gazetteer"])  # fmt: skip


def entity_ids(session: Session, entities: Iterable[EntityLike], surfaces: dict[str, set[str]]) -> dict[str, int]:
    """Ids of the given entities, creating the unknown ones; new surface forms join their aliases.

    Plain column reads, not ORM objects: this runs for every stored batch, and only the id and the
    aliases of a known entity are needed.
    """
    by_key = {e.key: e for e in entities}
    if not by_key:
        return {}
    table = Entity.__table__  # Core columns: a select of ORM attributes loads its rows through the ORM
    known = session.execute(select(table.c.key, table.c.id, table.c.aliases).where(table.c.key.in_(by_key))).all()
    ids = {key: int(id_) for key, id_, _ in known}
    missing = [
        {"key": e.key, "canonical": e.canonical, "acronym": e.acronym, "kind": e.kind, "voivodeship": e.voivodeship,
         "website": e.website, "in_gazetteer": False, "aliases": sorted(surfaces.get(e.key, ())),
         "created_at": datetime.now(UTC)}
        for key, e in by_key.items() if key not in ids
    ]  # fmt: skip
    if missing:
        statement = insert_for(session, Entity.__table__)
        session.execute(statement.on_conflict_do_nothing(index_elements=["key"]), missing)
        # the new ones, and any a concurrent writer created first (its row stands)
        created = select(table.c.key, table.c.id).where(table.c.key.in_([row["key"] for row in missing]))
        ids.update((key, int(id_)) for key, id_ in session.execute(created))
    grown = [
        {"entity_id": id_, "aliases": sorted({*(aliases or []), *new_forms})}
        for key, id_, aliases in known
        if (new_forms := surfaces.get(key, set()) - set(aliases or []))
    ]
    if grown:  # one executemany UPDATE (a Core one: no Entity objects are loaded to keep in step)
        session.execute(update(table).where(table.c.id == bindparam("entity_id")), grown)
    return ids


def save_annotations(session: Session, announcement_id: int, annotations: Annotations, *, new: bool = False) -> None:
    """Replace the mentions and dates of one announcement (after an insert or an edit)."""
    save_annotations_many(session, [(announcement_id, annotations, new)])


def save_annotations_many(session: Session, batch: Sequence[tuple[int, Annotations, bool]]) -> None:
    """Replace the mentions and dates of many announcements: `(id, annotations, new)` each.

    A handful of statements per batch whatever its size (one delete per table for the edited
    ones, one entity lookup, one insert per table): per-announcement statements cost more than
    the rows they wrote.
    """
    edited = [announcement_id for announcement_id, _, new in batch if not new]  # a new one has nothing to replace
    for start in range(0, len(edited), 500):
        chunk = edited[start : start + 500]
        session.execute(delete(Mention).where(Mention.announcement_id.in_(chunk)))
        session.execute(delete(EventDate).where(EventDate.announcement_id.in_(chunk)))
    surfaces: dict[str, set[str]] = {}
    entities: dict[str, EntityLike] = {}
    for _, found, _ in batch:
        # within an announcement the last mention of an entity describes it, across them the first
        mine = {m.entity.key: m.entity for m in found.mentions}
        for key, entity in mine.items():
            entities.setdefault(key, entity)
        for m in found.mentions:
            surfaces.setdefault(m.entity.key, set()).add(m.surface)
    ids = entity_ids(session, entities.values(), surfaces)
    mention_rows: dict[tuple[int, str, int], dict[str, Any]] = {}
    date_rows: dict[tuple[int, str, int], dict[str, Any]] = {}
    for announcement_id, found, _ in batch:
        for m in found.mentions:
            mention_rows[(announcement_id, m.field, m.char_start)] = {
                "announcement_id": announcement_id, "entity_id": ids[m.entity.key], "field": m.field,
                "surface": m.surface, "char_start": m.char_start, "char_end": m.char_end,
            }  # fmt: skip
        for d in found.dates:
            date_rows[(announcement_id, d.field, d.char_start)] = {
                "announcement_id": announcement_id, "field": d.field, "match": d.match, "context": d.context,
                "char_start": d.char_start, "start_date": d.start_date, "end_date": d.end_date,
                "start_at": d.start_at, "end_at": d.end_at, "granularity": d.granularity, "kind": d.kind,
            }  # fmt: skip
    if mention_rows:
        insert_rows(session, Mention.__table__, list(mention_rows.values()))
    if date_rows:
        insert_rows(session, EventDate.__table__, list(date_rows.values()))


def _sheds_query(existing: Announcement, item: AnnouncementItem) -> bool:
    """The page's stored URL is its URL with parameters the site ignores (the key is the same):
    the address without them (`UrlIdentity.address`) replaces it, as rows stored before it
    was the stored form (rops-kielce's `?start=N`) are met again."""
    return existing.url.startswith(item.url + "?") and existing.url_key == item.key


def known_urls(session: Session, source_id: str) -> set[str]:
    return set(session.scalars(select(Announcement.url).where(Announcement.source_id == source_id)))


def known_keys(session: Session, source_id: str, key_of: Callable[[str], str]) -> tuple[set[str], set[str]]:
    """Identity keys of a source's stored announcements: (live ones, tombstoned ones).

    The stored key, the key of the stored URL (with today's alias rules) and the CMS id
    (`wp:123`: a listing may link the post as `?p=123`) all count.
    """
    live: set[str] = set()
    deleted: set[str] = set()
    rows = session.execute(
        select(Announcement.url, Announcement.url_key, Announcement.external_id, Announcement.deleted_at).where(
            Announcement.source_id == source_id
        )
    )
    for url, key, external_id, deleted_at in rows:
        (live if deleted_at is None else deleted).update(filter(None, (key, key_of(url), external_id)))
    return live, deleted


def first_crawl_end(session: Session, source_id: str) -> datetime | None:
    """When the source's first crawl ended (None: it has had none yet), as the feed counts it
    (`aggregator.feeds.feed_date`).

    What that crawl met was the site's backlog, years of it; a page first met after it is one
    the site published since, so the day it was first seen stands for its publication day (the
    feed's date, and `aggregator.annotate.dating_sight`)."""
    return session.scalars(
        select(CrawlRun.finished_at)
        .where(CrawlRun.source_id == source_id, CrawlRun.met_the_site(), CrawlRun.finished_at.is_not(None))
        .order_by(CrawlRun.finished_at)
        .limit(1)
    ).first()


def tombstone(session: Session, source_id: str, keys: Sequence[str], urls: Sequence[str], reason: str) -> int:
    """Mark the announcement reached by `keys`/`urls` as deleted by the site; returns rows marked.

    Nothing is removed: versions, attachments and mentions stay for analysts, and the row comes
    back as it was (`save_announcements`) if the page returns.
    """
    now = datetime.now(UTC)
    result = session.execute(
        update(Announcement)
        .where(
            Announcement.source_id == source_id,
            Announcement.deleted_at.is_(None),
            or_(
                Announcement.url_key.in_(list(keys)),
                Announcement.external_id.in_(list(keys)),
                Announcement.url.in_(list(urls)),
            ),
        )
        .values(deleted_at=now, deleted_reason=reason[:200], updated_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


PURGE_LIMIT = 10  # more posts than this gone from one complete listing: not believed without a look


def implausible_purge(missing: int, live: int) -> bool:
    """Whether `missing` of a source's `live` announcements vanishing from one listing looks like a
    broken listing rather than deletions: more than half of them (an API answering one post where
    there were seven would otherwise delete six), or more than a fifth and more than PURGE_LIMIT
    (a big source losing hundreds). One or two pages are always believed, so a small source's
    genuine deletions go through, and so does an archive clean-up of a big one (11 of 500)."""
    return (missing > 2 and 2 * missing > live) or missing > max(PURGE_LIMIT, live // 5)


def tombstone_missing(
    session: Session,
    source_id: str,
    listed: set[str],
    key_of: Callable[[str], str],
    reason: str,
    *,
    guard: bool = True,
) -> tuple[int, str | None]:
    """Tombstone the live announcements of a source missing from its complete listing (`listed`:
    the URL keys and CMS ids of everything the listing holds).

    Returns (rows marked, alarm). A listing that would delete much of a source at once is more
    likely a broken API than a purge (`implausible_purge`): nothing is marked and the alarm says why
    and how to confirm the purge once the site is checked (`guard=False`: `crawl --accept-deletions`).
    An empty listing never deletes anything, guard or not.
    """
    rows = session.execute(
        select(Announcement.id, Announcement.url, Announcement.url_key, Announcement.external_id).where(
            Announcement.source_id == source_id, Announcement.deleted_at.is_(None)
        )
    ).all()
    missing = [id_ for id_, url, key, external_id in rows if not {key, key_of(url), external_id} & listed]
    if not missing:
        return 0, None
    if not listed or (guard and implausible_purge(len(missing), len(rows))):
        confirm = f"; if the site did delete them: ropsfeed crawl {source_id} --full --accept-deletions"
        return 0, (
            f"{len(missing)} of {len(rows)} stored announcements are missing from the complete listing; "
            f"not marking them deleted (a broken listing is likelier than a purge{confirm if listed else ''})"
        )
    now = datetime.now(UTC)
    for start in range(0, len(missing), 500):
        session.execute(
            update(Announcement)
            .where(Announcement.id.in_(missing[start : start + 500]))
            .values(deleted_at=now, deleted_reason=reason[:200], updated_at=now)
        )
    return len(missing), None


def archive_raw_pages(session: Session, raws: Sequence[RawResponse]) -> dict[str, int]:
    """Store raw responses once per (url, body hash); returns their ids keyed by sha256+url.

    The body is stored gzipped (`RawResponse.body_gzip`). One lookup and one multi-row insert
    of the new ones (which returns their ids) per batch.
    """
    unique: dict[str, RawResponse] = {}
    for raw in raws:
        unique.setdefault(raw.sha256 + raw.url, raw)
    if not unique:
        return {}
    ids = _raw_page_ids(session, list(unique.values()))
    missing = [raw for key, raw in unique.items() if key not in ids]
    if missing:
        rows = [
            {"source_id": raw.source_id, "url": raw.url, "kind": raw.kind, "status": raw.status,
             "headers": raw.headers, "fetched_at": raw.fetched_at, "body_sha256": raw.sha256,
             "body_gzip": raw.body_gzip(), "link_text": raw.link_text}
            for raw in missing
        ]  # fmt: skip
        statement = insert_for(session, RawPage.__table__).on_conflict_do_nothing(index_elements=["url", "body_sha256"])
        table = RawPage.__table__
        returning = statement.returning(table.c.id, table.c.url, table.c.body_sha256)
        ids.update((sha256 + url, int(id_)) for id_, url, sha256 in session.execute(returning, rows))
        # a page another writer stored since our lookup is not returned: its row stands
        late = [raw for raw in missing if raw.sha256 + raw.url not in ids]
        if late:
            ids.update(_raw_page_ids(session, late))
    return ids


def _raw_page_ids(session: Session, raws: Sequence[RawResponse]) -> dict[str, int]:
    """Ids of the stored raw pages among `raws`, keyed by sha256+url."""
    wanted = {raw.sha256 + raw.url for raw in raws}
    urls = sorted({raw.url for raw in raws})
    ids: dict[str, int] = {}
    table = RawPage.__table__  # Core columns, as in `entity_ids`
    for start in range(0, len(urls), 500):
        query = select(table.c.id, table.c.url, table.c.body_sha256).where(table.c.url.in_(urls[start : start + 500]))
        for id_, url, sha256 in session.execute(query):
            if sha256 + url in wanted:
                ids[sha256 + url] = int(id_)
    return ids


def _announcement_values(item: AnnouncementItem, raw_page_id: int | None) -> dict:
    """The columns of an item, but for the search columns: `_add_search` fills them where they are
    written or compared. They cost about 0.2 ms of lemmatising per page, and a page seen again
    unchanged (every post of a re-read REST page) writes neither."""
    return {
        "source_id": item.source_id,
        "url": item.url,
        "url_key": item.key,
        "external_id": item.external_id,
        "title": item.title,
        "lead": item.lead,
        "body_text": item.body_text,
        "body_html": item.body_html,
        "categories": item.categories,
        "images": [{"url": i.url, "alt": i.alt, "caption": i.caption} for i in item.images],
        "language": item.language,
        "published_at": item.published_at,
        "published_from": item.published_from,
        "published_granularity": item.published_granularity,
        "modified_at": item.modified_at,
        "modified_from": item.modified_from,
        "content_hash": item.content_hash,
        "search_text": None,  # NOT NULL: a row written without `_add_search` fails loudly
        "search_terms": None,
        "raw_page_id": raw_page_id,
    }


# The columns the comparison of a stored page with a crawled one does not read: a re-crawl loads
# them for no page (31 MB of text and about 0.1 s CPU per 5,000 unchanged pages), `_load_texts`
# loads the texts of the changed ones, and any other read of one loads it then.
_DEFERRED = tuple(
    defer(column)
    for column in (Announcement.title, Announcement.lead, Announcement.body_text, Announcement.body_html,
                   Announcement.search_text, Announcement.search_terms, Announcement.dedup_signature)
)  # fmt: skip
_VERSION_TEXTS = ("title", "body_text", "body_html")


def _load_texts(session: Session, rows: Sequence[Announcement]) -> None:
    """The stored title and texts of `rows` (those not loaded yet), in one SELECT per 500 rows."""
    by_id = {row.id: row for row in rows if not sa_inspect(row).unloaded.isdisjoint(_VERSION_TEXTS)}
    ids = list(by_id)
    table = Announcement.__table__
    for start in range(0, len(ids), 500):
        query = select(table.c.id, *(table.c[name] for name in _VERSION_TEXTS)).where(
            table.c.id.in_(ids[start : start + 500])
        )
        for id_, *texts in session.execute(query):
            for name, value in zip(_VERSION_TEXTS, texts, strict=True):
                set_committed_value(by_id[id_], name, value)


def _add_search(values: dict[str, Any], item: AnnouncementItem, search: SearchFields | None) -> None:
    search_text, search_terms = search(item) if search else search_fields(item.title, item.lead, item.body_text)
    values["search_text"], values["search_terms"] = search_text, search_terms


def _kept_dates(existing: Announcement, item: AnnouncementItem) -> dict[str, Any]:
    """The dates and categories a stored row keeps when an edited copy of its page lacks them: a
    page that lost its date line in a template change is still the announcement of that day (as
    an unchanged page keeps them). `reparse` does not keep them: a parser fix may drop a wrong one."""
    kept: dict[str, Any] = {}
    if item.published_at is None and existing.published_at is not None:
        kept |= {"published_at": existing.published_at, "published_from": existing.published_from,
                 "published_granularity": existing.published_granularity}  # fmt: skip
    if item.modified_at is None and existing.modified_at is not None:
        kept |= {"modified_at": existing.modified_at, "modified_from": existing.modified_from}
    if not item.categories and existing.categories:
        kept["categories"] = existing.categories
    return kept


def save_announcements(
    session: Session,
    items: Sequence[AnnouncementItem],
    extra_raws: Sequence[RawResponse] = (),
    annotate: Annotator | None = None,
    *,
    record_versions: bool = True,
    reannotate: bool = False,
    search: SearchFields | None = None,
    cleaned: bool = False,
) -> BatchResult:
    """Upsert a batch; an edited announcement keeps its previous text as a version row.

    `annotate` (institutions and dates) runs for new and edited announcements only, or for all
    with `reannotate`. `reparse` passes record_versions=False: a parser fix is neither a site's edit
    (no version row) nor a sighting of the page (last_seen_at stays). `search` gives the search
    columns of an item when they were computed ahead (the crawl's annotation worker); else here.
    Values the database would refuse are cleaned first (db/clean.py); an item it cannot take at all
    raises `RefusedItem`. `cleaned`: the caller cleaned the items and `extra_raws` already and
    changed nothing since (the crawl's pipeline does, before annotating); cleaning them again
    changes nothing and cost about a tenth of the Python work of storing a crawled batch.
    """
    if not cleaned:
        for item in items:
            if refused := clean_item(item):
                raise RefusedItem(f"{shown(item.url)}: {refused}")
        extra_raws = clean_raws(extra_raws)
    result = BatchResult()
    now = datetime.now(UTC)
    raw_ids = archive_raw_pages(session, [i.raw for i in items if i.raw is not None] + list(extra_raws))
    latest: dict[tuple[str, str], AnnouncementItem] = {}
    for item in items:  # the same page twice in one batch: the last one wins
        latest[(item.source_id, item.key)] = item
    by_id: dict[tuple[str, str], Announcement] = {}
    by_key: dict[tuple[str, str], Announcement] = {}
    by_url: dict[tuple[str, str], Announcement] = {}
    loaded: list[Announcement] = []
    for source_id in {key[0] for key in latest}:
        mine = [item for (sid, _), item in latest.items() if sid == source_id]
        keys = sorted({k for item in mine for k in item.keys})
        urls = sorted({item.url for item in mine})
        ids = sorted({item.external_id for item in mine if item.external_id})
        # Each alternative names the source, so each is a search of its own (source, …) index; with
        # the source outside the OR, SQLite reads every stored row of the source for every batch.
        # By id: of two rows with one CMS id the older is found first, as before.
        query = (
            select(Announcement)
            .options(*(_DEFERRED if record_versions else ()))  # a reparse compares every parsed field
            .where(
                or_(
                    and_(Announcement.source_id == source_id, Announcement.url_key.in_(keys)),
                    and_(Announcement.source_id == source_id, Announcement.url.in_(urls)),
                    and_(Announcement.source_id == source_id, Announcement.external_id.in_(ids)),
                )
            )
            .order_by(Announcement.id)
        )
        for row in session.scalars(query):
            loaded.append(row)
            by_key[(row.source_id, row.url_key)] = row
            by_url[(row.source_id, row.url)] = row
            if row.external_id:
                by_id.setdefault((row.source_id, row.external_id), row)
    pages: list[tuple[str, AnnouncementItem, int | None, dict[str, Any]]] = []  # (source, item, raw id, values)
    for (source_id, _), item in latest.items():
        raw_id = raw_ids.get(item.raw.sha256 + item.raw.url) if item.raw else item.raw_page_id
        pages.append((source_id, item, raw_id, _announcement_values(item, raw_id)))
    if record_versions:  # the stored texts a version row will keep: those no page of the batch has
        hashes = {values["content_hash"] for *_, values in pages}
        _load_texts(session, [row for row in loaded if row.content_hash not in hashes])
    new_values: list[dict[str, Any]] = []
    writes = _RowWrites(now)
    # per page, in batch order: (item, its id or None when new, first seen, annotate?, reconcile files?)
    follow_up: list[tuple[AnnouncementItem, int | None, datetime, bool, bool]] = []
    for source_id, item, raw_id, values in pages:
        # the same page: the same CMS id (a post whose permalink changed), else any of its URL keys
        # (another URL of it), else its URL
        existing = by_id.get((source_id, item.external_id)) if item.external_id else None
        existing = existing or next(
            (row for key in item.keys if (row := by_key.get((source_id, key))) is not None), None
        )
        existing = existing or by_url.get((source_id, item.url))
        taken = {by_key.get((source_id, item.key)), by_url.get((source_id, item.url))} - {None, existing}
        if existing is not None and (not item.url_declared or taken) and not _sheds_query(existing, item):
            # reached by another URL (or the site now gives this page a URL another row holds):
            # the stored URL stays
            values["url"], values["url_key"] = existing.url, existing.url_key
        if existing is not None and not item.external_id:
            values["external_id"] = existing.external_id  # a page that does not print its id keeps it
        revived = {}
        if existing is not None and existing.deleted_at is not None and record_versions:
            revived = {"deleted_at": None, "deleted_reason": None}  # the page is back
            result.restored += 1
        if existing is None:
            _add_search(values, item, search)
            new_values.append(values)
            # its id comes from the one insert after the loop; its annotations and files follow it
            follow_up.append((item, None, now, annotate is not None, True))
            result.new += 1
            continue
        edited = existing.content_hash != values["content_hash"]
        kept_text = False
        if edited and record_versions and not item.body_text.strip() and existing.body_text.strip():
            # A page that lost its whole text but kept a picture or a file is content for a new
            # page (a poster), but for a stored one it is likelier a broken template or a layout
            # change than an edit: the stored text is not blanked, and the crawl raises an alarm.
            edited, kept_text = False, True
            result.kept_text.append(item.url)
        if edited or not record_versions:  # written, or compared with the stored ones
            _add_search(values, item, search)
        if edited or (not record_versions and _differs(existing, values)):
            if record_versions:
                writes.versions.append(
                    {"announcement_id": existing.id, "title": existing.title, "body_text": existing.body_text,
                     "body_html": existing.body_html, "content_hash": existing.content_hash,
                     "modified_at": existing.modified_at, "replaced_at": now}
                )  # fmt: skip
            kept = _kept_dates(existing, item) if record_versions else {}
            if "published_at" in kept:  # its year-less dates resolve against it, as before the edit
                item.published_at = kept["published_at"]
            writes.update(
                existing,
                {
                    **values,
                    **kept,
                    **revived,
                    "last_seen_at": now if record_versions else existing.last_seen_at,
                    "updated_at": now,
                    "story_key": None,  # a changed text is judged again: it may no longer be the same news
                },
            )
            result.updated += 1
            follow_up.append((item, existing.id, existing.first_seen_at, annotate is not None, True))
        else:
            moved = {key: values[key] for key in ("url", "url_key") if values[key] != getattr(existing, key)}
            writes.update_changed(
                existing,
                {
                    **moved,
                    **revived,
                    **({"updated_at": now} if revived or moved else {}),
                    "last_seen_at": now if record_versions else existing.last_seen_at,
                    "raw_page_id": raw_id or existing.raw_page_id,
                    "published_at": item.published_at or existing.published_at,
                    "published_from": item.published_from or existing.published_from,
                    "published_granularity": item.published_granularity or existing.published_granularity,
                    "modified_at": item.modified_at or existing.modified_at,
                    "modified_from": item.modified_from or existing.modified_from,
                    "categories": item.categories or existing.categories,
                    "images": existing.images if kept_text else values["images"] or existing.images,
                },
            )
            result.unchanged += 1
            # the same text may come with other files (added, removed: all of them, too); a page
            # whose text was kept as a broken template's keeps its stored files as well
            files = bool(item.attachments) or not kept_text
            follow_up.append((item, existing.id, existing.first_seen_at, annotate is not None and reannotate, files))
    writes.send(session)
    new_ids = _insert_new(session, new_values, now)
    annotated: list[tuple[int, Annotations, bool]] = []
    files: list[tuple[int, AnnouncementItem, bool]] = []
    for item, known_id, seen, wants_annotations, wants_files in follow_up:
        new = known_id is None
        announcement_id = new_ids[(item.source_id, item.key)] if known_id is None else known_id
        if wants_annotations:
            assert annotate is not None
            annotated.append((announcement_id, annotate(item, seen), new))
        if wants_files:
            files.append((announcement_id, item, new))
    if annotated:
        save_annotations_many(session, annotated)
    refiled = _replace_attachments(session, files)
    table = Announcement.__table__
    # A change of files alone is a change the feeds' ETag shows, and, seen by a crawl (a site's
    # change, not a parser's: `reparse`), one their readers show as the entry's `updated`.
    files_changed = {"updated_at": now, **({"files_changed_at": now} if record_versions else {})}
    for start in range(0, len(refiled), 500):
        chunk = refiled[start : start + 500]
        session.execute(update(table).where(table.c.id.in_(chunk)).values(**files_changed))
    return result


class _RowWrites:
    """The writes of a batch to stored announcements, sent together after its loop.

    One UPDATE statement per announcement (built, cached and sent one by one) was most of the
    cost of an incremental crawl. Here the UPDATEs go in executemany runs, in batch order (two
    URLs of one page may update one row twice, and the stored URL moves only where it is free);
    a page seen again unchanged, the common case, only has its last_seen_at set, in one
    `id IN (…)` statement; version rows go in one executemany INSERT, in batch order as before
    (ids included). The loaded objects are kept in step at once, as the per-row statements did,
    because a later item of the batch may reach the same row and compares against it.
    """

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.updates: list[tuple[int, dict[str, Any]]] = []
        self.seen: list[int] = []  # unchanged rows: only last_seen_at = now
        self.versions: list[dict[str, Any]] = []

    def update(self, row: Announcement, values: dict[str, Any]) -> None:
        self.updates.append((row.id, values))
        for name, value in values.items():
            set_committed_value(row, name, value)

    def update_changed(self, row: Announcement, values: dict[str, Any]) -> None:
        """Write only the values that differ from the row's: the others would be written as they
        are (an UPDATE of an indexed column rewrites its index entries even so)."""
        changed = {name: value for name, value in values.items() if getattr(row, name) != value}
        if changed.keys() == {"last_seen_at"} and changed["last_seen_at"] == self.now:
            self.seen.append(row.id)
            set_committed_value(row, "last_seen_at", self.now)
        elif changed:
            self.update(row, changed)

    def send(self, session: Session) -> None:
        if self.versions:
            session.execute(AnnouncementVersion.__table__.insert(), self.versions)
        run: list[dict[str, Any]] = []
        for row_id, values in self.updates:
            if run and run[0].keys() != values.keys() | {"row_id"}:
                session.execute(_UPDATE_BY_ID, run)
                run = []
            run.append({"row_id": row_id, **values})
        if run:
            session.execute(_UPDATE_BY_ID, run)
        table = Announcement.__table__
        for start in range(0, len(self.seen), 500):
            chunk = self.seen[start : start + 500]
            session.execute(update(table).where(table.c.id.in_(chunk)).values(last_seen_at=self.now))


# A Core UPDATE of the table (the ORM-enabled `update(Announcement)` looks for the matching objects
# in the session for every statement); its SET clause is the columns of the parameters.
_UPDATE_BY_ID = update(Announcement.__table__).where(Announcement.__table__.c.id == bindparam("row_id"))


def _insert_new(session: Session, rows: list[dict[str, Any]], now: datetime) -> dict[tuple[str, str], int]:
    """Insert new announcements in multi-row statements; their ids keyed by (source, url key).

    Rows go in in batch order, so ids grow in the order the pages came, as they did one by one
    (the story step walks announcements by id, so this order decides which page opens a story).
    The ids are matched to rows by the returned (source, url key), never by position, so the
    RETURNING order does not matter. PostgreSQL is asked to sort by parameter order anyway: that
    is how SQLAlchemy makes it assign the serial ids in batch order, in one statement. SQLite is
    not: it inserts the rows of a multi-row VALUES one after the other (rowid = max + 1 each), and
    SQLAlchemy, which cannot prove that, would otherwise send one INSERT per row — half the cost
    of storing a batch.
    """
    if not rows:
        return {}
    updated = [*rows[0], "last_seen_at", "updated_at"]
    # A concurrent writer may have inserted one since our SELECT: then it is an update.
    table = Announcement.__table__
    statement = upsert_statement(session, table, ["source_id", "url_key"], updated).returning(
        table.c.id,
        table.c.source_id,
        table.c.url_key,
        sort_by_parameter_order=session.get_bind().dialect.name != "sqlite",
    )
    stamped = [{**values, "first_seen_at": now, "last_seen_at": now, "updated_at": now} for values in rows]
    return {(source_id, key): int(id_) for id_, source_id, key in session.execute(statement, stamped)}


def _differs(existing: Announcement, values: dict[str, Any]) -> bool:
    """Whether a reparsed announcement differs from the stored one in any parsed field."""
    return any(getattr(existing, key) != value for key, value in values.items() if key != "raw_page_id")


def _replace_attachments(session: Session, batch: Sequence[tuple[int, AnnouncementItem, bool]]) -> list[int]:
    """Make the stored files of each `(id, item, new)` those of the item: one upsert per batch.
    Returns the ids of the stored announcements whose files changed (one added, dropped, renamed,
    or of another size): their text may be the same, and nothing else would say they changed.

    The files an item no longer lists are found with one SELECT of the batch's stored files and
    dropped with one DELETE (a DELETE per announcement cost more than the rest of a re-crawl's
    reconciling). Two items of one row (two URLs of one page) each drop what they do not list, so
    a file stays only if both list it. Every listed file is upserted, unchanged ones included:
    on PostgreSQL each upserted row takes a value of the id sequence, so the ids of later new
    files depend on it.
    """
    table = Attachment.__table__  # Core statements: nothing here loads Attachment objects to keep in step
    listed: dict[int, set[str]] = {}
    described: dict[tuple[int, str], tuple[str, str | None, str | None]] = {}
    for announcement_id, item, new in batch:
        if not new:  # a new announcement has no files to drop
            urls = {a.url for a in item.attachments}
            listed[announcement_id] = listed[announcement_id] & urls if announcement_id in listed else urls
            described.update(((announcement_id, a.url), (a.name, a.file_type, a.size)) for a in item.attachments)
    stored = list(listed)
    dropped: list[int] = []
    changed: set[int] = set()
    kept: dict[int, set[str]] = {}
    for start in range(0, len(stored), 500):
        query = select(table.c.id, table.c.announcement_id, table.c.url, table.c.name, table.c.file_type,
                       table.c.size).where(table.c.announcement_id.in_(stored[start : start + 500]))  # fmt: skip
        for id_, announcement_id, url, name, file_type, size in session.execute(query):
            if url not in listed[announcement_id]:
                dropped.append(id_)
                changed.add(announcement_id)
            else:
                kept.setdefault(announcement_id, set()).add(url)
                if described.get((announcement_id, url)) != (name, file_type, size):
                    changed.add(announcement_id)
    changed.update(id_ for id_, urls in listed.items() if urls - kept.get(id_, set()))
    for start in range(0, len(dropped), 500):
        session.execute(delete(table).where(table.c.id.in_(dropped[start : start + 500])))
    upsert(
        session,
        Attachment.__table__,
        [
            {"announcement_id": announcement_id, "name": a.name, "url": a.url, "file_type": a.file_type,
             "size": a.size}
            for announcement_id, item, _ in batch
            for a in item.attachments
        ],
        ["announcement_id", "url"],
        ["name", "file_type", "size"],
    )  # fmt: skip
    return sorted(changed)


def start_run(session: Session, run_id: str, source_id: str, mirror: str | None, full: bool) -> int:
    run = CrawlRun(run_id=run_id, source_id=source_id, mirror=mirror, full=full, status="running")
    session.add(run)
    session.flush()
    return run.id


def finish_run(session: Session, crawl_run_id: int, **values: object) -> None:
    session.execute(update(CrawlRun).where(CrawlRun.id == crawl_run_id).values(finished_at=datetime.now(UTC), **values))
