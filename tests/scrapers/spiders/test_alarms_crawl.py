"""Layout alarms and precise errors end to end: `ropsfeed crawl` in its own process against mirror
variants over real HTTP. An alarm is logged (a JSON line naming its source), makes the crawl exit 3
when asked to (`--alarm-exit`; 0 otherwise, as DESIGN.md §8 has it), and leaves the JSON log one
object per line; a broken REST API neither deletes posts nor goes unsaid; a connection cut
mid-page says how much of the page came."""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select

from db.engine import session_scope
from db.models import Announcement, CrawlRun
from scrapers.mirror.server import SNAPSHOT_DIR, BackgroundMirror, MirrorRequestHandler
from tests.conftest import FirstCrawl, run_cli
from tests.scrapers import overlays

pytestmark = pytest.mark.network
EMPTY_LISTING = f"listing {overlays.KRAKOW_LISTING} yielded no items (layout change?)"


def last_run(db: str) -> CrawlRun:
    with session_scope(db) as session:
        return session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(1)).one()


def json_records(stderr: str) -> list[dict]:
    """Every stderr line as JSON: a line that is not one fails the test."""
    return [json.loads(line) for line in stderr.splitlines() if line.strip()]


def test_an_empty_listing_is_a_logged_alarm_and_exit_3_in_a_clean_json_log(
    sqlite_url: str, layered: Callable[..., BackgroundMirror]
) -> None:
    with layered(overlays.krakow_listing_redesigned) as site:
        result = run_cli("--log-format", "json", "crawl", "rops-krakow", "--alarm-exit", "--mirror", site.url,
                         "--db", sqlite_url)  # fmt: skip
        text = run_cli("crawl", "rops-krakow", "--mirror", site.url, "--db", sqlite_url)
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stdout == "", "the summary table is not mixed into the JSON-lines log (the crontab sends both there)"
    records = json_records(result.stderr)
    [logged] = [r for r in records if r.get("event") == "alarm" and r["logger"] == "scrapers.spiders"]
    assert (logged["level"], logged["source"]) == ("WARNING", "rops-krakow")
    assert logged["message"] == f"rops-krakow: {EMPTY_LISTING}"
    assert not [r for r in records if r.get("event") == "crawled"], "the per-source summary is at INFO: not shown"
    [line] = [r for r in records if r["logger"] == "ropsfeed.report"]
    assert (line["message"], line["source"], line["level"]) == (f"alarm rops-krakow: {EMPTY_LISTING}", "rops-krakow",
                                                                "WARNING")  # fmt: skip
    run = last_run(sqlite_url)
    assert (run.status, run.alarms) == ("ok", [EMPTY_LISTING])

    assert text.returncode == 0, "without --alarm-exit an alarm alone is no failure: " + text.stdout + text.stderr
    assert f"WARNING scrapers.spiders: rops-krakow: {EMPTY_LISTING}" in text.stderr
    assert "rops-krakow: rops-krakow:" not in text.stderr, "the source is named once"
    assert f"\nalarm rops-krakow: {EMPTY_LISTING}\n" in "\n" + text.stderr, "the operator's line, as before"
    assert "alarm" in text.stdout and "rops-krakow" in text.stdout, "the table shows the alarm"


def test_a_rest_api_listing_one_post_of_seven_deletes_nothing_and_says_so(
    sqlite_url: str, first_crawl: FirstCrawl, layered: Callable[..., BackgroundMirror]
) -> None:
    assert first_crawl("mcps").returncode == 0
    with layered(overlays.api_lists_one_post) as site:
        result = run_cli("crawl", "mcps", "--full", "--mirror", site.url, "--db", sqlite_url)
    run = last_run(sqlite_url)
    assert (run.status, run.items_deleted) == ("ok", 0), result.stdout + result.stderr
    alarm = ("6 of 7 stored announcements are missing from the complete listing; not marking them deleted "
             "(a broken listing is likelier than a purge; if the site did delete them: "
             "ropsfeed crawl mcps --full --accept-deletions)")  # fmt: skip
    assert run.alarms == [alarm]
    assert result.returncode == 0 and f"scrapers.spiders: mcps: {alarm}" in result.stderr
    with session_scope(sqlite_url) as session:
        assert session.scalars(select(Announcement).where(Announcement.deleted_at.is_not(None))).all() == []

    for flags in (("mcps",), ("--full",)):  # only for sources named, only from a complete listing
        # refused before anything is fetched: the mirror's address does not matter
        refused = run_cli("crawl", *flags, "--accept-deletions", "--mirror", "http://127.0.0.1:9", "--db", sqlite_url)
        assert refused.returncode == 2 and "--accept-deletions needs" in refused.stderr, refused.stderr
    with layered(overlays.api_lists_one_post) as site:  # the operator checked the site: the purge is real
        confirmed = run_cli("crawl", "mcps", "--full", "--accept-deletions", "--mirror", site.url, "--db", sqlite_url)
    run = last_run(sqlite_url)
    assert (confirmed.returncode, run.status, run.items_deleted, run.alarms) == (0, "ok", 6, []), confirmed.stderr


def test_a_stored_post_left_with_only_a_picture_keeps_its_text_with_an_alarm(
    sqlite_url: str, first_crawl: FirstCrawl, layered: Callable[..., BackgroundMirror]
) -> None:
    assert first_crawl("mcps").returncode == 0
    with session_scope(sqlite_url) as session:
        before = {a.url: a.body_text for a in session.scalars(select(Announcement))}
    link = "https://mcps.com.pl/ngo-moga-juz-ubiegac-sie-o-dotacje/aktualnosci/"  # the newest post
    with layered(overlays.api_newest_post_left_with_a_picture) as site:
        result = run_cli("crawl", "mcps", "--mirror", site.url, "--db", sqlite_url)
    run = last_run(sqlite_url)
    alarm = f"{link}: the page has no text any more (only a picture or a file); kept the stored text"
    assert (result.returncode, run.status, run.items_updated, run.alarms) == (0, "ok", 0, [alarm]), result.stderr
    with session_scope(sqlite_url) as session:
        assert {a.url: a.body_text for a in session.scalars(select(Announcement))} == before
        assert before[link].startswith("Od 27 grudnia 2023 r.")


def test_a_cut_off_rest_api_answer_falls_back_to_the_feed_with_an_alarm(
    sqlite_url: str, layered: Callable[..., BackgroundMirror]
) -> None:
    with layered(overlays.api_cut_off) as site:
        result = run_cli("crawl", "mcps", "--mirror", site.url, "--db", sqlite_url)
    run = last_run(sqlite_url)
    assert (run.status, run.strategy, run.items_new) == ("ok", "rss", 7), result.stdout + result.stderr
    [alarm] = run.alarms
    api = "https://mcps.com.pl/wp-json/wp/v2/posts?"
    assert alarm.startswith(f"REST API {api}") and "answered not JSON (application/json" in alarm
    assert alarm.endswith("read the RSS feed or HTML listings instead")
    assert result.returncode == 0 and "WARNING scrapers.spiders: mcps: REST API" in result.stderr


class CutShort(MirrorRequestHandler):
    """The mirror, except that the REST API's answers stop half-way and the connection closes."""

    def _serve(self, *, with_body: bool) -> None:
        if "/wp-json/" not in self.path:
            super()._serve(with_body=with_body)
            return
        body = self.snapshot.resolve(self.path).body
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[:1000])
        self.wfile.flush()
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def cut_short_mirror() -> Iterator[BackgroundMirror]:
    mirror = BackgroundMirror([SNAPSHOT_DIR])
    snapshot = mirror.server.RequestHandlerClass.snapshot
    mirror.server.RequestHandlerClass = type("BoundCutShort", (CutShort,), {"snapshot": snapshot})
    with mirror:
        yield mirror


def test_a_connection_closed_mid_page_says_how_much_of_it_came(
    sqlite_url: str, cut_short_mirror: BackgroundMirror
) -> None:
    result = run_cli("crawl", "mcps", "--mirror", cut_short_mirror.url, "--db", sqlite_url)
    assert result.returncode == 1, result.stdout + result.stderr
    [error] = last_run(sqlite_url).errors
    assert error.startswith("GET https://mcps.com.pl/wp-json/wp/v2/posts?")
    size = len((SNAPSHOT_DIR / "mcps.com.pl/wp-json/wp/v2/posts-page-1.json").read_bytes())
    assert error.endswith(f": the connection closed before the whole page arrived (got 1000 of {size} bytes)")
