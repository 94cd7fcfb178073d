"""The storage layer on SQLite and PostgreSQL: migrations, upserts, versions, raw archive, UTC."""

from __future__ import annotations

import gzip
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import StatementError

from db.engine import session_scope
from db.migrate import current_revision, head_revision, upgrade
from db.models import Announcement, AnnouncementVersion, Attachment, CrawlRun, EventDate, RawPage, Source
from db.store import archive_raw_pages, known_urls, save_announcements, sync_sources
from db.upsert import insert_rows
from scrapers.items import AnnouncementItem, AttachmentItem, ImageItem, RawResponse
from scrapers.registry import load_sources

URL = "https://mcps.com.pl/ngo-moga-juz-ubiegac-sie-o-dotacje/aktualnosci/"
TEXT = "Od 27 grudnia 2023 r. Mazowieckie Centrum Polityki Społecznej rozpoczęło ogłaszanie konkursów ofert."


def make_item(**changes: object) -> AnnouncementItem:
    item = AnnouncementItem(
        source_id="mcps",
        url=URL,
        title="NGO mogą już ubiegać się o dotacje",
        body_html=f"<p>{TEXT}</p>",
        body_text=TEXT,
        lead=TEXT,
        categories=["Aktualności"],
        published_at=datetime(2023, 12, 27, 9, 15, tzinfo=UTC),
        published_from="wp-api:date_gmt",
        external_id="wp:51466",
        attachments=[
            AttachmentItem(
                "Regulamin konkursu", "https://mcps.com.pl/wp-content/uploads/2023/12/regulamin.pdf", "pdf", "245 KB"
            )
        ],
        raw=RawResponse("mcps", URL, "article", 200, {"Content-Type": "text/html"}, b"<html>v1</html>"),
    )
    return replace(item, **changes)


def test_upgrade_reaches_head_and_is_idempotent(db_url: str) -> None:
    assert current_revision(db_url) is None
    assert upgrade(db_url) == head_revision()
    assert upgrade(db_url) == head_revision()


def test_sources_mirror_the_registry(database: str) -> None:
    with session_scope(database) as session:
        mcps = session.get(Source, "mcps")
        assert mcps is not None
        assert mcps.institution == "Mazowieckie Centrum Polityki Społecznej"
        assert mcps.voivodeship == "mazowieckie"
        assert session.scalar(select(func.count()).select_from(Source)) == len(load_sources())


def test_new_then_unchanged_then_updated_with_version(database: str) -> None:
    with session_scope(database, write=True) as session:
        first = save_announcements(session, [make_item()])
    assert (first.new, first.updated, first.unchanged) == (1, 0, 0)

    with session_scope(database, write=True) as session:
        again = save_announcements(session, [make_item()])
    assert (again.new, again.updated, again.unchanged) == (0, 0, 1)

    edited = make_item(
        title="NGO mogą już ubiegać się o dotacje – termin przedłużony",
        raw=RawResponse("mcps", URL, "article", 200, {}, b"<html>v2</html>"),
        attachments=[],
    )
    with session_scope(database, write=True) as session:
        third = save_announcements(session, [edited])
    assert (third.new, third.updated, third.unchanged) == (0, 1, 0)

    with session_scope(database) as session:
        rows = session.scalars(select(Announcement)).all()
        assert len(rows) == 1, "re-crawling must update the row, never duplicate it"
        row = rows[0]
        assert row.title.endswith("termin przedłużony")
        versions = session.scalars(select(AnnouncementVersion)).all()
        assert [v.title for v in versions] == ["NGO mogą już ubiegać się o dotacje"]
        assert session.scalar(select(func.count()).select_from(Attachment)) == 0, "removed attachment dropped"
        assert session.scalar(select(func.count()).select_from(RawPage)) == 2
        assert known_urls(session, "mcps") == {URL}


def test_new_rows_get_ids_in_batch_order_and_their_own_values(database: str) -> None:
    """The story step walks announcements by id, so ids must follow the order the pages came, also
    when one batch is written with several multi-row INSERTs (SQLAlchemy pages at 1,000 rows) and
    the URLs sort the other way; and each id must carry its own page's values."""
    with session_scope(database, write=True) as session:
        save_announcements(session, [make_item(url=f"{URL}?v=0600", external_id=None)])
    count = 1200
    batch = [
        make_item(url=f"{URL}?v={count - n:04d}", title=f"Ogłoszenie {n}", external_id=None, raw=None)
        for n in range(count)
    ]
    with session_scope(database, write=True) as session:
        result = save_announcements(session, batch)
    assert (result.new, result.unchanged + result.updated) == (count - 1, 1)
    with session_scope(database) as session:
        rows = session.execute(select(Announcement.id, Announcement.url, Announcement.title)).all()
    by_id = sorted(rows)
    assert by_id[0].url == f"{URL}?v=0600", "the row stored earlier keeps its id"
    new_rows = by_id[1:]
    assert [r.title for r in new_rows] == [item.title for item in batch if not item.url.endswith("v=0600")]
    assert all(r.url == f"{URL}?v={count - int(r.title.split()[1]):04d}" for r in new_rows)


def test_two_urls_of_one_edited_page_in_one_batch_make_one_edit(database: str) -> None:
    """Both items reach the stored row by its CMS id; the first one's edit is what the second one
    compares with, so the text is versioned once and the second one is unchanged."""
    with session_scope(database, write=True) as session:
        save_announcements(session, [make_item(raw=None)])
    edited = {"title": "NGO mogą już ubiegać się o dotacje – nowy termin", "raw": None, "attachments": []}
    batch = [make_item(url=f"{URL}?a=1", **edited), make_item(url=f"{URL}?a=2", **edited)]
    with session_scope(database, write=True) as session:
        result = save_announcements(session, batch)
    assert (result.new, result.updated, result.unchanged) == (0, 1, 1)
    with session_scope(database) as session:
        assert session.scalars(select(Announcement.title)).one() == edited["title"]
        versions = session.scalars(select(AnnouncementVersion.title)).all()
        assert versions == ["NGO mogą już ubiegać się o dotacje"]


def test_two_urls_of_one_page_in_one_batch_keep_only_the_files_both_list(database: str) -> None:
    """Each item drops the stored files it does not list, one after the other: a file keeps its row
    (and id) only when both list it; the others come back as new rows from the upsert."""
    files = {name: AttachmentItem(name, f"https://mcps.com.pl/wp-content/uploads/{name}.pdf", "pdf") for name in "abc"}
    with session_scope(database, write=True) as session:
        save_announcements(session, [make_item(raw=None, attachments=list(files.values()))])
    with session_scope(database) as session:
        before = dict(session.execute(select(Attachment.name, Attachment.id)).all())
    batch = [
        make_item(url=f"{URL}?a=1", raw=None, attachments=[files["a"], files["b"]]),
        make_item(url=f"{URL}?a=2", raw=None, attachments=[files["b"], files["c"]]),
    ]
    with session_scope(database, write=True) as session:
        result = save_announcements(session, batch)
    assert (result.new, result.updated, result.unchanged) == (0, 0, 2)
    with session_scope(database) as session:
        after = dict(session.execute(select(Attachment.name, Attachment.id)).all())
    assert sorted(after) == ["a", "b", "c"]
    assert after["b"] == before["b"], "listed by both: the row stays"
    assert before["b"] < after["a"] < after["c"], "dropped, then stored again as new rows, in the items' order"


def test_round_trip_of_fields_and_utc(database: str) -> None:
    warsaw_noon = datetime(2024, 2, 23, 12, 0, tzinfo=timezone(timedelta(hours=1)))
    with session_scope(database, write=True) as session:
        save_announcements(session, [make_item(published_at=warsaw_noon)])
    with session_scope(database) as session:
        row = session.scalars(select(Announcement)).one()
        assert row.published_at == datetime(2024, 2, 23, 11, 0, tzinfo=UTC)
        assert row.published_at.tzinfo is not None
        assert row.published_from == "wp-api:date_gmt"
        assert row.categories == ["Aktualności"]
        assert row.external_id == "wp:51466"
        assert row.content_hash == make_item().content_hash
        [attachment] = row.attachments
        assert (attachment.name, attachment.file_type, attachment.size) == ("Regulamin konkursu", "pdf", "245 KB")
        raw = session.get(RawPage, row.raw_page_id)
        assert raw is not None and gzip.decompress(raw.body_gzip) == b"<html>v1</html>"
        assert raw.kind == "article" and raw.status == 200


def test_identical_raw_bodies_are_archived_once(database: str) -> None:
    with session_scope(database, write=True) as session:
        save_announcements(session, [make_item()])
    with session_scope(database, write=True) as session:
        save_announcements(session, [make_item()])
    with session_scope(database) as session:
        assert session.scalar(select(func.count()).select_from(RawPage)) == 1


def test_a_raw_body_is_archived_as_the_same_bytes_at_any_time(db_url: str, tmp_path: Path) -> None:
    other = f"sqlite:///{tmp_path / 'other.db'}"
    archives = []
    for url in (db_url, other):
        upgrade(url)
        with session_scope(url, write=True) as session:
            sync_sources(session, load_sources())
            archive_raw_pages(session, [make_item().raw])  # type: ignore[list-item]
        with session_scope(url) as session:
            archives.append(session.scalars(select(RawPage.body_gzip)).one())
        time.sleep(1.1)  # gzip's header time has a resolution of one second
    assert archives[0] == archives[1]
    assert gzip.decompress(archives[0]) == b"<html>v1</html>"


def test_a_raw_page_stored_by_another_writer_after_the_lookup_is_found(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The insert returns only the rows it wrote; one that a concurrent crawl stored between our
    lookup and our insert is looked up again, so the announcement still points at its page."""
    import db.store

    with session_scope(database, write=True) as session:
        stored = archive_raw_pages(session, [make_item().raw])  # type: ignore[list-item]
    lookups = []
    real = db.store._raw_page_ids

    def lookup_before_the_other_writer(session: object, raws: list[RawResponse]) -> dict[str, int]:
        lookups.append(len(raws))
        return {} if len(lookups) == 1 else real(session, raws)  # type: ignore[arg-type]

    monkeypatch.setattr(db.store, "_raw_page_ids", lookup_before_the_other_writer)
    with session_scope(database, write=True) as session:
        save_announcements(session, [make_item()])
    assert lookups == [1, 1]
    with session_scope(database) as session:
        assert session.scalar(select(func.count()).select_from(RawPage)) == 1
        assert session.scalars(select(Announcement.raw_page_id)).one() == next(iter(stored.values()))


def test_naive_datetimes_are_refused(database: str) -> None:
    with pytest.raises(Exception, match="naive datetime"), session_scope(database, write=True) as session:
        save_announcements(session, [make_item(published_at=datetime(2024, 1, 1, 12, 0))])
    with session_scope(database) as session:
        assert session.scalar(select(func.count()).select_from(Announcement)) == 0, "failed batch left nothing"


def test_annotations_are_stored_for_new_and_edited_announcements_only(database: str) -> None:
    from aggregator.annotate import annotate
    from aggregator.entities import gazetteer
    from db.models import Entity, EventDate, Mention
    from db.store import sync_entities

    calls: list[str] = []

    def annotator(item: AnnouncementItem, seen: datetime) -> object:
        calls.append(item.title)
        return annotate(item.title, item.body_text, item.published_at, seen)

    body = (
        "Regionalny Ośrodek Polityki Społecznej w Białymstoku zaprasza OWES-y na spotkanie 12 i 13 października br. "
        "Nabór trwa do 31 marca 2024 r."
    )
    with session_scope(database, write=True) as session:
        sync_entities(session, gazetteer())
        save_announcements(session, [make_item(body_text=body)], annotate=annotator)
    with session_scope(database, write=True) as session:
        save_announcements(session, [make_item(body_text=body)], annotate=annotator)
    assert len(calls) == 1, "an unchanged announcement is not annotated again"

    with session_scope(database) as session:
        mentions = session.execute(
            select(Mention.surface, Entity.key, Entity.kind, Entity.in_gazetteer)
            .join(Entity, Entity.id == Mention.entity_id)
            .order_by(Mention.char_start)
        ).all()
        assert [(m.surface, m.key, m.in_gazetteer) for m in mentions if m.key == "rops-bialystok"] == [
            ("Regionalny Ośrodek Polityki Społecznej w Białymstoku", "rops-bialystok", True)
        ]
        assert any(m.kind == "owes" for m in mentions)
        dates = session.scalars(select(EventDate).order_by(EventDate.char_start)).all()
        assert [(d.match, d.start_date.isoformat(), d.end_date and d.end_date.isoformat(), d.kind) for d in dates] == [
            ("12 i 13 października br.", "2023-10-12", "2023-10-13", "range"),
            ("do 31 marca 2024 r.", "2024-03-31", None, "until"),
        ]
        assert "Nabór trwa" in dates[1].context

    with session_scope(database, write=True) as session:
        edited = make_item(body_text="Nabór przedłużony do 30 kwietnia 2024 r.")
        save_announcements(session, [edited], annotate=annotator)
    with session_scope(database) as session:
        assert [d.match for d in session.scalars(select(EventDate))] == ["do 30 kwietnia 2024 r."]
        assert session.scalar(select(func.count()).select_from(Mention)) == 0


def test_new_surface_forms_join_the_aliases_of_their_entities(database: str) -> None:
    from aggregator.annotate import annotate
    from aggregator.entities import gazetteer
    from db.models import Entity
    from db.store import sync_entities

    def annotator(item: AnnouncementItem, seen: datetime) -> object:
        return annotate(item.title, item.body_text, item.published_at, seen)

    with session_scope(database, write=True) as session:
        sync_entities(session, gazetteer())
        before = session.scalars(select(Entity.aliases).where(Entity.key == "rops-bialystok")).one()
    texts = ["Regionalny Ośrodek Polityki Społecznej w Białymstoku zaprasza.",
             "Spotkanie w Regionalnym Ośrodku Polityki Społecznej w Białymstoku."]  # fmt: skip
    for n, text in enumerate(texts):
        with session_scope(database, write=True) as session:
            item = make_item(url=f"{URL}?n={n}", external_id=None, body_text=text, raw=None, attachments=[])
            save_announcements(session, [item], annotate=annotator)
    with session_scope(database) as session:
        after = session.scalars(select(Entity.aliases).where(Entity.key == "rops-bialystok")).one()
    assert after == sorted({*before, "Regionalny Ośrodek Polityki Społecznej w Białymstoku",
                            "Regionalnym Ośrodku Polityki Społecznej w Białymstoku"})  # fmt: skip
    assert len(after) > len(before)


def test_a_version_keeps_the_stored_text_also_when_another_page_of_the_batch_has_it(database: str) -> None:
    """The stored texts of edited pages are loaded in one query, picked by content hashes that no
    page of the batch has; a page whose old text another page now carries is loaded on its own."""
    with session_scope(database, write=True) as session:
        save_announcements(session, [make_item(raw=None)])
    copy = make_item(url=f"{URL}kopia/", external_id="wp:1", raw=None)  # another page, the old text
    edited = make_item(title="NGO mogą już ubiegać się o dotacje – nowy termin", body_html="<p>Nowy</p>", raw=None)
    with session_scope(database, write=True) as session:
        result = save_announcements(session, [edited, copy])
    assert (result.new, result.updated, result.unchanged) == (1, 1, 0)
    with session_scope(database) as session:
        [version] = session.scalars(select(AnnouncementVersion)).all()
        original = make_item()
        assert (version.title, version.body_text, version.body_html) == (
            original.title, original.body_text, original.body_html
        )  # fmt: skip


def test_a_stored_text_is_not_blanked_by_a_page_left_with_only_a_picture(database: str) -> None:
    poster = ImageItem("https://mcps.com.pl/wp-content/uploads/2023/12/plakat.jpg", "Plakat", None)
    bare = make_item(body_text="", lead=None, body_html=f'<p><img src="{poster.url}" alt="Plakat"></p>',
                     images=[poster], raw=RawResponse("mcps", URL, "article", 200, {}, b"<html>v2</html>"))  # fmt: skip
    with session_scope(database, write=True) as session:
        save_announcements(session, [make_item()])
    with session_scope(database, write=True) as session:
        result = save_announcements(session, [bare])
    assert (result.updated, result.unchanged, result.kept_text) == (0, 1, [URL])
    with session_scope(database) as session:
        row = session.scalars(select(Announcement)).one()
        assert (row.body_text, row.body_html, row.images) == (TEXT, f"<p>{TEXT}</p>", [])
        assert session.scalar(select(func.count()).select_from(AnnouncementVersion)) == 0

    other = "https://mcps.com.pl/plakat-dni-seniora/"  # a new page that is a poster alone is stored as it is
    with session_scope(database, write=True) as session:
        new = save_announcements(session, [replace(bare, url=other, external_id="wp:51467", raw=None)])
    assert (new.new, new.kept_text) == (1, [])


def test_the_sites_backlog_ends_with_the_first_crawl_that_met_it(database: str) -> None:
    """`first_crawl_end` dates what was the site's backlog (undated pages first met before it are not
    news). A first crawl stopped by SIGTERM did not reach all of it, and one that met nothing (the
    site down that night) met none of it: the next crawl meets the rest, and that is backlog too,
    not today's news (every undated page of the site posed as that night's news)."""
    from db.store import finish_run, first_crawl_end, start_run

    nights = [("skipped", 0), ("stopped", 3), ("failed", 0), ("failed", 0), ("failed", 2), ("ok", 5)]
    with session_scope(database, write=True) as session:
        for night, (status, met) in enumerate(nights):
            run = start_run(session, f"run-{night}", "rops-kielce", None, False)
            finish_run(session, run, status=status, items_new=met)
        ends = session.scalars(select(CrawlRun.finished_at).order_by(CrawlRun.id)).all()
        assert first_crawl_end(session, "rops-kielce") == ends[4], "the first (failed) crawl that met pages"


def test_insert_rows_stores_what_an_insert_through_sqlalchemy_stores(database: str) -> None:
    """`insert_rows` (the driver's executemany on SQLite) against SQLAlchemy's insert: the same
    stored values, dates and datetimes (a non-UTC one included) through their column types."""
    warsaw = timezone(timedelta(hours=1))
    with session_scope(database, write=True) as session:
        save_announcements(session, [make_item()])
        announcement_id = session.scalar(select(Announcement.id))
        table = EventDate.__table__

        def rows(start: int) -> list[dict[str, object]]:
            return [
                {"announcement_id": announcement_id, "field": "body", "match": "27 grudnia", "context": "od 27 grudnia",
                 "char_start": start + i, "start_date": date(2023, 12, 27), "end_date": date(2024, 1, 5) if i else None,
                 "start_at": datetime(2023, 12, 27, 9, 15, tzinfo=warsaw) if i else None, "end_at": None,
                 "granularity": "day", "kind": "point"}
                for i in range(2)
            ]  # fmt: skip

        insert_rows(session, table, rows(0))
        session.execute(insert(table), rows(100))
        with pytest.raises(StatementError, match="naive datetime"):  # refused as SQLAlchemy refuses it
            insert_rows(session, table, [{**rows(200)[1], "start_at": datetime(2023, 12, 27, 9, 15)}])
    with session_scope(database) as session:
        stored = session.execute(select(table).order_by(table.c.char_start)).all()
    ours, theirs = stored[:2], stored[2:]
    assert [row._mapping["char_start"] for row in stored] == [0, 1, 100, 101]
    for mine, other in zip(ours, theirs, strict=True):
        assert {**mine._mapping, "id": 0, "char_start": 0} == {**other._mapping, "id": 0, "char_start": 0}
    assert theirs[1].start_at == datetime(2023, 12, 27, 8, 15, tzinfo=UTC)
