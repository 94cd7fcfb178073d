"""The unified feed: valid Atom/RSS/JSON Feed, newest first, filters combined with AND."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import feedparser
import pytest
from lxml import etree
from sqlalchemy import func, select

from aggregator.annotate import annotate
from aggregator.feeds import FeedFilters, _updated, select_entries
from db.engine import session_scope
from db.models import Announcement, Attachment, Story
from db.store import save_announcements
from scrapers.items import AnnouncementItem
from tests.aggregator.cli_inprocess import invoke
from tests.conftest import run_cli

pytestmark = pytest.mark.network
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def crawled(demo_database: str) -> str:
    """The session's crawl of the whole mirror (these tests only read it)."""
    return demo_database


def story_count(database: str) -> int:
    with session_scope(database) as session:
        return session.scalar(select(func.count()).select_from(Story)) or 0


def feed(database: str, *args: str) -> str:
    """In this process (test_bad_filters_are_clear_errors covers the real command line)."""
    result = invoke("feed", "--db", database, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def items(database: str, *args: str) -> list[dict]:
    return json.loads(feed(database, "--format", "json", "--limit", "100", *args))["items"]


@pytest.mark.parametrize("feed_format", ["atom", "rss"])
def test_atom_and_rss_are_valid_and_newest_first(crawled: str, feed_format: str) -> None:
    parsed = feedparser.parse(feed(crawled, "--format", feed_format, "--limit", "100"))
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert len(parsed.entries) == story_count(crawled), "one entry per story"
    dated = [e.published_parsed for e in parsed.entries if e.get("published_parsed")]
    assert len(dated) > 30 and dated == sorted(dated, reverse=True)
    assert all(e.link.startswith(("https://", "http://")) and "127.0.0.1" not in e.link for e in parsed.entries)
    assert all(e.title and e.summary for e in parsed.entries)
    [pictured] = [e for e in parsed.entries if e.link.startswith("https://rcpslodz.pl/") and e.link.endswith("-r1198")]
    picture = ("https://rcpslodz.pl/uploads/news/72062.jpg", "image/jpeg")
    assert [(x.href, x.type) for x in pictured.enclosures] == [picture], "its first picture as the enclosure"
    representatives = {i["id"]: i["url"] for i in items(crawled)}
    assert {e.id: e.link for e in parsed.entries} == representatives, "each entry opens its story's own page"


def test_json_feed_shape_and_undated_backfill_last(crawled: str) -> None:
    document = json.loads(feed(crawled, "--format", "json", "--limit", "100"))
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    dates = [i.get("date_published") for i in document["items"]]
    first_undated = dates.index(None)
    assert all(d is None for d in dates[first_undated:]), "backfill without a date sinks below dated entries"
    parsed = [datetime.fromisoformat(d) for d in dates[:first_undated]]
    assert parsed == sorted(parsed, reverse=True)
    assert {d.utcoffset().total_seconds() for d in parsed} <= {3600, 7200}, "dates in Polish time"
    pictured = {i["url"].rsplit("-", 1)[-1]: i.get("image") for i in document["items"] if "rcpslodz.pl" in i["url"]}
    assert pictured["r1198"] == "https://rcpslodz.pl/uploads/news/72062.jpg", "the item image: its first picture"
    assert "image" not in next(i for i in document["items"] if "mcps.com.pl" in i["url"]), "none without a picture"


def test_filters_narrow_and_combine(crawled: str) -> None:
    podlaskie = items(crawled, "--voivodeship", "podlaskie")
    assert podlaskie and {i["_ropsfeed"]["voivodeship"] for i in podlaskie} == {"podlaskie"}
    mcps = items(crawled, "--source", "mcps")
    assert len(mcps) == 7 and {i["_ropsfeed"]["source"] for i in mcps} == {"mcps"}
    assert items(crawled, "--source", "mcps", "--voivodeship", "podlaskie") == []
    with_accents = items(crawled, "--query", "Rozwoju Ekonomii Społecznej")
    folded = items(crawled, "--query", "rozwoju EKONOMII spolecznej")
    assert with_accents and folded == with_accents, "case and diacritics (ł too) do not matter"
    assert items(crawled, "--query", "rozwoju ekonomii spolecznej nieistniejacewyrazenie") == []
    by_entity = items(crawled, "--entity", "rops-bialystok")
    bialystok = "Regionalny Ośrodek Polityki Społecznej w Białymstoku"
    assert by_entity
    for item in by_entity:
        assert bialystok in item["_ropsfeed"]["institutions"] or item["_ropsfeed"]["source"] == "rops-bialystok"
    assert items(crawled, "--entity", "MCPS") == items(crawled, "--entity", "mcps")
    assert len(json.loads(feed(crawled, "--format", "json", "--limit", "5"))["items"]) == 5


def test_a_voivodeship_typed_without_polish_letters_or_in_capitals_filters_as_written(crawled: str) -> None:
    """`--voivodeship slaskie`: a keyboard without Polish letters could not filter śląskie, łódzkie,
    świętokrzyskie … at all (the error listed the spelling it could not type)."""
    lodzkie = items(crawled, "--voivodeship", "łódzkie")
    assert lodzkie and items(crawled, "--voivodeship", "lodzkie") == lodzkie == items(
        crawled, "--voivodeship", "Łódzkie"
    )
    assert FeedFilters(voivodeships=("SLASKIE", "mazowieckie")).voivodeships == ("śląskie", "mazowieckie")


def test_bad_filters_are_clear_errors(crawled: str) -> None:
    result = run_cli("feed", "--db", crawled, "--voivodeship", "mazowsze")
    assert result.returncode == 2 and "unknown voivodeship 'mazowsze'" in result.stderr
    with pytest.raises(ValueError, match="limit"):
        FeedFilters(limit=0)


def the_entry_of(crawled: str, url: str) -> dict:
    """The one feed entry that carries `url`, as its representative or as another source."""
    entries = [i for i in items(crawled) if url in (i["url"], *i["_ropsfeed"]["other_urls"])]
    assert len(entries) == 1
    return entries[0]


def test_a_cross_posted_announcement_is_one_entry_with_both_sources(crawled: str) -> None:
    mcps = "https://mcps.com.pl/ekonomia-spoleczna/wydarzenia/rusza-konkurs-mazowiecka-marka-ekonomii-spolecznej-2018/"
    es = "http://es.mcps-efs.pl/artyku%C5%82/rusza-konkurs-mazowiecka-marka-ekonomii-spo%C5%82ecznej%E2%80%99-2018"
    entry = the_entry_of(crawled, mcps)
    assert entry["url"] == mcps, "the dated MCPS page represents the story"
    assert entry["_ropsfeed"]["other_urls"] == [es]
    assert entry["id"].endswith(f"/story/{entry['id'].rsplit('/', 1)[1]}")
    assert [i["url"] for i in items(crawled, "--source", "mcps-es") if i["url"] == mcps] == [mcps]


def test_a_cross_post_whose_copies_differ_after_the_opening_is_one_dated_entry(crawled: str) -> None:
    """ROPS Rzeszów's II Forum ES 2018: rops.rzeszow.pl's copy is undated and tells the end differently
    (no laureates, its own closing); es.rops.rzeszow.pl's shows 'Dodano 11 października 2018'."""
    es = "https://es.rops.rzeszow.pl/ii-podkarpackie-forum-ekonomii-spolecznej/"
    rops = "https://www.rops.rzeszow.pl/a-278-ii-podkarpackie-forum-ekonomii-spolecznej"
    entry = the_entry_of(crawled, rops)
    assert entry["url"] == es, "the dated page represents the story"
    assert entry["_ropsfeed"]["other_urls"] == [rops]
    assert entry["date_published"].startswith("2018-10-11")


def test_rss_channel_links_the_page_and_the_first_crawl_updates_no_entry(crawled: str) -> None:
    """The RSS channel's <link> is the web page (a reader's "visit website"), not the feed itself;
    an entry's `updated` is its own news (publication, the site's modification, an edit seen
    later), never the night the first crawl stored years of backlog."""
    channel = feedparser.parse(feed(crawled, "--format", "rss", "--limit", "5")).feed
    assert not channel.link.endswith(("feed.rss", "feed.xml", "feed.json")), channel.link
    with session_scope(crawled) as session:
        first_stored = session.scalar(select(func.min(Announcement.first_seen_at)))
    assert first_stored is not None
    dated = [i for i in items(crawled) if i.get("date_published")]
    assert len(dated) > 30
    for item in dated:
        modified = datetime.fromisoformat(item["date_modified"])
        assert datetime.fromisoformat(item["date_published"]) <= modified < first_stored, item["url"]


def test_an_edit_a_crawl_saw_updates_its_entry_a_rewrite_of_the_row_does_not() -> None:
    stored = datetime(2026, 3, 2, 3, 15, tzinfo=UTC)
    published = datetime(2024, 5, 14, 8, 36, tzinfo=UTC)
    row = Announcement(first_seen_at=stored, updated_at=stored + timedelta(days=40), modified_at=None)
    assert _updated(row, published, None) == published, "rewritten by a reparse: as new as its news"
    row.modified_at = datetime(2024, 6, 1, tzinfo=UTC)
    assert _updated(row, published, None) == row.modified_at, "the site's own modification date"
    edited = stored + timedelta(days=30)
    assert _updated(row, published, edited) == edited, "an edit a crawl saw a month after storing it"
    assert _updated(Announcement(first_seen_at=stored, updated_at=stored, modified_at=None), None, None) == stored


def test_real_announcements_carry_their_full_text_and_files_in_every_format(crawled: str) -> None:
    """The mirror's announcements with files ("Do pobrania"): each story lists them once, with the
    real sites' URLs, in JSON Feed's attachments, Atom's enclosure links and RSS's „Załączniki”."""
    with session_scope(crawled) as session:
        stored = session.execute(
            select(Announcement.id, Announcement.story_key, Attachment.url).join(
                Attachment, Attachment.announcement_id == Announcement.id
            )
        ).all()
    document = json.loads(feed(crawled, "--format", "json", "--limit", "100"))
    with_files = [i for i in document["items"] if i.get("attachments")]
    # counted from what was stored, not a number of the mirror's pages a new source's files would change
    pages, stories = {page for page, _, _ in stored}, {key for _, key, _ in stored}
    assert len(with_files) == len(stories) == len(pages) - 1, "pages with files, one story cross-posted"
    urls = {a["url"] for i in with_files for a in i["attachments"]}
    assert urls <= {url for _, _, url in stored} and len(urls) == len(stored) - 1, "the cross-posted form once"
    for item in document["items"]:
        assert item["id"] and (item.get("content_html") or item.get("content_text")), "JSON Feed's required fields"
        assert all(a["url"].startswith(("https://", "http://")) and a["mime_type"] for a in item.get("attachments", []))
        assert "127.0.0.1" not in item.get("content_html", "") + json.dumps(item.get("attachments", []))
    bialystok = next(i for i in with_files if i["url"] == "https://www.rops-bialystok.pl/andrzej3/?p=8235")
    assert [a["title"] for a in bialystok["attachments"]] == [
        "Projekt uchwały", "Uzasadnienie do projektu uchwały", "Krajowy Program Rozwoju Ekonomii Społecznej",
        "OSR-KPRES", "Tabela"]  # fmt: skip
    assert {a["mime_type"] for a in bialystok["attachments"]} == {"application/pdf"}
    assert 'href="https://www.rops-bialystok.pl/wp-content/uploads/2021/10/tabela.pdf"' in bialystok["content_html"]
    assert bialystok["summary"] in bialystok["content_text"] and len(bialystok["content_text"]) > len(
        bialystok["summary"]), "the full text, the lead as the summary"  # fmt: skip
    krakow = next(i for i in with_files if "rops.krakow.pl" in i["url"])
    assert {a["mime_type"] for a in krakow["attachments"]} == {"application/msword"}

    atom = etree.fromstring(feed(crawled, "--format", "atom", "--limit", "100").encode())
    [entry] = [e for e in atom.iter(f"{ATOM}entry") if e.findtext(f"{ATOM}id") == bialystok["id"]]
    files = [link for link in entry.findall(f"{ATOM}link") if link.get("rel") == "enclosure"]
    assert [(f.get("href"), f.get("type"), f.get("title")) for f in files] == [
        (a["url"], "application/pdf", a["title"]) for a in bialystok["attachments"]]  # fmt: skip
    assert entry.find(f"{ATOM}content").get("type") == "html"

    rss = etree.fromstring(feed(crawled, "--format", "rss", "--limit", "100").encode())
    assert all(len(item.findall("enclosure")) <= 1 for item in rss.iter("item")), "RSS: one enclosure an item"
    [item] = [i for i in rss.iter("item") if i.findtext("guid") == bialystok["id"]]
    description = item.findtext("description")
    assert "<h3>Załączniki</h3>" in description and description.count("<li>") == 5
    assert (
        '<a href="https://www.rops-bialystok.pl/wp-content/uploads/2021/10/tabela.pdf">Tabela</a> (PDF)' in description
    )


LODZ_TYPED = [
    "Regionalne Centrum Polityki Społecznej w Łodzi",  # the canonical name
    "regionalne centrum polityki społecznej w łodzi",  # SQLite's lower() leaves "Ł": found nothing there
    "REGIONALNE CENTRUM POLITYKI SPOŁECZNEJ W ŁODZI",
    "regionalnego centrum polityki spolecznej w lodzi",  # inflected, no diacritics
    "RCPS w Łodzi",
    "rcps w lodzi",
    "rcps-lodz",  # the key
    "rcps",  # the acronym in lower case
]


@pytest.mark.parametrize("typed", LODZ_TYPED)
def test_an_institution_filter_finds_it_however_it_is_typed(database: str, typed: str) -> None:
    """`--entity` (and a subscriber's institutions): an analyst types the name as they would in a
    search box; an empty feed with exit status 0 told them nothing about why."""
    texts = {"lodz": "Regionalne Centrum Polityki Społecznej w Łodzi zaprasza na szkolenie.",
             "other": "Mazowieckie Centrum Polityki Społecznej zaprasza na szkolenie."}  # fmt: skip
    items = [
        AnnouncementItem(source_id="mcps", url=f"https://mcps.com.pl/{key}/", title=f"Szkolenie {key}",
                         body_html=f"<p>{body}</p>", body_text=body, published_at=datetime(2024, 5, 1, tzinfo=UTC))
        for key, body in texts.items()
    ]  # fmt: skip
    with session_scope(database, write=True) as session:
        save_announcements(
            session, items, annotate=lambda i, seen: annotate(i.title, i.body_text, i.published_at, seen)
        )
    with session_scope(database) as session:
        found = [entry.url for entry in select_entries(session, FeedFilters(entity=typed))]
    assert found == ["https://mcps.com.pl/lodz/"]


def test_the_feed_on_standard_output_is_utf8_whatever_the_locale_says(crawled: str) -> None:
    """The documents declare UTF-8 (XML) or are JSON; a file or a pipe in the locale's code page
    (Windows: cp1250) got cp1250 bytes under that declaration."""
    result = subprocess.run(
        [sys.executable, "-m", "aggregator.cli", "feed", "--db", crawled, "--format", "json", "--limit", "100"],
        env={**os.environ, "PYTHONIOENCODING": "cp1250"}, capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    document = json.loads(result.stdout.decode("utf-8"))
    assert any(
        "Ośrodek Polityki Społecznej" in " ".join(item["_ropsfeed"]["institutions"]) for item in document["items"]
    )
