"""WordPress sites: the REST API first, then the RSS feed, then HTML listings (DESIGN.md §2).

The API gives exact GMT dates, ids and the full content in one request per page of posts, so no
article page needs fetching. When a site disables it (401/403/404, or HTML where JSON should be)
the spider falls back by itself and says why in the log.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import scrapy
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from aggregator.urls import NO_ALIASES, UrlIdentity, canonical_url
from scrapers.extraction.article import body_from_html_fragment
from scrapers.extraction.images import each_once, picture
from scrapers.extraction.soup import parsed_html
from scrapers.extraction.text import clean_line, lead_of
from scrapers.extraction.timestamps import parse_iso
from scrapers.items import AnnouncementItem, ImageItem, RawResponse, archive_form
from scrapers.spiders.base import SourceSpider
from scrapers.spiders.failures import describe_failure
from scrapers.spiders.feeds import cut_off_feed, feed_meta, read_rss
from scrapers.worker_pool import offload
from scrapers.wp_rest import api_query

API_UNAVAILABLE = (400, 401, 403, 404, 410, 501)
# REST API listing pages requested at once after a page whose posts were all new (see pages_after)
API_PAGES_AHEAD = 4


#: Text the HTML parser would give back unchanged: no tag or entity, no character it rewrites
#: (line breaks, controls) or rejects (lone surrogates). Most titles and category names are such.
_PLAIN_TEXT = re.compile(r"[^<&\r\n\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]*\Z")


def plain(rendered: str) -> str:
    """The text of a REST API `rendered` field (title, term name), which WordPress HTML-escapes.

    Three per post: parsing each with BeautifulSoup cost more than the rest of the post's title
    handling, so text that has no markup left after unescaping skips the parser (the property
    test in tests/scrapers/spiders/test_wordpress_plain.py holds the two paths equal).
    """
    text = html.unescape(rendered or "")
    if _PLAIN_TEXT.match(text):
        return clean_line(text)
    with parsed_html(text) as soup:
        return clean_line(soup.get_text(" "))


def featured_images(embedded: dict[str, Any], page_url: str) -> list[ImageItem]:
    """A post's featured image, as `_embed=wp:featuredmedia` brings it: the file (`source_url`, the
    full size), its alt text and caption. The image is printed above the post, not in its content,
    so the content's pictures miss it. A media item the site keeps private is embedded as an error
    object (`{"code": "rest_forbidden", …}`) and a video or audio has another `media_type`:
    neither is a picture."""
    media = embedded.get("wp:featuredmedia")
    found = []
    for entry in media if isinstance(media, list) else []:
        if not isinstance(entry, dict) or entry.get("media_type", "image") != "image":
            continue
        source = entry.get("source_url")
        if not isinstance(source, str) or not source.strip():
            continue
        details = entry.get("media_details") if isinstance(entry.get("media_details"), dict) else {}
        caption = entry.get("caption") if isinstance(entry.get("caption"), dict) else {}
        image = picture(
            urljoin(page_url, source.strip()),
            str(entry.get("alt_text") or ""),
            plain(str(caption.get("rendered") or "")),
            details.get("width"),
            details.get("height"),
        )
        if image is not None:
            found.append(image)
    return found


def item_from_post(
    post: dict[str, Any], source_id: str, raw: RawResponse | None, identity: UrlIdentity = NO_ALIASES
) -> AnnouncementItem | None:
    """One REST API post → an announcement (a pure function, so `reparse` can use it too).

    The post id (`external_id`) is its identity: a permalink changed by an editor stays one row,
    and the row takes the new `link`, the URL the site now gives for it.
    """
    link = post.get("link")
    title = plain((post.get("title") or {}).get("rendered", ""))
    content = (post.get("content") or {}).get("rendered", "")
    if not link or not title or not content:
        return None
    url = canonical_url(link)
    body = body_from_html_fragment(content, url)
    if not (body.text.strip() or body.images or body.attachments):  # "<p>&nbsp;</p>": content in name only
        return None  # (a poster or a file alone is content)
    published, published_from = parse_iso(post.get("date_gmt"), naive_is_utc=True), "wp-api:date_gmt"
    if published is None:
        published, published_from = parse_iso(post.get("date")), "wp-api:date"
    modified = parse_iso(post.get("modified_gmt"), naive_is_utc=True)
    embedded = post.get("_embedded") or {}
    terms = embedded.get("wp:term") or []
    # categories, then tags, as the HTML pages' rel="category" and rel="tag" links give them
    categories = list(dict.fromkeys(
        name
        for taxonomy in ("category", "post_tag")
        for group in terms if isinstance(group, list)
        for term in group
        if isinstance(term, dict) and term.get("taxonomy") == taxonomy and (name := plain(term.get("name", "")))
    ))  # fmt: skip
    return AnnouncementItem(
        source_id=source_id,
        url=url,
        title=title,
        body_html=body.html,
        body_text=body.text,
        lead=lead_of(body.text),
        categories=categories,
        published_at=published,
        published_from=published_from if published else None,
        published_granularity="second" if published else None,
        modified_at=modified,
        modified_from="wp-api:modified_gmt" if modified else None,
        external_id=f"wp:{post['id']}" if post.get("id") is not None else None,
        attachments=body.attachments,
        # the featured image first, as the post's page shows it above the text; each file once
        images=each_once((*featured_images(embedded, url), *body.images)),
        raw=raw,
        url_keys=identity.keys(url),
        url_declared=True,
    )


@dataclass
class ApiPage:
    """What one page of the REST listing says, read in one pass (in a worker process)."""

    items: list[AnnouncementItem]  # without `raw`: the spider attaches its archived response
    incomplete: list[str]  # links of posts that lost their title, text or link
    listed: set[str]  # keys of every post on the page (see `listed_keys`)
    posts: int


def read_api_page(body: bytes, source_id: str, identity: UrlIdentity) -> ApiPage:
    """One REST API page (a crawled one, or an archived one that `reparse` reads again).

    Raises ValueError when the body is not a JSON list of posts."""
    posts = api_posts(body)
    made = [item_from_post(post, source_id, None, identity) for post in posts]
    # A post that became an item has a title and content (it is not incomplete) and its link's key
    # is the item's first URL key: only the other posts are read again for those two answers.
    unmade = [post for post, item in zip(posts, made, strict=True) if item is None]
    listed = listed_keys(unmade, identity)
    for post, item in zip(posts, made, strict=True):
        if item is not None:
            if str(post.get("id", "")).isdigit():
                listed.add(f"wp:{post['id']}")
            listed.add(item.url_keys[0])
    items = [item for item in made if item is not None]
    return ApiPage(items, incomplete_posts(unmade), listed, len(posts))


def read_archived_api_page(body: bytes, source_id: str, identity: UrlIdentity) -> tuple[ApiPage, tuple[str, bytes]]:
    """A worker's job for a crawled REST API page: `read_api_page`, and the body as the raw page
    archive keeps it (there, not in the crawl process, which also runs the crawl)."""
    return read_api_page(body, source_id, identity), archive_form(body)


def api_posts(body: bytes) -> list[dict[str, Any]]:
    posts = json.loads(body)
    if not isinstance(posts, list):
        raise ValueError(f"expected a JSON list of posts, got {type(posts).__name__}")
    return [post for post in posts if isinstance(post, dict)]


def listed_keys(posts: list[dict[str, Any]], identity: UrlIdentity) -> set[str]:
    """What every post of an API page is known by (its id, its link's key), even posts too empty
    to become announcements: a complete listing's posts are all still there."""
    keys: set[str] = set()
    for post in posts:
        if str(post.get("id", "")).isdigit():
            keys.add(f"wp:{post['id']}")
        if post.get("link"):
            keys.add(identity.key(canonical_url(str(post["link"]))))
    return keys


def incomplete_posts(posts: list[dict[str, Any]]) -> list[str]:
    """Links of the posts that could not become announcements (`item_from_post` gave None: no
    title, no text, no link): the API's own layout alarm."""
    return [str(post.get("link") or post.get("id") or "?") for post in posts]


@dataclass(frozen=True)
class ApiExtent:
    """How big a REST listing says it is: `X-WP-TotalPages` (0 when absent) and `X-WP-Total`."""

    pages: int
    posts: int | None
    contradiction: str | None = None  # the two headers disagree: neither is trusted for deletions


def api_extent(headers: Any, per_page: int) -> ApiExtent:
    """The listing's extent from a REST API page's headers. WordPress computes both headers from
    one query, so a count of posts that does not fit in the pages said (a cache or a plugin that
    rewrites one of them) shows a lying header: the pages the count needs are read, and the
    listing is never taken as complete, since a post missing from it may be on no page read."""

    def number(name: str) -> int | None:
        value = (headers.get(name) or b"").decode("latin-1").strip()
        return int(value) if value.isdigit() else None

    pages, posts = number("X-WP-TotalPages") or 0, number("X-WP-Total")
    if posts is not None and pages and posts > pages * per_page:
        needed = -(-posts // per_page)
        said = (f"X-WP-TotalPages says {pages} page(s) of {per_page} posts but X-WP-Total says {posts} posts; "
                f"reading {needed} pages, and marking no post deleted")  # fmt: skip
        return ApiExtent(needed, posts, said)
    return ApiExtent(pages, posts)


class WordPressSpider(SourceSpider):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # what the REST API listed, page by page: when every page was read the listing is complete
        # and a stored post missing from it was deleted by the site (see `complete_listing`)
        self.api_listed: set[str] = set()
        self.api_pages_read: set[int] = set()
        self.api_pages_requested: set[int] = {1}
        self.api_total_pages: int | None = None
        self.api_total_posts: int | None = None  # X-WP-Total of page 1
        self.api_posts_read = 0
        self.api_headers_doubtful = False  # the headers contradict each other (`api_extent`)
        self.api_last_page_full = False  # the page said to be the last holds `per_page` posts
        self.api_shrank = False  # the listing counts fewer posts than we hold: read it whole (`held_posts`)

    def complete_listing(self) -> set[str] | None:
        """The keys of every post the site has, when this crawl read its whole REST listing
        without an error; None otherwise (an incremental crawl, a fallback, a failed page, a
        listing whose pages hold fewer posts than it says it has, headers that contradict)."""
        if self.strategy != "wp-api" or self.errors or self.api_total_pages is None or self.api_headers_doubtful:
            return None
        if self.api_pages_read != set(range(1, self.api_total_pages + 1)):
            return None
        if self.api_total_posts is not None and self.api_posts_read < self.api_total_posts:
            return None
        if self.api_total_posts is None and self.api_last_page_full:  # more pages may follow it
            return None
        return self.api_listed

    def held_posts(self) -> int:
        """The site's posts stored live, by their WordPress ids. A nightly crawl reads only the
        listing's first pages, so a post deleted further down was never noticed (its tombstone
        waited for a `--full` crawl no schedule runs) and stayed in the feed for good; a listing
        that counts fewer posts (`X-WP-Total`) than this is read whole, and the complete listing
        marks the missing ones deleted, under the same guard against purges."""
        return sum(1 for key in self.known if key.startswith("wp:"))

    def first_requests(self) -> Iterator[scrapy.Request]:
        if self.source.api_url:
            self.strategy = "wp-api"
            yield self.api_request(1)
        else:
            yield from self.fall_back_from("api", "no REST API URL in the registry")

    # -- REST API ------------------------------------------------------------------------------

    def pages_after(self, page: int, total_pages: int, all_new: bool) -> list[int]:
        """The listing pages to request after `page`, which had new posts: the next one, or, when
        all its posts were new (a first crawl, or a site that posted a page's worth since the last
        one), the next `API_PAGES_AHEAD`. One page at a time, the listing was read at the pace of
        the worker queue: each page's posts are read in a worker process before the next page is
        known to be needed (benchmarks/bench_crawl.py). Never a page twice, never past the last."""
        last = min(total_pages, page + (API_PAGES_AHEAD if all_new else 1))
        pages = [p for p in range(page + 1, last + 1) if p not in self.api_pages_requested]
        self.api_pages_requested.update(pages)
        return pages

    def api_request(self, page: int) -> scrapy.Request:
        url = f"{self.source.absolute(self.source.api_url or '')}?{api_query(self.source.per_page, page)}"
        return self.listing_request(
            url,
            self.parse_api,
            cb_kwargs={"page": page},
            meta={"handle_httpstatus_list": list(API_UNAVAILABLE)},
        ).replace(errback=self.api_failed)

    def api_failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        self.on_error(failure)
        page = failure.request.cb_kwargs.get("page", 1)
        if page == 1 and failure.check(HttpError):  # an unreachable host has no other endpoint to try
            reason = describe_failure(failure, self.settings.getfloat("DOWNLOAD_TIMEOUT"))
            yield from self.fall_back_from("api", reason)

    async def parse_api(self, response: Response, page: int) -> AsyncIterator[Any]:
        content_type = response.headers.get("Content-Type", b"").decode("latin-1")
        if response.status in API_UNAVAILABLE:
            if page > 1 and response.status == 400:
                return  # WordPress answers 400 rest_post_invalid_page_number past the last page
            for request in self.fall_back_from("api", f"HTTP {response.status}"):
                yield request
            return
        raw = self.raw_of(response, "api")
        try:
            # 100 posts of HTML to clean: a worker process does it (scrapers.worker_pool)
            listing, raw.archived = await offload(self.workers, read_archived_api_page, response.body,
                                                  self.source.id, self.identity)  # fmt: skip
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            reason = f"not JSON ({content_type or 'no Content-Type'}): {exc}"
            if page == 1:
                self.api_broken(response.url, content_type, reason)
                for request in self.fall_back_from("api", reason):
                    yield request
            else:  # it hid the pages after it: remembered like one that answered 500 (the next crawl walks)
                self.page_failed(response.request, f"GET {response.url}: {reason}", reason)
            return
        items = listing.items
        for item in items:
            item.raw = raw
        if page == 1 and not items:
            self.alarms.append(f"REST API {response.url} returned no posts")
        for link in listing.incomplete:
            self.alarms.append(f"REST API post {link} has no title, no text or no link (layout change?); skipped")
        unseen = set(self.first_sight([item.url for item in items]))
        fresh = [item for item in items if item.url in unseen and not self.item_identities(item) & self.known]
        extent = api_extent(response.headers, self.source.per_page)
        total_pages = extent.pages
        self.api_listed |= listing.listed
        if page not in self.api_pages_read:
            self.api_posts_read += listing.posts
        self.api_pages_read.add(page)
        if page == (total_pages or 1):
            self.api_last_page_full = listing.posts >= self.source.per_page
        if page == 1:  # no header: one page is the whole listing only if it is not full
            self.api_total_pages = total_pages or (1 if listing.posts < self.source.per_page else None)
            self.api_total_posts = extent.posts
            if extent.contradiction:
                self.api_headers_doubtful = True
                self.alarms.append(f"REST API {response.url}: {extent.contradiction}")
            elif extent.posts is not None and (held := self.held_posts()) > extent.posts:
                self.api_shrank = True
                self.logger.info("%s: the REST API lists %d posts and %d are stored: reading every page for the "
                                 "deleted ones", self.name, extent.posts, held)  # fmt: skip
        walk = self.full or self.walk_listings or self.api_shrank
        if page < total_pages and (fresh or (walk and unseen)):
            # before this page's items: Scrapy takes a callback's output a few at a time
            # (CONCURRENT_ITEMS), so the next page would wait for the hundred items to be stored
            for ahead in self.pages_after(page, total_pages, all_new=len(fresh) == len(items)):
                yield self.api_request(ahead)
        for item in items:
            if item.url in unseen:  # known ones too: edits cost no request
                yield item

    # -- fallbacks -----------------------------------------------------------------------------

    def api_broken(self, url: str, content_type: str, reason: str) -> None:
        """An HTML page where the posts should be is the API switched off (a plugin, a redirect to
        the home page): the fallback is the plan. Anything else that is not a JSON list of posts
        (cut-off JSON, PHP warnings before it, an error object) is the API broken: the feed still
        brings the posts, but the operator should know, so it is an alarm."""
        if "html" not in content_type.lower():
            self.alarms.append(f"REST API {url} answered {reason}; read the RSS feed or HTML listings instead")

    def fall_back_from(self, strategy: str, reason: str) -> Iterator[scrapy.Request]:
        if strategy == "api" and self.source.feed_url:
            self.logger.info("%s: REST API unavailable (%s); falling back to the RSS feed", self.name, reason)
            self.strategy = "rss"
            yield self.feed_request(self.source.absolute(self.source.feed_url), 1)
            return
        self.logger.info("%s: %s unavailable (%s); falling back to HTML listings", self.name, strategy, reason)
        self.strategy = "html"
        yield from self.listing_requests()

    # -- RSS -----------------------------------------------------------------------------------

    def feed_request(self, url: str, page: int) -> scrapy.Request:
        return self.listing_request(
            url,
            self.parse_feed,
            cb_kwargs={"page": page},
            meta={"handle_httpstatus_list": [404, 410]},
        ).replace(errback=self.feed_failed)

    def feed_failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        self.on_error(failure)
        if failure.request.cb_kwargs.get("page", 1) == 1 and failure.check(HttpError):
            yield from self.fall_back_from(
                "feed", describe_failure(failure, self.settings.getfloat("DOWNLOAD_TIMEOUT"))
            )

    def parse_feed(self, response: Response, page: int) -> Iterator[Any]:
        if response.status in (404, 410):
            if page == 1:
                yield from self.fall_back_from("feed", f"HTTP {response.status}")
            return
        entries = read_rss(response)
        if entries is None:
            if page == 1:
                yield from self.fall_back_from("feed", "not an RSS document")
            return
        if cut := cut_off_feed(response.body):  # the items before the cut are crawled all the same
            message = f"GET {response.url}: {cut} (items read before the cut: {len(entries)})"
            self.page_failed(response.request, message, cut, alarm=True)
        fresh = unseen = 0
        followed = set(self.article_links(response.url, list(dict.fromkeys(entry.url for entry in entries))))
        for entry in entries:
            if entry.url not in followed or not self.first_sight([entry.url]):
                continue
            unseen += 1
            if self.full or self.is_new(entry.url):
                fresh += 1
                yield self.article_request(entry.url, **feed_meta(entry))
        if page == 1 and not entries:
            self.alarms.append(f"feed {response.url} has no items")
        if fresh or ((self.full or self.walk_listings) and unseen):
            base = self.source.absolute(self.source.feed_url or "/feed/")
            yield self.feed_request(f"{base}?paged={page + 1}", page + 1)
