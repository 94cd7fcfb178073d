"""What an RSS 2.0 feed says of the pages it links: their publication dates and categories.

WordPress sites are crawled through their feed when the REST API is off; Joomla and K2 sites,
whose pages often print no date at all, have a feed of each category that does
(`?format=feed&type=rss`), read for the dates of the pages their listings lead to.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

import scrapy
from scrapy.http import Response

from aggregator.urls import canonical_url
from scrapers.extraction.text import clean_line
from scrapers.extraction.timestamps import parse_rfc822

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeedEntry:
    url: str  # canonical_url of the item's link
    published: datetime | None  # its pubDate
    categories: list[str]
    title: str | None = None  # its <title>: what titles a page that states none (`feed_meta`)


def read_rss(response: Response) -> list[FeedEntry] | None:
    """The items of an RSS document, in its order (items without a link left out); None when the
    response is not RSS (an HTML error page, a feed the site turned off)."""
    try:
        selector = scrapy.Selector(text=response.text, type="xml")
        entries = selector.xpath("//channel/item")
    except (AttributeError, ValueError) as exc:
        log.warning("feed %s unreadable: %s", response.url, exc)
        return None
    if not selector.xpath("//channel"):
        return None
    found = []
    for entry in entries:
        link = clean_line(entry.xpath("link/text()").get() or "")
        if link:
            found.append(
                FeedEntry(
                    url=canonical_url(response.urljoin(link)),
                    published=parse_rfc822(entry.xpath("pubDate/text()").get()),
                    categories=[clean_line(c) for c in entry.xpath("category/text()").getall()],
                    title=clean_line(entry.xpath("title/text()").get() or "") or None,
                )
            )
    return found


#: How a feed document ends (RSS 2.0, Atom, RSS 1.0), trailing whitespace and comments aside.
_FEED_END = re.compile(rb"</(?:rss|feed|rdf:RDF)>\s*(?:<!--.*?-->\s*)*\Z", re.DOTALL | re.IGNORECASE)


def cut_off_feed(body: bytes) -> str | None:
    """Why an RSS document that parsed is not whole: one that stops before its closing tag (a
    server that gave up mid-feed, as PHP does). The XML parser recovers what came before without
    a word, and the items after the cut — their pages, or the dates of those pages — would go
    missing unnoticed."""
    if _FEED_END.search(body[-4096:]):
        return None
    return "the feed stops in the middle, without its closing </rss> (cut off by the server?)"


def feed_meta(entry: FeedEntry) -> dict[str, object]:
    """What an article request carries from its feed item (`SourceSpider.complete` reads it). Its
    title goes as a listing link's text does (`link_text`): the parser weighs the page's `<title>`
    against it, and a page that states no title takes it (ArticleParser.parse)."""
    title = {"link_text": entry.title} if entry.title else {}
    return {"feed_published": entry.published, "feed_categories": entry.categories, **title}
