"""Pages found through a feed item carry its title as a listing link's text (scrapers/spiders/
feeds.py `feed_meta`): a page that states no title of its own takes the feed's, never the site's
name; the text is archived with the raw page (`RawResponse.link_text`, for `reparse`). Read from
the bundled copies of es.umws.pl (Joomla K2 with its category feed) and mcps.com.pl (WordPress)."""

from __future__ import annotations

import asyncio
from typing import Any

from scrapy import Request
from scrapy.http import HtmlResponse, XmlResponse

from scrapers.items import AnnouncementItem
from scrapers.mirror.server import SNAPSHOT_DIR
from scrapers.spiders.generated import SPIDERS

KIELCE = SNAPSHOT_DIR / "www.es.umws.pl" / "_routed"
ITEM_416 = ("http://www.es.umws.pl/aktualnosci/item/416-obradowal-regionalny-komitet-rozwoju-ekonomii-spolecznej-"
            "wojewodztwa-swietokrzyskiego-na-lata-2023-2026")  # fmt: skip
TITLE_416 = "Obradował Regionalny Komitet Rozwoju Ekonomii Społecznej Województwa Świętokrzyskiego na lata 2023-2026"


def kielce_requests(feed: bytes) -> list[Request]:
    """rops-kielce's article requests: its category feed read first, then its listing."""
    spider = SPIDERS["rops-kielce"]()
    url = "http://www.es.umws.pl/aktualnosci?format=feed&type=rss"
    feed_response = XmlResponse(url, body=feed, headers={"Content-Type": "application/rss+xml"}, request=Request(url))
    list(spider.parse_dates_feed(feed_response))
    body = (KIELCE / "aktualnosci-5667c5fb.html").read_bytes()
    listing = HtmlResponse("http://www.es.umws.pl/aktualnosci", body=body, encoding="utf-8")
    return [r for r in spider.parse_listing(listing, first=True) if r.callback == spider.parse_article]


def test_a_k2_listings_requests_carry_the_feed_items_title_over_the_links() -> None:
    feed = (KIELCE / "aktualnosci-format-feed-type-rss-feed.xml").read_bytes()
    feed = feed.replace(
        f"<title>{TITLE_416}</title>".encode(), "<title>Obradował Komitet – nowa kadencja</title>".encode()
    )
    texts = {r.url: r.meta.get("link_text") for r in kielce_requests(feed)}
    assert texts[ITEM_416] == "Obradował Komitet – nowa kadencja", "the feed's title, not the listing link's"
    sandomierz = next(u for u in texts if "204-wokol" in u)
    assert texts[sandomierz] == "Wokół ekonomii społecznej w Sandomierzu", "not in the feed: the link's text"


def test_a_wordpress_feeds_items_titles_travel_with_their_requests() -> None:
    spider = SPIDERS["mcps"]()
    spider.strategy = "rss"
    url = "https://mcps.com.pl/feed/"
    body = (SNAPSHOT_DIR / "mcps.com.pl/feed/index.xml").read_bytes()
    response = XmlResponse(url, body=body, headers={"Content-Type": "application/rss+xml"}, request=Request(url))
    titles = [r.meta.get("link_text") for r in spider.parse_feed(response, 1) if r.callback == spider.parse_article]
    assert titles[:2] == ["NGO mogą już ubiegać się o dotacje", "Święto ekonomii społecznej"]


async def collect(spider: Any, response: HtmlResponse) -> list[Any]:
    return [item async for item in spider.parse_article(response)]


def test_a_k2_page_without_its_heading_takes_the_feeds_title_and_archives_it() -> None:
    """The page's heading gone (a template change) and its `<title>` the category's: the feed's
    title, kept with the raw page; without it, the lost title's alarm."""
    [request] = [r for r in kielce_requests((KIELCE / "aktualnosci-format-feed-type-rss-feed.xml").read_bytes())
                 if r.url == ITEM_416]  # fmt: skip
    page = next(KIELCE.glob("aktualnosci-item-416-*.html")).read_text(encoding="utf-8")
    page = page.replace(f"<title>{TITLE_416}</title>", "<title>Aktualności</title>")
    page = page.replace(f'<h2 class="itemTitle">{TITLE_416}', '<h2 class="itemTitle">')
    spider = SPIDERS["rops-kielce"]()
    spider.workers = 0
    [item] = asyncio.run(collect(spider, HtmlResponse(ITEM_416, body=page.encode(), encoding="utf-8", request=request)))
    assert isinstance(item, AnnouncementItem) and item.title == TITLE_416
    assert item.raw is not None and item.raw.link_text == TITLE_416
    bare = Request(ITEM_416)  # asked for directly (a retry): nothing led to it
    assert [type(i).__name__ for i in asyncio.run(collect(spider, HtmlResponse(
        ITEM_416, body=page.encode(), encoding="utf-8", request=bare)))] == ["RawPageItem"]  # fmt: skip
    assert any("no title" in alarm for alarm in spider.alarms)
