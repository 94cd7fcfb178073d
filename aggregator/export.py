"""`ropsfeed export`: the feed's stories (or every announcement) as CSV or JSON lines, for analysts.

The filters are the feed's (voivodeship, source, entity, full-text query; AND), so an export and the
feed a colleague reads agree. Columns are a documented, stable contract (docs/schema.md): new
columns may be appended, existing ones are never renamed or reordered. Lists (other URLs,
institutions, categories, attachments, images) are JSON arrays in JSON lines and " | "-joined in CSV.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import IO, Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aggregator.choices import EXPORT_FORMATS as FORMATS
from aggregator.feeds import FeedEntry, FeedFilters, iter_entries, matching_members
from db.models import Announcement, Attachment, Entity, Mention, Source

WARSAW = ZoneInfo("Europe/Warsaw")
LIST_SEPARATOR = " | "
CHUNK = 500

STORY_COLUMNS = (
    "story_key", "title", "url", "published_at", "published_day", "source_id", "institution", "voivodeship",
    "announcements", "other_urls", "institutions", "categories", "summary",
)  # fmt: skip
ANNOUNCEMENT_COLUMNS = (
    "announcement_id", "story_key", "title", "url", "published_at", "published_day", "published_granularity",
    "modified_at", "first_seen_at", "source_id", "institution", "voivodeship", "institutions", "categories",
    "attachments", "lead", "body_text", "images",
)  # fmt: skip


def _utc(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, the form every spreadsheet and pandas reads."""
    return value.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _day(value: datetime | None) -> str | None:
    return value.astimezone(WARSAW).date().isoformat() if value else None


def story_rows(session: Session, filters: FeedFilters, limit: int | None) -> Iterator[dict[str, Any]]:
    """One row per feed entry (story), newest first, exactly as the feed orders and filters them."""
    entry: FeedEntry
    for entry in iter_entries(session, filters, limit, chunk=CHUNK):
        yield {
            "story_key": entry.story_key,
            "title": entry.title,
            "url": entry.url,
            "published_at": _utc(entry.published),
            "published_day": _day(entry.published),
            "source_id": entry.source_id,
            "institution": entry.institution,
            "voivodeship": entry.voivodeship,
            "announcements": 1 + len(entry.other_urls),
            "other_urls": entry.other_urls,
            "institutions": entry.institutions,
            "categories": entry.categories,
            "summary": entry.summary,
        }


def announcement_rows(session: Session, filters: FeedFilters, limit: int | None) -> Iterator[dict[str, Any]]:
    """One row per announcement matching every filter itself, newest publication first (undated last)."""
    dialect = session.get_bind().dialect.name
    ids_query = (
        select(Announcement.id)
        .where(Announcement.deleted_at.is_(None))  # tombstones: pages the site deleted
        .order_by(Announcement.published_at.desc().nulls_last(), Announcement.id.desc())
    )
    if filters.narrows():
        ids_query = ids_query.where(Announcement.id.in_(matching_members(filters, dialect, Announcement.id)))
    if limit is not None:
        ids_query = ids_query.limit(limit)
    ids = list(session.scalars(ids_query))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        rows = {
            a.id: (a, s)
            for a, s in session.execute(
                select(Announcement, Source)
                .join(Source, Source.id == Announcement.source_id)
                .where(Announcement.id.in_(chunk))
            )
        }
        institutions = _institutions(session, chunk)
        attachments: dict[int, list[str]] = {}
        for announcement_id, url in session.execute(
            select(Attachment.announcement_id, Attachment.url)
            .where(Attachment.announcement_id.in_(chunk))
            .order_by(Attachment.id)
        ):
            attachments.setdefault(announcement_id, []).append(url)
        for id_ in chunk:
            a, s = rows[id_]
            yield {
                "announcement_id": a.id,
                "story_key": a.story_key,
                "title": a.title,
                "url": a.url,
                "published_at": _utc(a.published_at),
                "published_day": _day(a.published_at),
                "published_granularity": a.published_granularity,
                "modified_at": _utc(a.modified_at),
                "first_seen_at": _utc(a.first_seen_at),
                "source_id": a.source_id,
                "institution": s.institution,
                "voivodeship": s.voivodeship,
                "institutions": institutions.get(a.id, []),
                "categories": list(a.categories or []),
                "attachments": attachments.get(a.id, []),
                "lead": a.lead,
                "body_text": a.body_text,
                "images": [image["url"] for image in a.images or []],
            }


def _institutions(session: Session, ids: list[int]) -> dict[int, list[str]]:
    """Canonical names of the institutions each announcement mentions, in order of first mention."""
    names: dict[int, list[str]] = {}
    for announcement_id, canonical in session.execute(
        select(Mention.announcement_id, Entity.canonical)
        .join(Entity, Entity.id == Mention.entity_id)
        .where(Mention.announcement_id.in_(ids))
        .group_by(Mention.announcement_id, Entity.canonical)
        .order_by(Mention.announcement_id, func.min(Mention.field).desc(), func.min(Mention.char_start))
    ):
        names.setdefault(announcement_id, []).append(canonical)
    return names


# What a spreadsheet takes for the start of a formula in a cell (OWASP's "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _as_text_in_excel(value: object) -> object:
    """A text cell Excel shows as written: one starting like a formula gets Excel's text mark (')."""
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def write(rows: Iterable[dict[str, Any]], columns: tuple[str, ...], export_format: str, out: IO[str]) -> int:
    """Write rows as CSV (header first) or JSON lines; returns how many rows were written.

    `csv-excel` is the CSV a Polish Excel opens by double-click: a byte order mark (without it,
    Excel reads UTF-8 as windows-1250: "OĹ›rodek"), semicolons (the list separator where the
    decimal one is a comma), CRLF, and cells that look like formulas marked as text. `csv` stays
    plain for scripts."""
    count = 0
    if export_format in ("csv", "csv-excel"):
        excel = export_format == "csv-excel"
        if excel:
            out.write("\ufeff")
        writer = csv.DictWriter(
            out, fieldnames=columns, lineterminator="\r\n" if excel else "\n", delimiter=";" if excel else ","
        )
        writer.writeheader()
        for row in rows:
            cells = {k: LIST_SEPARATOR.join(v) if isinstance(v, list) else v for k, v in row.items()}
            writer.writerow({k: _as_text_in_excel(v) for k, v in cells.items()} if excel else cells)
            count += 1
    elif export_format == "jsonl":
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    else:
        raise ValueError(f"unknown export format {export_format!r}; use one of: {', '.join(FORMATS)}")
    return count
