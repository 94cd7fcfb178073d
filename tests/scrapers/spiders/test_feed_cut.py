"""A feed that stops in the middle (HTTP 200, the length it announced): the XML parser recovers
the items before the cut without a word. The spiders' feed callbacks on the bundled feeds cut in
half (no network)."""

from __future__ import annotations

from scrapy import Request
from scrapy.http import XmlResponse

from scrapers.mirror.server import SNAPSHOT_DIR
from scrapers.spiders.feeds import cut_off_feed
from scrapers.spiders.generated import SPIDERS

MCPS_FEED = (SNAPSHOT_DIR / "mcps.com.pl/feed/index.xml").read_bytes()
CUT = "the feed stops in the middle, without its closing </rss> (cut off by the server?)"


def response(url: str, body: bytes, **kwargs: object) -> XmlResponse:
    return XmlResponse(url, body=body, headers={"Content-Type": "application/rss+xml; charset=UTF-8"},
                       request=Request(url, **kwargs))  # fmt: skip


def test_a_whole_feed_is_not_cut_off_and_half_of_one_is() -> None:
    assert cut_off_feed(MCPS_FEED) is None
    assert cut_off_feed(MCPS_FEED + b"\n<!-- generated in 0.2 s -->\n") is None
    assert cut_off_feed(b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"></feed>') is None
    assert cut_off_feed(MCPS_FEED[: len(MCPS_FEED) // 2]) == CUT


def test_a_wordpress_feed_page_cut_off_is_crawled_as_far_as_it_goes_and_retried() -> None:
    spider = SPIDERS["mcps"]()
    spider.strategy = "rss"
    url = "https://mcps.com.pl/feed/?paged=2"
    page = response(url, MCPS_FEED[: len(MCPS_FEED) * 2 // 3], callback=spider.parse_feed, cb_kwargs={"page": 2})
    requests = list(spider.parse_feed(page, 2))
    articles = [r for r in requests if r.callback == spider.parse_article]
    assert articles, "the items before the cut are fetched"
    assert spider.errors == spider.alarms == [f"GET {url}: {CUT} (items read before the cut: {len(articles)})"]
    [failure] = spider.failures.values()
    assert (failure.url, failure.kind) == (url, "listing"), "the next crawl walks the feed's pages"


def test_a_dates_feed_cut_off_is_an_alarm_and_dates_what_it_holds() -> None:
    spider = SPIDERS["rops-kielce"]()
    url = "http://www.es.umws.pl/aktualnosci?format=feed&type=rss"
    feed = MCPS_FEED.replace(b"https://mcps.com.pl/", b"http://www.es.umws.pl/")
    list(spider.parse_dates_feed(response(url, feed[: len(feed) * 2 // 3])))
    assert spider.feed_entries, "the items before the cut still date their pages"
    assert spider.errors == []
    assert spider.alarms == [f"feed {url}: {CUT} (items read before the cut: {len(spider.feed_entries)}): "
                             "dates from the pages only"]  # fmt: skip
