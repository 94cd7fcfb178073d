"""Which of a listing page's links the crawl follows as articles: the source's own, and not too many.

A listing's links are followed as the source's articles (SourceSpider.parse_listing, and the RSS
fallback's feed pages). Three kinds of link must not be:

- a link to another site than the source's own (its host, `www.` or not, and its declared
  `aliases`): a ROPS news item pointing at a ministry's page, a partner's portal. Fetched, it was
  read with the source's selectors — an alarm and a failed page asked for again every night, or
  another institution's page stored as the source's announcement. Such links are left out, and the
  log says how many (INFO: a listing may link elsewhere on purpose);
- a link whose URL (or identity key) is longer than the database takes (db/clean.py): the page
  could never be stored, so it is not fetched; the spider remembers it once (db/failed_pages.py
  `UNSTORABLE`, an error of that crawl) and says nothing more of it. Before, one a little over the
  limit was fetched and refused, an error of every crawl, and one over Scrapy's `URLLENGTH_LIMIT`
  (2083) was dropped by Scrapy without a word;
- links beyond `MAX_LISTING_LINKS`: real listing pages show 10–50 items (the `?start=N` offsets
  SITES.md saw fit 10–20 a page; the bundled mirror's pages hold 2–5), but a layout change can
  make the listing selector match every link of the page (menus, footers: hundreds), and a
  broken or hostile page can hold 50,000 — each one a request to the site, a raw page and maybe
  an "announcement". The first `limit` links in page order are followed
  and the rest dropped, with one alarm (logged as a WARNING naming the source and the page) that
  counts as the source's layout alarm like a listing that yields no items.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aggregator.urls import UrlIdentity
from db.clean import KEY_LENGTH, URL_LENGTH

# Article links followed per listing or feed page at most (`ROPSFEED_MAX_LISTING_LINKS`): four times
# a large real page (50 items), far below a page's every link (menus and footers: hundreds).
MAX_LISTING_LINKS = 200


@dataclass(frozen=True)
class ListingLinks:
    """A listing page's article links split by what becomes of them."""

    followed: list[str]  # the source's own, in page order, at most `limit`
    elsewhere: list[str]  # links to other sites: not followed
    dropped: list[str]  # the source's own beyond `limit`: not followed
    too_long: list[str] = field(default_factory=list)  # the source's own, too long to store: not followed


def sort_links(urls: list[str], identity: UrlIdentity, site: str, limit: int) -> ListingLinks:
    """Split `urls` (canonical, without repeats, in page order) of a listing of the source whose
    base URL is `site`: the links on its own site (alias hosts included) that can be stored, up to
    `limit` of them, are followed."""
    own = [url for url in urls if identity.same_site(url, site)]
    elsewhere = [url for url in urls if not identity.same_site(url, site)] if len(own) < len(urls) else []
    too_long = [url for url in own if len(url) > URL_LENGTH or len(identity.key(url)) > KEY_LENGTH]
    if too_long:
        own = [url for url in own if url not in too_long]
    return ListingLinks(own[:limit], elsewhere, own[limit:], too_long)


def over_limit_alarm(page: str, links: ListingLinks, limit: int) -> str:
    """The alarm of a listing page with more article links than a listing has (`links.dropped`)."""
    found = len(links.followed) + len(links.dropped)
    return (
        f"listing {page}: {found} article links, more than the {limit} a listing page has "
        f"(ROPSFEED_MAX_LISTING_LINKS): followed the first {limit}, dropped {len(links.dropped)} "
        f"(e.g. {links.dropped[0]}): the listing selector matches menus or footers (layout change?)"
    )
