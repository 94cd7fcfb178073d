"""crawl_runs records every run fully; a second run right after the first fetches listings only and
stores nothing new; layout changes (nothing found, posts without title or body) raise alarms."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from sqlalchemy import func, select

from db.engine import session_scope
from db.models import Announcement, CrawlRun, EventDate, RawPage
from scrapers.mirror.server import SNAPSHOT_DIR, BackgroundMirror
from scrapers.wp_rest import api_query
from tests.aggregator.cli_inprocess import invoke
from tests.conftest import FirstCrawl, run_cli
from tests.scrapers.overlays import RZESZOW_ARTICLE, RZESZOW_HOST, rzeszow_article_changed, soft_404

pytestmark = pytest.mark.network

SOURCES = ("mcps", "rops-rzeszow", "rops-katowice")  # REST API, HTML listings, RSS feed
REQUEST_LINE = re.compile(r'"GET (\S+) HTTP')


def mirror_paths(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The paths the mirror served since the last clear, unquoted."""
    found = [REQUEST_LINE.search(r.getMessage()) for r in caplog.records if r.name == "scrapers.mirror.server"]
    return [unquote(m.group(1)) for m in found if m]


def runs_of(database: str) -> list[CrawlRun]:
    with session_scope(database) as session:
        return list(session.scalars(select(CrawlRun).order_by(CrawlRun.id)))


@pytest.fixture
def own_mirror() -> Iterator[BackgroundMirror]:
    """The bundled mirror served to this test alone: its request log is compared with the runs'
    request counts, which another test's crawl of the shared mirror (a parallel worker's, or one
    still winding down) would throw off."""
    with BackgroundMirror([SNAPSHOT_DIR]) as server:
        yield server


def test_second_run_fetches_listings_only_and_stores_nothing(
    sqlite_url: str, own_mirror: BackgroundMirror, caplog: pytest.LogCaptureFixture
) -> None:
    mirror = own_mirror
    caplog.set_level(logging.DEBUG, logger="scrapers.mirror.server")
    first = run_cli("crawl", *SOURCES, "--mirror", mirror.url, "--db", sqlite_url)
    assert first.returncode == 0, first.stdout + first.stderr
    with session_scope(sqlite_url) as session:
        article_paths = {unquote(f"/{urlsplit(u).netloc}{urlsplit(u).path}") for u in session.scalars(
            select(Announcement.url).where(Announcement.source_id != "mcps"))}  # fmt: skip
        stored = session.scalar(select(func.count()).select_from(Announcement))
        archived = session.scalar(select(func.count()).select_from(RawPage))
    first_paths = mirror_paths(caplog)
    assert article_paths and article_paths <= {p.split("?")[0].rstrip("/") for p in first_paths} | {
        p.split("?")[0] for p in first_paths
    }, "run 1 fetched the article pages"

    caplog.clear()
    second = run_cli("crawl", *SOURCES, "--mirror", mirror.url, "--db", sqlite_url)
    assert second.returncode == 0, second.stdout + second.stderr
    second_paths = mirror_paths(caplog)
    assert not {p.split("?")[0] for p in second_paths} & article_paths, "run 2 fetched no article page"
    assert all(p.endswith("robots.txt") or "wp-json" in p or "feed" in p or "aktualnosci" in p for p in second_paths)

    runs = runs_of(sqlite_url)
    assert len(runs) == 2 * len(SOURCES)
    one, two = runs[: len(SOURCES)], runs[len(SOURCES) :]
    for run in runs:
        assert run.status == "ok" and run.errors == [] and run.alarms == []
        assert run.started_at <= run.finished_at
        assert sum(run.responses.values()) == run.pages_fetched and run.responses["200"] >= 1
    assert next(r.responses for r in runs if r.source_id == "rops-katowice") == {"200": 6, "401": 1, "404": 1}
    assert sum(r.items_new for r in one) == stored > 0
    assert sum(r.items_new + r.items_updated for r in two) == 0, "run 2 stored nothing new"
    assert sum(r.requests for r in two) == len(second_paths) < sum(r.requests for r in one) == len(first_paths)
    with session_scope(sqlite_url) as session:
        assert session.scalar(select(func.count()).select_from(Announcement)) == stored
        assert session.scalar(select(func.count()).select_from(RawPage)) == archived, "no page archived twice"


def broken_layouts(root: Path) -> None:
    """mcps: every REST API post lost its title; rops-rzeszow: the listing no longer shows links."""
    api = root / "mcps.com.pl"
    api.mkdir()
    for page in (1, 2):
        posts = json.loads((SNAPSHOT_DIR / f"mcps.com.pl/wp-json/wp/v2/posts-page-{page}.json").read_text("utf-8"))
        for post in posts:
            post["title"]["rendered"] = ""
        (api / f"posts-{page}.json").write_text(json.dumps(posts), encoding="utf-8")
        with (api / "routes.toml").open("a", encoding="utf-8") as routes:
            routes.write('[[route]]\npath = "/wp-json/wp/v2/posts"\n'
                         f'query = "{api_query(5, page)}"\nfile = "posts-{page}.json"\n'
                         'content_type = "application/json"\n'
                         'headers = { "X-WP-TotalPages" = "2" }\n')  # fmt: skip
    listing = root / "www.rops.rzeszow.pl"
    listing.mkdir()
    (listing / "routes.toml").write_text(
        '[[route]]\npath = "/aktualnosci"\nbody = "<html><body><h1>Aktualności</h1><p>Nowa strona</p></body></html>"\n',
        encoding="utf-8",
    )


def test_layout_alarms_recorded_and_shown_by_status(sqlite_url: str, tmp_path: Path) -> None:
    broken_layouts(tmp_path)
    with BackgroundMirror([tmp_path, SNAPSHOT_DIR]) as broken:
        result = run_cli("crawl", "mcps", "rops-rzeszow", "--mirror", broken.url, "--db", sqlite_url)
    runs = {r.source_id: r for r in runs_of(sqlite_url)}
    assert any("has no title, no text or no link" in a for a in runs["mcps"].alarms), runs["mcps"].alarms
    assert any("yielded no items" in a for a in runs["rops-rzeszow"].alarms), runs["rops-rzeszow"].alarms
    assert "alarm mcps: REST API post https://mcps.com.pl/" in result.stderr
    status = {
        row["source_id"]: row
        for row in map(json.loads, invoke("status", "--json", "--db", sqlite_url).stdout.splitlines())
    }
    assert status["rops-rzeszow"]["health"] == "alarm" and status["rops-rzeszow"]["alarms"]
    assert status["mcps"]["alarms"]


def test_an_error_page_served_as_200_never_replaces_a_stored_announcement(
    sqlite_url: str, first_crawl: FirstCrawl, tmp_path: Path
) -> None:
    """A "soft 404" (the site's not-found page with HTTP 200) met by a full re-crawl: an alarm that
    names it, and the stored announcement keeps its text (it may be a passing fault)."""
    first = first_crawl("rops-rzeszow")
    assert first.returncode == 0, first.stdout + first.stderr
    url = f"https://{RZESZOW_HOST}{RZESZOW_ARTICLE}"
    with session_scope(sqlite_url) as session:
        before = session.scalars(select(Announcement).where(Announcement.url == url)).one()
        stored = (before.title, before.body_text, before.content_hash)
    assert stored[0].startswith("Ponad 1 800 000,00 zł")

    soft_404(tmp_path)
    with BackgroundMirror([tmp_path, SNAPSHOT_DIR]) as faulty:
        again = run_cli("crawl", "rops-rzeszow", "--full", "--mirror", faulty.url, "--db", sqlite_url)
    run = runs_of(sqlite_url)[-1]
    assert any("soft 404" in alarm and RZESZOW_ARTICLE[:20] in alarm for alarm in run.alarms), run.alarms
    assert "soft 404" in again.stderr
    with session_scope(sqlite_url) as session:
        after = session.scalars(select(Announcement).where(Announcement.url == url)).one()
        assert (after.title, after.body_text, after.content_hash) == stored and after.deleted_at is None


def _stored_rzeszow_article(db: str) -> Announcement:
    with session_scope(db) as session:
        return session.scalars(
            select(Announcement).where(Announcement.url == f"https://{RZESZOW_HOST}{RZESZOW_ARTICLE}")
        ).one()


def _cut_mid_text(page: str) -> str:
    """As a server that stopped mid-page leaves it (HTTP 200, the length of what was sent)."""
    return page[: page.index("</p>", page.index('<div class="article-content">')) + 2]


@pytest.mark.parametrize(
    ("change", "alarm"),
    [
        (lambda page: page.replace("article-content", "tresc-artykulu"), "'div.article-content' matches nothing"),
        (_cut_mid_text, "the page stops in the middle"),
    ],
    ids=["restyled", "cut-off"],
)
def test_a_changed_layout_or_a_cut_off_page_is_an_alarm_and_never_blanks_the_stored_text(
    sqlite_url: str, first_crawl: FirstCrawl, tmp_path: Path, change: Callable[[str], str], alarm: str
) -> None:
    """The site renames its content block (the generic fallbacks would find the whole page's
    #content, or only the date line, and store that as the text), or serves a page cut off in the
    middle of the text: an alarm naming the page, and the stored announcement stays as it was."""
    first = first_crawl("rops-rzeszow")
    assert first.returncode == 0, first.stdout + first.stderr
    before = _stored_rzeszow_article(sqlite_url)

    rzeszow_article_changed(tmp_path, "changed", change)
    with BackgroundMirror([tmp_path, SNAPSHOT_DIR]) as changed:
        run_cli("crawl", "rops-rzeszow", "--full", "--mirror", changed.url, "--db", sqlite_url)
    run = runs_of(sqlite_url)[-1]
    assert any(alarm in a and RZESZOW_ARTICLE[:20] in a for a in run.alarms), run.alarms
    after = _stored_rzeszow_article(sqlite_url)
    assert (after.title, after.body_text, after.published_at, after.content_hash) == (
        before.title, before.body_text, before.published_at, before.content_hash
    ) and after.deleted_at is None  # fmt: skip


def test_an_edited_page_that_lost_its_date_line_keeps_its_publication_date(
    sqlite_url: str, first_crawl: FirstCrawl, tmp_path: Path
) -> None:
    """A genuine edit of the text, in a page whose "Data dodania" line went missing at the same
    time (a template change): the new text is stored, the date it had is kept."""
    first = first_crawl("rops-rzeszow")
    assert first.returncode == 0, first.stdout + first.stderr
    before = _stored_rzeszow_article(sqlite_url)
    assert before.published_at is not None and before.published_from == "label"

    def edited_without_date(page: str) -> str:
        page = re.sub(r'<div class="article-date">[^<]*</div>', "", page)
        added = "<p>Aktualizacja: spotkanie informacyjne odbędzie się 20 maja.</p>"
        return page.replace('<div class="article-content">', f'<div class="article-content">{added}', 1)

    rzeszow_article_changed(tmp_path, "edited-undated", edited_without_date)
    with BackgroundMirror([tmp_path, SNAPSHOT_DIR]) as edited:
        again = run_cli("crawl", "rops-rzeszow", "--full", "--mirror", edited.url, "--db", sqlite_url)
    assert again.returncode == 0, again.stdout + again.stderr
    after = _stored_rzeszow_article(sqlite_url)
    assert after.body_text.startswith("Aktualizacja:") and after.content_hash != before.content_hash
    assert (after.published_at, after.published_from, after.published_granularity) == (
        before.published_at, before.published_from, before.published_granularity
    )  # fmt: skip
    with session_scope(sqlite_url) as session:
        days = session.scalars(select(EventDate.start_date).where(EventDate.announcement_id == after.id)).all()
    assert date(after.published_at.year, 5, 20) in days, "its year-less date resolved against the kept date"
    feed = json.loads(invoke("feed", "--format", "json", "--limit", "100", "--db", sqlite_url).stdout)
    [entry] = [i for i in feed["items"] if i["url"] == after.url]
    assert datetime.fromisoformat(entry["date_modified"]) > after.last_seen_at - timedelta(minutes=5), "the edit"
    assert datetime.fromisoformat(entry["date_published"]) == after.published_at
