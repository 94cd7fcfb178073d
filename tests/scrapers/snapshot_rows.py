"""Stored announcements as plain JSON-able dicts: what the expected files hold and the tests compare."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from db.engine import session_scope
from db.models import Announcement

FIELDS = ("url", "external_id", "title", "lead", "body_text", "body_html", "categories", "images", "published_at",
          "published_from", "published_granularity", "modified_at", "modified_from", "language")  # fmt: skip


def announcement_dict(row: Announcement) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in FIELDS:
        value = getattr(row, name)
        data[name] = value.isoformat() if hasattr(value, "isoformat") else value
    data["attachments"] = [
        {"name": a.name, "url": a.url, "file_type": a.file_type, "size": a.size} for a in row.attachments
    ]
    return data


def rows_by_source(database_url: str) -> dict[str, dict[str, dict[str, Any]]]:
    """{source_id: {url: announcement dict}}."""
    result: dict[str, dict[str, dict[str, Any]]] = {}
    with session_scope(database_url) as session:
        rows = session.scalars(select(Announcement).options(selectinload(Announcement.attachments)))
        for row in rows:
            result.setdefault(row.source_id, {})[row.url] = announcement_dict(row)
    return result
