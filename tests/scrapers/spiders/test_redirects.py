"""Article requests a redirect took elsewhere: the spider's callbacks on crafted responses (no
network), and one crawl over the mirror for what Scrapy's duplicate filter drops."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse

from scrapers.items import AnnouncementItem
from scrapers.mirror.server import SNAPSHOT_DIR, BackgroundMirror
from scrapers.registry import get_source
from scrapers.spiders.base import SourceSpider
from scrapers.spiders.generated import SPIDERS
from scrapers.spiders.redirects import redirect_loop, redirect_problem
from tests.conftest import run_cli
from tests.scrapers import overlays

ARTICLE = f"https://{overlays.RZESZOW_HOST}{overlays.RZESZOW_ARTICLE}"
PAGE = (
    '<html><head><title>Aktualności</title></head><body><div class="article"><h1>Nabór</h1>'
    '<div class="article-content"><p>Treść ogłoszenia.</p></div></div></body></html>'
).encode()


def collect(generator: AsyncIterator[Any]) -> list[Any]:
    async def drain() -> list[Any]:
        return [item async for item in generator]

    return asyncio.run(drain())


def redirected(spider: SourceSpider, asked: str, final: str) -> list[Any]:
    """What `parse_article` makes of `final`'s page, reached by a redirect of the request for `asked`."""
    request = Request(final, callback=spider.parse_article, meta={"redirect_urls": [asked]})
    return collect(spider.parse_article(HtmlResponse(final, body=PAGE, request=request)))


@pytest.mark.parametrize(
    ("final", "problem"),
    [
        ("https://www.rops.rzeszow.pl/", "redirected to the home page or a listing, https://www.rops.rzeszow.pl/"),
        ("https://www.rops.rzeszow.pl/aktualnosci", "redirected to the home page or a listing"),
        ("https://parking.example.com/a-1633", "redirected to another site, https://parking.example.com/a-1633"),
    ],
)
def test_an_article_redirected_to_the_home_page_or_another_site_is_not_stored(final: str, problem: str) -> None:
    spider = SPIDERS["rops-rzeszow"]()
    assert redirected(spider, ARTICLE, final) == [], "nothing stored in the article's place"
    assert spider.errors == spider.alarms and spider.errors[0].startswith(f"GET {ARTICLE}: {problem}")
    [failure] = spider.failures.values()
    assert (failure.url, failure.kind) == (ARTICLE, "article"), "asked for again by the next crawl"


@pytest.mark.parametrize(
    "final",
    ["https://rops.rzeszow.pl/a-1633-nowy-adres", "http://www.rops.rzeszow.pl/a-1633-x", f"{ARTICLE}?strona=2"],
)
def test_a_redirect_to_another_url_of_the_site_is_the_article(final: str) -> None:
    spider = SPIDERS["rops-rzeszow"]()
    [item] = redirected(spider, ARTICLE, final)
    assert isinstance(item, AnnouncementItem) and item.title == "Nabór"
    assert spider.errors == [] and spider.alarms == []


def test_an_alias_host_and_a_wordpress_shortlink_are_the_same_site() -> None:
    krakow, mcps = get_source("rops-krakow"), get_source("mcps")
    asked = "https://www.rops.krakow.pl/aktualnosc/konkurs-12.html"
    assert redirect_problem(krakow, asked, "https://rops.krakow.pl/aktualnosc/konkurs-12.html") is None
    assert redirect_problem(mcps, "https://mcps.com.pl/?p=123", "https://mcps.com.pl/ngo/aktualnosci/") is None


def test_a_dropped_redirect_is_reported_when_it_loops_or_lands_on_the_home_page() -> None:
    spider = SPIDERS["rops-rzeszow"]()
    elsewhere = "https://www.rops.rzeszow.pl/a-1-stary-adres"

    def dropped(target: str, *chain: str) -> None:
        spider.request_dropped(Request(target, callback=spider.parse_article, meta={"redirect_urls": list(chain)}),
                               spider)  # fmt: skip

    dropped(ARTICLE, ARTICLE)
    dropped(ARTICLE, ARTICLE, elsewhere)
    dropped("https://www.rops.rzeszow.pl/", elsewhere)
    dropped(ARTICLE, elsewhere)  # another URL of a page this crawl fetched anyway: nothing lost
    assert spider.errors == [
        f"GET {ARTICLE}: redirects to itself",
        f"GET {ARTICLE}: redirects in a loop ({ARTICLE} → {elsewhere} → {ARTICLE})",
        f"GET {elsewhere}: redirected to the home page or a listing, https://www.rops.rzeszow.pl/; not stored",
    ]
    assert sorted(failure.url for failure in spider.failures.values()) == sorted([ARTICLE, elsewhere])
    assert redirect_loop([elsewhere], ARTICLE) is None


def test_every_article_sent_to_the_home_page_is_reported_and_retried(
    tmp_path: Path, layered: Callable[..., BackgroundMirror]
) -> None:
    """Five articles sent to one page: Scrapy fetches it once and drops the other four redirects
    as duplicates. Each of the five is an error of the crawl and a page the next crawl asks for."""

    def all_to_home(root: Path) -> None:
        routes = (SNAPSHOT_DIR / overlays.RZESZOW_HOST / "routes.toml").read_text(encoding="utf-8")
        for line in routes.splitlines():
            if line.startswith('path = "/a-'):
                path = line.split('"')[1]
                overlays._write_routes(root, overlays.RZESZOW_HOST, f'[[route]]\npath = "{path}"\nstatus = 301\n'
                                       'location = "https://www.rops.rzeszow.pl/"\nbody = ""\n')  # fmt: skip

    db = tmp_path / "ropsfeed.db"
    with layered(all_to_home) as site:
        result = run_cli("crawl", "rops-rzeszow", "--mirror", site.url, "--db", f"sqlite:///{db}")
    assert result.returncode == 1, result.stdout + result.stderr
    with sqlite3.connect(db) as connection:
        assert connection.execute("select count(*) from announcements").fetchone() == (0,)
        failed = connection.execute("select reason from failed_pages").fetchall()
    assert len(failed) == 5 and all(r.startswith("redirected to the home page or a listing") for (r,) in failed)
    assert result.stderr.count("redirected to the home page or a listing") == 5 * 2  # its error and the FAILED line
