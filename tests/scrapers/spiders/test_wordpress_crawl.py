"""MCPS end to end: `ropsfeed crawl` in its own process against the mirror over real HTTP.

Every strategy (REST API, RSS + article pages, HTML listings + article pages) must store the same
announcements, field by field equal to the real texts the mirror was built from.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from db.engine import session_scope
from db.models import Announcement, AnnouncementVersion, CrawlRun, RawPage
from scrapers.mirror.server import BackgroundMirror
from tests.conftest import FirstCrawl, run_cli
from tests.scrapers import overlays
from tests.scrapers.expected import expected_articles

pytestmark = pytest.mark.network
EXPECTED = expected_articles("mcps")


def crawl(db: str, mirror_url: str, *extra: str) -> tuple[int, str]:
    result = run_cli("crawl", "mcps", "--mirror", mirror_url, "--db", db, *extra)
    return result.returncode, result.stdout + result.stderr


def stored(db: str) -> dict[str, Announcement]:
    with session_scope(db) as session:
        rows = session.scalars(select(Announcement).options(selectinload(Announcement.attachments))).all()
        return {row.url: row for row in rows}


def runs(db: str) -> list[CrawlRun]:
    with session_scope(db) as session:
        return list(session.scalars(select(CrawlRun).order_by(CrawlRun.id)))


def assert_matches_texts(row: Announcement, *, exact_dates: bool = True) -> None:
    expected = EXPECTED[row.url]
    assert row.source_id == "mcps"
    assert row.title == expected.title
    paragraphs = [p for p in row.body_text.split("\n\n") if p]
    assert paragraphs[: len(expected.paragraphs)] == expected.paragraphs
    if expected.attachment_names:
        assert paragraphs[len(expected.paragraphs) :] == ["Do pobrania:", *expected.attachment_names]
    else:
        assert len(paragraphs) == len(expected.paragraphs), "no boilerplate may stay in the body"
    for boilerplate in ("Menu", "Zamknij", "Opublikowano w", "Powiązane", "Najnowsze wpisy", "Nowogrodzka 62a"):
        assert boilerplate not in row.body_text
    assert row.lead == (expected.paragraphs[0] if len(expected.paragraphs[0]) <= 500 else row.lead)
    assert row.lead and expected.paragraphs[0].startswith(row.lead.rstrip("…"))
    assert row.categories == expected.categories
    assert [a.name for a in row.attachments] == expected.attachment_names
    for attachment in row.attachments:
        assert attachment.url.startswith("https://mcps.com.pl/wp-content/uploads/")
        assert attachment.file_type == "pdf"
    assert row.published_at == expected.published_at
    assert row.body_html.startswith("<p>") and "<script" not in row.body_html
    assert "127.0.0.1" not in row.body_html + row.url + "".join(a.url for a in row.attachments)
    assert row.language == "pl"


def test_rest_api_crawl_stores_every_announcement_then_recrawl_fetches_only_the_first_page(
    db_url: str, mirror: BackgroundMirror
) -> None:
    code, output = crawl(db_url, mirror.url)
    assert code == 0, output
    rows = stored(db_url)
    assert set(rows) == set(EXPECTED)
    for row in rows.values():
        assert_matches_texts(row)
        assert row.published_from == "wp-api:date_gmt"
        assert row.external_id and row.external_id.startswith("wp:")
    [first] = runs(db_url)
    assert (first.status, first.strategy, first.items_new, first.errors) == ("ok", "wp-api", 7, [])
    assert first.pages_fetched == 3  # robots.txt + two API pages

    code, output = crawl(db_url, mirror.url)
    assert code == 0, output
    second = runs(db_url)[-1]
    assert (second.items_new, second.items_updated, second.items_unchanged) == (0, 0, 5)
    assert second.pages_fetched == 2, "robots.txt and API page 1 only: page 1 had nothing new"
    with session_scope(db_url) as session:
        assert session.scalar(select(func.count()).select_from(Announcement)) == 7
        raws = session.scalars(select(RawPage)).all()
        assert {r.kind for r in raws} == {"api"} and len(raws) == 2, "identical API pages archived once"
        assert b'"link": "https://mcps.com.pl/' in gzip.decompress(raws[0].body_gzip)

    code, output = crawl(db_url, mirror.url, "--full")
    assert code == 0, output
    assert runs(db_url)[-1].items_unchanged == 7


def test_edited_post_updates_in_place_and_keeps_the_previous_version(
    sqlite_url: str, first_crawl: FirstCrawl, layered: Callable[..., BackgroundMirror]
) -> None:
    assert first_crawl("mcps").returncode == 0
    holder: dict[str, str] = {}
    with layered(lambda root: holder.update(url=overlays.edited_post(root, "Zmieniony tytu&#322;"))) as edited:
        code, output = crawl(sqlite_url, edited.url)
    assert code == 0, output
    assert runs(sqlite_url)[-1].items_updated == 1
    rows = stored(sqlite_url)
    assert len(rows) == 7
    assert rows[holder["url"]].title == "Zmieniony tytuł"
    with session_scope(sqlite_url) as session:
        [version] = session.scalars(select(AnnouncementVersion)).all()
        assert version.title == EXPECTED[holder["url"]].title


def test_an_api_post_emptied_to_a_spacer_is_an_alarm_and_keeps_its_stored_text(
    sqlite_url: str, first_crawl: FirstCrawl, layered: Callable[..., BackgroundMirror]
) -> None:
    assert first_crawl("mcps").returncode == 0
    holder: dict[str, str] = {}
    with layered(lambda root: holder.update(url=overlays.emptied_post(root))) as emptied:
        code, output = crawl(sqlite_url, emptied.url, "--full")
    assert code == 0, output  # an alarm, no error
    run = runs(sqlite_url)[-1]
    assert any(holder["url"] in alarm and "no text" in alarm for alarm in run.alarms), run.alarms
    assert run.items_updated == 0
    row = stored(sqlite_url)[holder["url"]]
    assert_matches_texts(row)
    assert row.deleted_at is None, "a post listed without its text is not deleted either"


def test_rss_fallback_with_bad_pages_stores_the_good_ones_and_reports_each_failure(
    sqlite_url: str, layered: Callable[..., BackgroundMirror]
) -> None:
    with layered(overlays.api_disabled, overlays.bad_pages) as site:
        code, output = crawl(sqlite_url, site.url)
    assert code == 1, "a source with errors makes the crawl exit non-zero"
    base = "https://mcps.com.pl"
    assert f"mcps: GET {base}{overlays.NGO}: HTTP 404" in output
    assert f"mcps: GET {base}{overlays.MMES_2021}: HTTP 500" in output
    rows = stored(sqlite_url)
    assert set(rows) == set(EXPECTED) - {base + overlays.NGO, base + overlays.MMES_2021}
    for row in rows.values():
        assert_matches_texts(row)
        assert row.published_from == "json-ld"
    assert "Mazowieckiego Komitetu Rozwoju Ekonomii Społecznej" in rows[base + overlays.IX_POSIEDZENIE].title
    run = runs(sqlite_url)[-1]
    assert (run.status, run.strategy, run.items_new) == ("failed", "rss", 5)
    assert len(run.errors) == 2
    assert run.responses.get("500") == 3, "a 500 is retried twice before it counts as an error"
    with session_scope(sqlite_url) as session:
        kinds = session.scalars(select(RawPage.kind)).all()
        assert sorted(kinds) == ["article"] * 5

    # the next run recovers what failed once the site is healthy again, and fetches nothing twice
    with layered(overlays.api_disabled) as healthy:
        code, output = crawl(sqlite_url, healthy.url)
    assert code == 0, output
    assert set(stored(sqlite_url)) == set(EXPECTED)
    run = runs(sqlite_url)[-1]
    assert run.items_new == 2
    assert run.pages_fetched == 1 + 2 + 2 + 1, "robots, 2 feed pages, the 2 missing articles, the 404 past the end"


def test_pages_whose_charset_label_lies_are_stored_as_correct_polish(
    sqlite_url: str, layered: Callable[..., BackgroundMirror]
) -> None:
    with layered(overlays.api_disabled, overlays.feed_disabled, overlays.wrong_charset_labels) as site:
        code, output = crawl(sqlite_url, site.url)
    assert code == 0, output
    rows = stored(sqlite_url)
    assert set(rows) == set(EXPECTED)
    for row in rows.values():
        assert_matches_texts(row)
    base = "https://mcps.com.pl"
    for path, read_as, declared in ((overlays.IX_POSIEDZENIE, "cp1250", "cp1252"),
                                    (overlays.SWIETO, "utf-8", "cp1250"),
                                    (overlays.MMES_2021, "iso8859-2", "utf-8")):  # fmt: skip
        assert f"{base}{path}: read as {read_as}, not as declared ({declared})" in output


def test_html_fallback_when_api_and_feed_are_gone(db_url: str, layered: Callable[..., BackgroundMirror]) -> None:
    with layered(overlays.api_disabled, overlays.feed_disabled) as site:
        code, output = crawl(db_url, site.url)
    assert code == 0, output
    rows = stored(db_url)
    assert set(rows) == set(EXPECTED)
    for row in rows.values():
        assert_matches_texts(row)
    assert runs(db_url)[-1].strategy == "html"


def test_live_crawl_without_network_fails_fast_and_names_the_cause(sqlite_url: str) -> None:
    result = run_cli("crawl", "mcps", "--db", sqlite_url, env={"http_proxy": "", "https_proxy": ""}, timeout=60)
    assert result.returncode == 1
    assert "mcps: GET https://mcps.com.pl/wp-json/wp/v2/posts" in result.stderr
    assert "DNS lookup failed" in result.stderr or "connection refused" in result.stderr or "timed out" in result.stderr
    [run] = runs(sqlite_url)
    assert run.status == "failed"


def test_rest_api_pages_ahead_only_after_a_page_of_new_posts() -> None:
    """A page whose posts were all new (a first crawl) has the next API_PAGES_AHEAD requested at
    once; a page with some known posts only the next one; no page twice, none past the last."""
    from scrapers.spiders.generated import SPIDERS
    from scrapers.spiders.wordpress import API_PAGES_AHEAD

    spider = SPIDERS["mcps"]()
    assert spider.pages_after(1, 25, all_new=True) == list(range(2, 2 + API_PAGES_AHEAD))
    assert spider.pages_after(2, 25, all_new=True) == [2 + API_PAGES_AHEAD], "the others are asked already"
    assert spider.pages_after(3, 25, all_new=False) == []
    assert spider.pages_after(8, 25, all_new=False) == [9]
    assert spider.pages_after(23, 25, all_new=True) == [24, 25]
    assert spider.pages_after(25, 25, all_new=True) == []


def test_a_posts_featured_image_comes_with_the_rest_api_page(
    sqlite_url: str, first_crawl: FirstCrawl, layered: Callable[..., BackgroundMirror]
) -> None:
    """Also for a post stored before (without it): the unchanged post's row takes the picture."""
    assert first_crawl("mcps").returncode == 0
    holder: dict[str, tuple[str, dict]] = {}
    with layered(lambda root: holder.update(post=overlays.featured_media(root))) as site:
        code, output = crawl(sqlite_url, site.url, "--full")
    assert code == 0, output
    assert runs(sqlite_url)[-1].items_unchanged == 7
    url, media = holder["post"]
    rows = stored(sqlite_url)
    assert rows[url].images == [
        {"url": media["source_url"], "alt": "Plakat wydarzenia", "caption": EXPECTED[url].title}
    ], "the featured image, its alt text and its caption as text"
    assert all(not row.images for other, row in rows.items() if other != url), "no post has a picture of its own"
