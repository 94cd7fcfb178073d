"""`ropsfeed status`: what its "30 days" column counts, and that its caption, the JSON and the docs
say the same (aggregator/status.py, aggregator/commands/operations.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from aggregator.status import source_statuses
from db.engine import session_scope
from db.models import Announcement
from db.store import save_announcements
from scrapers.items import AnnouncementItem
from tests.aggregator.cli_inprocess import invoke
from tests.conftest import REPO

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def item(slug: str, published: datetime | None) -> AnnouncementItem:
    return AnnouncementItem(source_id="mcps", url=f"https://mcps.com.pl/{slug}/", title=f"Ogłoszenie {slug}",
                            body_html=f"<p>Treść {slug}.</p>", body_text=f"Treść {slug}.",
                            published_at=published)  # fmt: skip


def test_30_days_counts_what_was_published_in_them_undated_by_first_sight(database: str) -> None:
    with session_scope(database, write=True) as session:
        save_announcements(session, [
            item("recent", NOW - timedelta(days=5)),
            item("old-but-new-to-us", NOW - timedelta(days=40)),  # a first crawl's backfill
            item("undated-new", None),
            item("undated-old", None),
            item("recent-deleted", NOW - timedelta(days=2)),
        ])  # fmt: skip
        session.execute(update(Announcement).values(first_seen_at=NOW - timedelta(hours=1)))
        session.execute(update(Announcement).where(Announcement.url.contains("undated-old"))
                        .values(first_seen_at=NOW - timedelta(days=45)))  # fmt: skip
        session.execute(update(Announcement).where(Announcement.url.contains("deleted"))
                        .values(deleted_at=NOW, deleted_reason="HTTP 404"))  # fmt: skip
    with session_scope(database) as session:
        mcps = next(s for s in source_statuses(session, now=NOW) if s.source_id == "mcps")
    assert (mcps.items_30_days, mcps.announcements) == (2, 4), "recent and undated-new; the four live ones"


def test_the_caption_json_and_docs_say_what_the_column_counts(database: str) -> None:
    """The caption said "30 days: announcements stored": after a first crawl an operator read 0 for a
    source with 7 announcements stored, none of them published lately."""
    text = invoke("status", "--db", database, env={"COLUMNS": ""})  # Rich's default width, 80
    assert text.returncode == 0, text.stderr
    caption = " ".join(text.stdout.split()).partition("runs in a row · ")[2]
    assert caption == "30 days: announcements published in the last 30 days (undated ones: first seen then)"
    assert max(len(line) for line in text.stdout.splitlines()) <= 80
    rows = [json.loads(line) for line in invoke("status", "--json", "--db", database).stdout.splitlines()]
    assert {"items_30_days", "announcements"} <= set(rows[0])
    operations = " ".join((REPO / "docs" / "operations.md").read_text(encoding="utf-8").split())
    assert "`items_30_days` — the live announcements *published* in the last 30 days" in operations
    readme = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    assert "announcements published in the last 30 days (undated ones: first seen then)" in readme
