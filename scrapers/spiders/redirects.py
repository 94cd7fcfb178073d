"""Article requests that a redirect took somewhere else than an announcement.

Scrapy follows redirects by itself, and the page it ends on is parsed as the article asked for.
Three endings are not that article, and storing them would put the wrong page in its place:

- the site's home page or one of its listings: how many CMSs answer for a removed or moved page
  (a plugin that "redirects 404s to the home page"), or how a site answers while it is changed;
- another site: a domain sold and parked, a site moved to a host the registry does not name
  (which then belongs in `base_url` or `aliases`);
- a loop (`A → B → A`, or `A → A`), which Scrapy's duplicate filter drops without a word, as it
  drops every article sent to a page this crawl already asked for (the home page, the second time).

Each is a failure of the page asked for (`SourceSpider.page_failed`): reported, remembered, and
asked for again by the next crawl; the stored announcement keeps its text.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from aggregator.urls import canonical_url
from scrapers.registry import SourceConfig


def redirect_problem(source: SourceConfig, asked: str, final: str) -> str | None:
    """Why `final`, where a redirect of the article request for `asked` ended, is not that
    article; None when it may be (another URL of the same page: `?p=123` → its permalink, http →
    https, an alias host)."""
    identity = source.identity
    if not identity.same_site(final, asked):
        return f"redirected to another site, {final}"
    parts = urlsplit(final)
    landing = {identity.key(source.base_url), *(identity.key(source.absolute(p)) for p in source.listing_urls)}
    if (parts.path in ("", "/") and not parts.query) or identity.key(final) in landing:
        return f"redirected to the home page or a listing, {final}"
    return None


def redirect_loop(redirected_from: list[str], target: str) -> str | None:
    """The loop a dropped redirect closes (`A → B → A`), or None when its target is simply a
    page this crawl asked for by another URL (nothing is lost: that page is fetched)."""
    chain, target = [canonical_url(url) for url in redirected_from], canonical_url(target)
    if target not in chain:
        return None
    if chain == [target]:
        return "redirects to itself"
    return "redirects in a loop (" + " → ".join([*chain, target]) + ")"
