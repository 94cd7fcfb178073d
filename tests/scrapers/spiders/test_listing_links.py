"""Which listing links are followed as articles (scrapers/spiders/listing_links.py): those on the
source's own site (alias hosts included), at most `ROPSFEED_MAX_LISTING_LINKS` per page, the rest
dropped with one alarm naming the source and the page. The spider's listing callback on the
bundled rops.rzeszow.pl listing with links added, and `ropsfeed crawl` of it over real HTTP."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from db.engine import session_scope
from db.models import Announcement, CrawlRun
from scrapers.mirror.server import BackgroundMirror
from scrapers.registry import load_sources
from scrapers.spiders.listing_links import MAX_LISTING_LINKS, sort_links
from tests.conftest import run_cli
from tests.scrapers.overlays import RZESZOW_HOST, rzeszow_listing_linking, rzeszow_listing_of_many
from tests.scrapers.spiders.test_listing_urls import LISTING as LISTING_BYTES
from tests.scrapers.spiders.test_listing_urls import LISTING_URL, articles_requested

LISTING = LISTING_BYTES.decode("utf-8")
ELSEWHERE = ("https://www.gov.pl/web/rodzina/nabor-wnioskow-2024", "https://es.rops.rzeszow.pl/aktualnosci-es/")
Layered = Callable[..., BackgroundMirror]


def with_items(*hrefs: str) -> bytes:
    items = "".join(f'<div class="news-item"><h2><a href="{href}">Pozycja</a></h2></div>' for href in hrefs)
    page = LISTING.replace('</div>\n<div class="pager">', f'{items}</div>\n<div class="pager">', 1)
    assert items in page
    return page.encode()


def test_a_page_of_fifty_thousand_links_is_followed_for_the_first_ones_with_one_alarm() -> None:
    hrefs = [f"/a-{n}-kopia" for n in range(100_000, 150_000)]
    articles, alarms = articles_requested(with_items(*hrefs))
    assert len(articles) == MAX_LISTING_LINKS == 200
    assert articles[2:] == [f"https://{RZESZOW_HOST}{href}" for href in hrefs[:198]], "the first ones, in page order"
    assert alarms == [
        f"listing {LISTING_URL}: 50002 article links, more than the 200 a listing page has "
        f"(ROPSFEED_MAX_LISTING_LINKS): followed the first 200, dropped 49802 (e.g. https://{RZESZOW_HOST}/a-100198-kopia):"
        " the listing selector matches menus or footers (layout change?)"
    ]


def test_a_listing_page_of_real_size_is_followed_whole_without_a_word() -> None:
    articles, alarms = articles_requested(with_items(*(f"/a-{n}-kopia" for n in range(9001, 9049))))
    assert len(articles) == 50 and alarms == []


def test_links_to_other_sites_are_not_followed_as_articles() -> None:
    articles, alarms = articles_requested(with_items(*ELSEWHERE))
    assert len(articles) == 2 and all(url.startswith(f"https://{RZESZOW_HOST}/a-") for url in articles)
    assert alarms == []


def test_a_declared_alias_host_is_the_sources_own_site() -> None:
    krakow = next(source for source in load_sources() if source.id == "rops-krakow")
    urls = ["http://rops.krakow.pl/aktualnosc/a-1.html", "https://www.rops.krakow.pl/aktualnosc/a-2.html",
            "https://www.malopolska.pl/aktualnosci/a-3"]  # fmt: skip
    links = sort_links(urls, krakow.identity, krakow.base_url, 200)
    assert (links.followed, links.elsewhere, links.dropped) == (urls[:2], urls[2:], [])


def crawled(server: BackgroundMirror, database: str, **env: str) -> tuple[int, str, CrawlRun, set[str]]:
    with server:
        result = run_cli("crawl", "rops-rzeszow", "--mirror", server.url, "--db", database, env=env)
    with session_scope(database) as session:
        run = session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(1)).one()
        session.expunge(run)
        stored = set(session.scalars(select(Announcement.url)))
    return result.returncode, result.stderr, run, stored


@pytest.mark.network
def test_a_crawl_follows_a_listing_page_up_to_the_limit_and_raises_a_layout_alarm(
    sqlite_url: str, layered: Layered
) -> None:
    code, stderr, run, stored = crawled(layered(rzeszow_listing_of_many(12)), sqlite_url,
                                        ROPSFEED_MAX_LISTING_LINKS="5")  # fmt: skip
    assert code == 0, stderr
    copies = sorted(url for url in stored if url.endswith("-kopia"))
    assert copies == [f"https://{RZESZOW_HOST}/a-900{n}-kopia" for n in (1, 2, 3)], "its 2 own items, 3 copies"
    [alarm] = run.alarms
    assert alarm.startswith(f"listing {LISTING_URL}: 14 article links, more than the 5 a listing page has")
    assert run.status == "ok" and run.errors == []
    warnings = [line for line in stderr.splitlines() if " WARNING " in line and "article links, more than" in line]
    assert len(warnings) == 1 and warnings[0].endswith(f" WARNING scrapers.spiders: rops-rzeszow: {alarm}"), (
        "one warning naming the source and the page"
    )


@pytest.mark.network
def test_a_crawl_does_not_fetch_links_to_other_sites(sqlite_url: str, layered: Layered) -> None:
    """Before, each was fetched as the source's article: the mirror's 404 for it an error of the run."""
    code, stderr, run, stored = crawled(layered(rzeszow_listing_linking(*ELSEWHERE)), sqlite_url)
    assert code == 0 and (run.status, run.errors, run.alarms) == ("ok", [], []), stderr
    assert not stored & set(ELSEWHERE) and len(stored) == 5


def test_the_limit_must_be_a_whole_number_above_zero(sqlite_url: str) -> None:
    result = run_cli("crawl", "rops-rzeszow", "--mirror", "http://127.0.0.1:9/", "--db", sqlite_url,
                     env={"ROPSFEED_MAX_LISTING_LINKS": "0"})  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip() == "error: ROPSFEED_MAX_LISTING_LINKS must be a whole number above 0, not '0'"
