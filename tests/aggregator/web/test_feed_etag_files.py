"""A page edited in its files alone (a form added to "Do pobrania", every file taken down), its
text unchanged: the feeds' ETag changes, so readers polling with If-None-Match get the files
(aggregator/web/feed_urls.py `entity_tag`; db/store.py moves the row's `updated_at`)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from starlette.testclient import TestClient

from aggregator.web.app import create_app
from db.engine import session_scope
from db.models import Announcement, Attachment
from db.store import save_announcements
from scrapers.items import AnnouncementItem, AttachmentItem

URL = "https://rops.lubelskie.pl/2024/05/nabor-wnioskow-asystent-osobisty/"
FORM = AttachmentItem("Formularz zgłoszeniowy", "https://rops.lubelskie.pl/wp-content/uploads/2024/05/formularz.docx",
                      "docx", "48 KB")  # fmt: skip
RULES = AttachmentItem("Regulamin naboru", "https://rops.lubelskie.pl/wp-content/uploads/2024/05/regulamin.pdf",
                       "pdf", "245 KB")  # fmt: skip


def crawled(*files: AttachmentItem) -> AnnouncementItem:
    """ROPS Lublin's post as each crawl reads it: the same text, the files of the day."""
    return AnnouncementItem(
        source_id="rops-lublin", url=URL, title="Nabór wniosków – Asystent osobisty osoby z niepełnosprawnością",
        body_html="<p>Zapraszamy do składania wniosków do 31 maja 2024 r.</p>",
        body_text="Zapraszamy do składania wniosków do 31 maja 2024 r.",
        published_at=datetime(2024, 5, 6, 10, tzinfo=UTC), published_granularity="minute", attachments=list(files),
    )  # fmt: skip


def store(database: str, item: AnnouncementItem) -> None:
    with session_scope(database, write=True) as session:
        save_announcements(session, [item])


def stored_files(database: str) -> list[str]:
    with session_scope(database) as session:
        return sorted(session.scalars(select(Attachment.name)))


def test_a_change_of_files_alone_changes_the_feeds_etag(database: str) -> None:
    store(database, crawled(RULES))
    with TestClient(create_app(database)) as client:
        first = client.get("/feed.atom?source=rops-lublin")
        assert first.status_code == 200 and "regulamin.pdf" in first.text
        tag = first.headers["etag"]
        store(database, crawled(RULES))  # seen again as it was: nothing to send
        assert client.get("/feed.atom?source=rops-lublin", headers={"If-None-Match": tag}).status_code == 304

        store(database, crawled(RULES, FORM))  # the form added, the text as it was
        assert stored_files(database) == ["Formularz zgłoszeniowy", "Regulamin naboru"]
        added = client.get("/feed.atom?source=rops-lublin", headers={"If-None-Match": tag})
        assert added.status_code == 200 and "formularz.docx" in added.text

        store(database, crawled())  # every file taken down: the stored ones go too
        assert stored_files(database) == []
        removed = client.get("/feed.atom?source=rops-lublin", headers={"If-None-Match": added.headers["etag"]})
        assert removed.status_code == 200 and "regulamin.pdf" not in removed.text
        assert client.get("/feed.json?source=rops-lublin", headers={"If-None-Match": removed.headers["etag"]}
                          ).status_code == 200, "each format its own tag"  # fmt: skip
    with session_scope(database) as session:
        row = session.scalars(select(Announcement)).one()
        assert row.first_seen_at < row.updated_at


def test_files_changed_by_a_reparse_do_not_show_the_entry_updated(database: str) -> None:
    """A parser that now finds another file is no change of the site's: `files_changed_at` (the
    entry's `updated`) is a crawl's sighting only, as a text edit's version row is."""
    store(database, crawled(RULES))
    with session_scope(database, write=True) as session:
        save_announcements(session, [crawled(RULES, FORM)], record_versions=False)  # what `reparse` does
    with session_scope(database) as session:
        row = session.scalars(select(Announcement)).one()
        assert stored_files(database) == ["Formularz zgłoszeniowy", "Regulamin naboru"]
        assert row.files_changed_at is None and row.first_seen_at < row.updated_at
    store(database, crawled(RULES))  # a crawl: the site took the form down
    with session_scope(database) as session:
        row = session.scalars(select(Announcement)).one()
        assert row.files_changed_at is not None and row.files_changed_at == row.updated_at
