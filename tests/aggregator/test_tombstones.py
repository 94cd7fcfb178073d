"""Tombstones in the database: a deleted page leaves feeds and stories, and comes back restored."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from aggregator.feeds import FeedFilters, select_entries
from aggregator.stories import assign_stories
from aggregator.urls import url_key
from db.engine import session_scope
from db.models import Announcement, Story
from db.store import implausible_purge, known_keys, save_announcements, tombstone, tombstone_missing
from tests.aggregator.test_stories import text_item


def feed_urls(database: str) -> dict[str, list[str]]:
    """{entry URL: its other sources' URLs}."""
    with session_scope(database) as session:
        return {e.url: e.other_urls for e in select_entries(session, FeedFilters(limit=100))}


def live_stories(database: str) -> dict[str, tuple[str, int]]:
    with session_scope(database) as session:
        result = {}
        for story in session.scalars(select(Story)):
            representative = session.get(Announcement, story.representative_id)
            assert representative is not None and representative.deleted_at is None
            result[story.key] = (representative.url, story.size)
        return result


def test_deleted_pages_leave_feed_and_story_and_come_back_under_the_same_story(database: str) -> None:
    mcps = text_item("mcps", "rusza-konkurs-mazowiecka-marka-ekonomii-spolecznej-2018",
                     published_at=datetime(2018, 1, 31, 9, tzinfo=UTC))  # fmt: skip
    copy = text_item("mcps-es", "rusza-konkurs-mazowiecka-marka-ekonomii-spo%C5%82ecznej%E2%80%99-2018")
    other = text_item("mcps", "ngo-moga-juz-ubiegac-sie-o-dotacje")
    with session_scope(database, write=True) as session:
        save_announcements(session, [mcps, other, copy])
    assign_stories(database)
    [story_key] = [k for k, (_, size) in live_stories(database).items() if size == 2]
    assert feed_urls(database)[mcps.url] == [copy.url]

    # the original is deleted: the copy represents the story alone
    with session_scope(database, write=True) as session:
        assert tombstone(session, "mcps", [url_key(mcps.url)], [], "HTTP 404") == 1
        assert tombstone(session, "mcps", [url_key(mcps.url)], [], "HTTP 404") == 0, "already a tombstone"
    assign_stories(database)
    assert live_stories(database)[story_key] == (copy.url, 1)
    assert mcps.url not in feed_urls(database) and feed_urls(database)[copy.url] == []

    # the copy goes too: the story leaves the feed; the other story stays
    with session_scope(database, write=True) as session:
        tombstone(session, "mcps-es", [], [copy.url], "missing from the complete REST API listing")
    assign_stories(database)
    assert story_key not in live_stories(database)
    assert list(feed_urls(database)) == [other.url]
    with session_scope(database) as session:
        row = session.scalars(select(Announcement).where(Announcement.url == copy.url)).one()
        assert row.deleted_reason == "missing from the complete REST API listing" and row.deleted_at is not None
        assert row.story_key == story_key, "the tombstone remembers its story"
        live, deleted = known_keys(session, "mcps", url_key)
        assert url_key(mcps.url) in deleted and url_key(mcps.url) not in live and url_key(other.url) in live

    # the original page returns unchanged: restored, its story back under the same key
    with session_scope(database, write=True) as session:
        result = save_announcements(session, [mcps])
    assert (result.new, result.unchanged, result.restored) == (0, 1, 1)
    report = assign_stories(database)
    assert report.assigned == 0
    assert live_stories(database)[story_key] == (mcps.url, 1)
    assert set(feed_urls(database)) == {mcps.url, other.url}
    with session_scope(database) as session:
        row = session.scalars(select(Announcement).where(Announcement.url == mcps.url)).one()
        assert (row.deleted_at, row.deleted_reason) == (None, None)


def test_an_edited_page_that_returns_is_restored_with_its_old_text_kept(database: str) -> None:
    item = text_item("mcps", "ngo-moga-juz-ubiegac-sie-o-dotacje")
    with session_scope(database, write=True) as session:
        save_announcements(session, [item])
        tombstone(session, "mcps", [url_key(item.url)], [], "HTTP 410")
    edited = replace(item, title=item.title + " – aktualizacja")
    with session_scope(database, write=True) as session:
        result = save_announcements(session, [edited])
    assert (result.updated, result.restored) == (1, 1)
    with session_scope(database) as session:
        row = session.scalars(select(Announcement)).one()
        assert row.deleted_at is None and row.title.endswith("aktualizacja")
        assert [v.title for v in row.versions] == [item.title]


def test_reparse_does_not_bring_a_tombstone_back(database: str) -> None:
    item = text_item("mcps", "ngo-moga-juz-ubiegac-sie-o-dotacje")
    with session_scope(database, write=True) as session:
        save_announcements(session, [item])
        tombstone(session, "mcps", [url_key(item.url)], [], "HTTP 404")
    with session_scope(database, write=True) as session:  # a parser fix re-reading the archive
        result = save_announcements(session, [replace(item, title="Poprawiony tytuł")], record_versions=False)
    assert result.restored == 0
    with session_scope(database) as session:
        assert session.scalars(select(Announcement)).one().deleted_at is not None


def test_a_listing_that_would_delete_most_of_a_source_deletes_nothing(database: str) -> None:
    items = [
        replace(text_item("mcps", "ngo-moga-juz-ubiegac-sie-o-dotacje"), url=f"https://mcps.com.pl/wpis-{i}/")
        for i in range(12)
    ]
    with session_scope(database, write=True) as session:
        save_announcements(session, items)
    keys = {url_key(i.url) for i in items}
    with session_scope(database, write=True) as session:
        assert tombstone_missing(session, "mcps", set(), url_key, "gone")[0] == 0, "an empty listing is no purge"
        marked, alarm = tombstone_missing(session, "mcps", {url_key(items[0].url)}, url_key, "gone")
        assert marked == 0 and alarm and "11 of 12" in alarm
        assert tombstone_missing(session, "mcps", keys - {url_key(items[3].url)}, url_key, "gone") == (1, None)
    with session_scope(database) as session:
        assert session.scalars(select(Announcement.url).where(Announcement.deleted_at.is_not(None))).all() == [
            items[3].url
        ]


def test_a_listing_that_would_delete_most_of_a_small_source_deletes_nothing(database: str) -> None:
    """A broken REST API answering one post of seven (and saying that is all) is no purge of six;
    a genuine deletion in a source of one or two announcements still goes through."""
    items = [
        replace(text_item("mcps", "ngo-moga-juz-ubiegac-sie-o-dotacje"), url=f"https://mcps.com.pl/wpis-{i}/")
        for i in range(7)
    ]
    keys = [url_key(i.url) for i in items]
    lone = replace(items[0], source_id="mcps-es", url="http://es.mcps-efs.pl/artykul/jedyny")
    with session_scope(database, write=True) as session:
        save_announcements(session, [*items, lone])
    with session_scope(database, write=True) as session:
        marked, alarm = tombstone_missing(session, "mcps", {keys[0]}, url_key, "gone")
        assert marked == 0 and alarm and alarm.startswith("6 of 7 stored announcements are missing")
        assert tombstone_missing(session, "mcps", set(keys[1:]), url_key, "gone") == (1, None)
        assert tombstone_missing(session, "mcps-es", {"es.mcps-efs.pl/artykul/nowy"}, url_key, "gone") == (1, None)
    with session_scope(database) as session:
        assert set(session.scalars(select(Announcement.url).where(Announcement.deleted_at.is_not(None)))) == {
            items[0].url,
            lone.url,
        }


@pytest.mark.parametrize(
    ("missing", "live", "held_back"),
    [(1, 1, False), (2, 3, False), (3, 7, False), (6, 7, True), (3, 5, True),
     (11, 500, False), (100, 500, False), (101, 500, True), (260, 500, True), (11, 20, True)],
)  # fmt: skip
def test_what_a_complete_listing_may_delete_at_once(missing: int, live: int, held_back: bool) -> None:
    """Deletions a site makes go through (two of three posts, an archive clean-up of 11 of 500);
    a listing that lost most of a source, or a fifth of a big one, is held back with an alarm."""
    assert implausible_purge(missing, live) is held_back
