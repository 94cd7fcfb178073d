"""URL identity, edits and tombstones end to end: `ropsfeed crawl` against mirror variants.

One page reached by another URL (alias host, trailing slash, tracking parameter, the CMS's id URL,
a changed permalink) updates its row; a page the site deleted becomes a tombstone that leaves the
feed and comes back when the page does; a server error is not a deletion.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from aggregator.feeds import FeedFilters, select_entries
from db.engine import session_scope
from db.models import Announcement, CrawlRun
from scrapers.mirror.server import BackgroundMirror
from tests.conftest import FirstCrawl, run_cli
from tests.scrapers import overlays

pytestmark = pytest.mark.network
MCPS = "https://mcps.com.pl"
ES = "http://es.mcps-efs.pl"


def crawl(db: str, mirror_url: str, source: str, *extra: str) -> CrawlRun:
    return outcome(db, source, run_cli("crawl", source, "--mirror", mirror_url, "--db", db, *extra))


def outcome(db: str, source: str, result: subprocess.CompletedProcess[str]) -> CrawlRun:
    """The crawl run `result`'s command recorded last, with the command's output."""
    with session_scope(db) as session:
        run = session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(1)).one()
    assert run.source_id == source, result.stdout + result.stderr
    run.output = result.stdout + result.stderr  # type: ignore[attr-defined]
    return run


def rows(db: str) -> dict[str, Announcement]:
    with session_scope(db) as session:
        query = select(Announcement).options(selectinload(Announcement.versions))
        return {row.url: row for row in session.scalars(query)}


def feed_urls(db: str) -> set[str]:
    with session_scope(db) as session:
        return {entry.url for entry in select_entries(session, FeedFilters(limit=100))}


def test_pages_reached_through_other_urls_update_their_rows(
    sqlite_url: str, mirror: BackgroundMirror, layered: Callable[..., BackgroundMirror]
) -> None:
    first = crawl(sqlite_url, mirror.url, "mcps-es")
    assert (first.status, first.items_new) == ("ok", 6), first.output  # type: ignore[attr-defined]
    before = rows(sqlite_url)
    mkres, mmes = ES + overlays.MKRES, ES + overlays.MMES_2018

    with layered(overlays.es_reached_by_other_urls) as site:
        second = crawl(sqlite_url, site.url, "mcps-es", "--full")
    assert second.status == "ok", second.errors
    assert (second.items_new, second.items_updated, second.items_unchanged) == (0, 1, 5)
    after = rows(sqlite_url)
    assert set(after) == set(before), "www., a trailing slash, utm_source and /node/ID are the same pages"
    assert {r.id for r in after.values()} == {r.id for r in before.values()}
    edited = after[mkres]
    assert overlays.EDITED_SENTENCE in edited.body_text, "the edit reached through the alias is stored"
    assert [v.body_text for v in edited.versions] == [before[mkres].body_text], "the previous text is kept"
    assert edited.first_seen_at == before[mkres].first_seen_at
    assert after[mmes].external_id == "node:20238", "the Drupal node the id URL names"


def test_wordpress_post_id_links_a_moved_permalink_and_a_shortlink_to_one_row(
    sqlite_url: str, mirror: BackgroundMirror, layered: Callable[..., BackgroundMirror], first_crawl: FirstCrawl
) -> None:
    assert outcome(sqlite_url, "mcps", first_crawl("mcps")).items_new == 7
    holder: dict[str, dict] = {}
    new_link = f"{MCPS}/ngo-moga-juz-ubiegac-sie-o-dotacje-2024/aktualnosci/"

    def moved_and_deleted(root: Path) -> None:
        holder["moved"], holder["deleted"] = overlays.api_post_moved_and_post_deleted(root, new_link)

    # an editor fixed one post's slug and deleted another; a --full crawl reads the whole listing
    with layered(moved_and_deleted) as site:
        run = crawl(sqlite_url, site.url, "mcps", "--full")
    assert (run.status, run.items_new, run.items_deleted) == ("ok", 0, 1), run.output  # type: ignore[attr-defined]
    moved_url, deleted_url = holder["moved"]["link"], holder["deleted"]["link"]
    stored = rows(sqlite_url)
    assert len(stored) == 7 and moved_url not in stored
    assert stored[new_link].external_id == "wp:51466", "the same post, now under the URL the site gives"
    assert stored[new_link].url_key == "mcps.com.pl/ngo-moga-juz-ubiegac-sie-o-dotacje-2024/aktualnosci"
    gone = stored[deleted_url]
    assert gone.deleted_at is not None and gone.deleted_reason == "missing from the complete REST API listing"
    assert deleted_url not in feed_urls(sqlite_url) and new_link in feed_urls(sqlite_url)

    # an incremental crawl reads only what it needs: no tombstones from a partial listing
    with layered(moved_and_deleted) as site:
        run = crawl(sqlite_url, site.url, "mcps")
    assert (run.items_deleted, run.pages_fetched) == (0, 2)

    # the post is back (and the slug reverted): restored, with nothing new
    run = crawl(sqlite_url, mirror.url, "mcps")
    assert (run.items_new, run.items_restored, run.items_deleted) == (0, 1, 0)
    stored = rows(sqlite_url)
    assert len(stored) == 7 and moved_url in stored and new_link not in stored, "the reverted slug is followed"
    assert stored[deleted_url].deleted_at is None and deleted_url in feed_urls(sqlite_url)

    # HTML listings linking /?p=ID (redirected to the permalinks) reach the same seven rows
    with layered(overlays.api_disabled, overlays.feed_disabled, overlays.listing_links_post_ids) as site:
        run = crawl(sqlite_url, site.url, "mcps", "--full")
    assert (run.status, run.strategy, run.items_new, run.items_unchanged) == ("ok", "html", 0, 7), run.errors
    assert run.responses.get("301") == 7
    assert set(rows(sqlite_url)) == set(stored)


def test_nightly_crawl_notices_a_post_deleted_from_the_rest_api(
    sqlite_url: str, layered: Callable[..., BackgroundMirror], first_crawl: FirstCrawl
) -> None:
    """The nightly job never runs --full: a listing counting fewer posts than are stored is read
    whole, so the deleted post leaves the feed the next night, not never."""
    assert outcome(sqlite_url, "mcps", first_crawl("mcps")).items_new == 7
    holder: dict[str, dict] = {}

    def deleted(root: Path) -> None:
        holder["deleted"] = overlays.api_post_deleted(root)

    with layered(deleted) as site:
        run = crawl(sqlite_url, site.url, "mcps")
    assert (run.status, run.items_new, run.items_deleted) == ("ok", 0, 1), run.output  # type: ignore[attr-defined]
    walked = run.pages_fetched
    gone = rows(sqlite_url)[holder["deleted"]["link"]]
    assert gone.deleted_reason == "missing from the complete REST API listing"
    assert gone.url not in feed_urls(sqlite_url)

    with layered(deleted) as site:  # the count matches what is stored again: page 2 is not read
        run = crawl(sqlite_url, site.url, "mcps")
    assert (run.items_deleted, run.pages_fetched) == (0, walked - 1)


def test_deleted_page_becomes_a_tombstone_and_a_server_error_does_not(
    sqlite_url: str, layered: Callable[..., BackgroundMirror]
) -> None:
    html_only = (overlays.api_disabled, overlays.feed_disabled)
    with layered(*html_only) as site:
        assert crawl(sqlite_url, site.url, "mcps").items_new == 7
    ngo, mmes = MCPS + overlays.NGO, MCPS + overlays.MMES_2021

    with layered(*html_only, overlays.bad_pages) as site:  # NGO answers 404, MMES 2021 answers 500
        run = crawl(sqlite_url, site.url, "mcps", "--full")
    assert (run.items_new, run.items_deleted) == (0, 1)
    assert run.status == "failed" and run.errors == [f"GET {mmes}: HTTP 500"], "a 500 is an error, not a deletion"
    assert "deleted mcps: 1 page(s) gone from the site (kept as tombstones), 0 restored" in run.output  # type: ignore[attr-defined]
    stored = rows(sqlite_url)
    assert len(stored) == 7, "a tombstone, not a hard delete"
    assert (stored[ngo].deleted_reason, stored[mmes].deleted_at) == ("HTTP 404", None)
    assert ngo not in feed_urls(sqlite_url) and mmes in feed_urls(sqlite_url)

    with layered(*html_only, overlays.bad_pages) as site:  # still gone: no error, nothing new
        run = crawl(sqlite_url, site.url, "mcps")
    assert (run.items_new, run.items_deleted, run.items_restored) == (0, 0, 0)
    assert f"GET {ngo}" not in json.dumps(run.errors), "a known deleted page is no crawl error"

    with layered(*html_only) as site:  # the page is back on the listing: fetched again, restored
        run = crawl(sqlite_url, site.url, "mcps")
    assert (run.status, run.items_new, run.items_restored) == ("ok", 0, 1)
    assert rows(sqlite_url)[ngo].deleted_at is None and ngo in feed_urls(sqlite_url)
