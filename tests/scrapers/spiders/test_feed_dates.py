"""Joomla and K2 sites: the category feed dates the pages that print no date (scrapers.spiders.feeds)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from aggregator.reparse import reparse
from db.engine import session_scope
from db.models import Announcement, CrawlRun
from scrapers.mirror.server import BackgroundMirror
from scrapers.registry import get_source
from tests.conftest import run_cli
from tests.scrapers.expected import expected_articles

pytestmark = pytest.mark.network
FEED = "/najnowsze?format=feed&type=rss"


def dates(db: str) -> dict[str, tuple[object, str | None]]:
    with session_scope(db) as session:
        rows = session.execute(select(Announcement.url, Announcement.published_at, Announcement.published_from))
        return {url: (published, source) for url, published, source in rows}


def test_the_feed_dates_the_pages_it_lists_and_the_listings_still_find_them_all(
    sqlite_url: str, mirror: BackgroundMirror
) -> None:
    assert get_source("rops-olsztyn").feed_url == FEED
    result = run_cli("crawl", "rops-olsztyn", "--mirror", mirror.url, "--db", sqlite_url)
    assert result.returncode == 0, result.stdout + result.stderr
    stored = dates(sqlite_url)
    expected = expected_articles("rops-olsztyn")
    assert set(stored) == set(expected)
    for url, (published, source) in stored.items():
        assert published is not None and source == "rss", url
    with session_scope(sqlite_url) as session:
        [run] = session.scalars(select(CrawlRun)).all()
        assert run.pages_fetched == 1 + 2 + len(expected) + 1, "the feed, two listing pages, the articles, robots.txt"


@pytest.mark.parametrize("answer", ['status = 404\nbody = "<h1>404</h1>"', 'body = "<html><body>Strona</body></html>"'])
def test_a_site_without_the_feed_is_crawled_all_the_same_without_its_dates(
    sqlite_url: str, layered: Callable[..., BackgroundMirror], answer: str
) -> None:
    def feed_off(root: Path) -> None:
        site = root / "es.warmia.mazury.pl"
        site.mkdir(parents=True)
        (site / "routes.toml").write_text(
            f'[[route]]\npath = "/najnowsze"\nquery = "format=feed&type=rss"\n{answer}\n', encoding="utf-8"
        )

    with layered(feed_off) as site:
        result = run_cli("crawl", "rops-olsztyn", "--mirror", site.url, "--db", sqlite_url)
    output = result.stdout + result.stderr
    assert result.returncode == 0, "crawled all the same (the missing feed is an alarm, not an error): " + output
    assert "no RSS feed at https://es.warmia.mazury.pl/najnowsze?format=feed&type=rss" in output
    stored = dates(sqlite_url)
    assert set(stored) == set(expected_articles("rops-olsztyn")), "every page found through the listings"
    assert all(published is None for published, _ in stored.values())
    with session_scope(sqlite_url) as session:
        [run] = session.scalars(select(CrawlRun)).all()
        assert run.status == "ok" and run.alarms == [
            "no RSS feed at https://es.warmia.mazury.pl/najnowsze?format=feed&type=rss"
            f" (HTTP {404 if 'status' in answer else 200}): dates from the pages only"
        ]


def test_reparse_keeps_the_feeds_date_of_a_row_stored_under_another_form_of_its_url(
    sqlite_url: str, mirror: BackgroundMirror
) -> None:
    """The raw page holds no date: `reparse` keeps the stored one, found by the row's identity key
    when the row's URL still has the listing's ?start=N of earlier versions, which it then sheds."""
    assert run_cli("crawl", "rops-kielce", "--mirror", mirror.url, "--db", sqlite_url).returncode == 0
    item = (
        "http://www.es.umws.pl/aktualnosci/item/"
        "416-obradowal-regionalny-komitet-rozwoju-ekonomii-spolecznej-wojewodztwa-swietokrzyskiego-na-lata-2023-2026"
    )
    before = dates(sqlite_url)
    dated = before[item]
    assert dated[0] is not None and dated[1] == "rss"
    with session_scope(sqlite_url, write=True) as session:
        row = session.scalars(select(Announcement).where(Announcement.url == item)).one()
        row.url = item + "?start=4"
    reparse(sqlite_url, ["rops-kielce"])
    assert dates(sqlite_url) == {**before, item: dated}, "the date kept, and the row takes the site's address"


@pytest.mark.parametrize("feed", ["on", "off"])
def test_every_k2_item_carries_the_category_its_breadcrumb_names_whether_or_not_the_feed_lists_it(
    sqlite_url: str, layered: Callable[..., BackgroundMirror], feed: str
) -> None:
    """The feed names the category of the one item it lists; the other pages of the same K2
    category were stored without any, so a filter on "Aktualności" missed three of four items.
    Each page's breadcrumb ('Strona główna / Aktualności') names it: read there, feed or not."""

    def feed_off(root: Path) -> None:
        if feed == "off":
            site = root / "www.es.umws.pl"
            site.mkdir(parents=True)
            (site / "routes.toml").write_text(
                '[[route]]\npath = "/aktualnosci"\nquery = "format=feed&type=rss"\n'
                'status = 404\nbody = "<h1>404</h1>"\n',
                encoding="utf-8",
            )

    with layered(feed_off) as site:
        result = run_cli("crawl", "rops-kielce", "--mirror", site.url, "--db", sqlite_url)
    assert result.returncode == 0, result.stdout + result.stderr
    with session_scope(sqlite_url) as session:
        categories = {url: stored for url, stored in session.execute(select(Announcement.url, Announcement.categories))}
    assert len(categories) == 4
    assert all(stored == ["Aktualności"] for stored in categories.values()), categories
