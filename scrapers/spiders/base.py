"""The spider every source uses: error reporting, raw archiving, incremental listing crawls.

Platform strategies (wordpress.py, …) subclass it; generated.py makes one class per registry
entry. Listing pages are always re-fetched; article pages already stored are not, unless the crawl
is `--full`; pagination stops after a listing page that brought nothing new.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.utils.log import SpiderLoggerAdapter
from sqlalchemy.exc import SQLAlchemyError
from twisted.python.failure import Failure

from aggregator.urls import NO_ALIASES, UrlIdentity, canonical_url
from db.clean import URL_LENGTH, shown
from db.engine import DatabaseUnavailable, database_reason, session_scope
from db.migrate import ensure_schema
from db.store import first_crawl_end, known_keys
from scrapers.extraction.article import TITLE_SEPARATORS, ArticleParser, ParsedArticle, title_from_link
from scrapers.extraction.encoding import decode_page
from scrapers.extraction.text import clean_line
from scrapers.items import AnnouncementItem, RawPageItem, RawResponse, TombstoneItem, archive_form
from scrapers.registry import SourceConfig
from scrapers.spiders.alarms import Alarms
from scrapers.spiders.failures import describe_failure
from scrapers.spiders.feeds import FeedEntry, cut_off_feed, feed_meta, read_rss
from scrapers.spiders.listing_links import MAX_LISTING_LINKS, over_limit_alarm, sort_links
from scrapers.spiders.redirects import redirect_loop, redirect_problem
from scrapers.spiders.retries import RetriesFailedPages, asked_url
from scrapers.worker_pool import default_workers, offload

log = logging.getLogger(__name__)

DEFAULT_LISTING_LINKS = (
    "h2.entry-title a::attr(href), h3.entry-title a::attr(href), article h2 a::attr(href), "
    "div.blog h2[itemprop=name] a::attr(href), div.blog p.readmore a::attr(href)"
)
DEFAULT_NEXT_PAGE = "a.next::attr(href), link[rel=next]::attr(href), li.pagination-next a::attr(href)"
# The text of a listing's "read more" link: it names no page.
_READ_MORE = re.compile(r"^(czytaj|więcej|zobacz|szczegóły|read more|»|>)", re.IGNORECASE)


def link_texts(response: Response, selector: str) -> dict[str, str]:
    """The text of the listing links (`selector`, its `::attr(href)` parts) by the canonical URL
    they lead to: the article's title as the listing prints it, for a page that states none of
    its own (`SourceSpider.complete`). The first link to a page with text other than "read more"."""
    anchors = [part.strip().removesuffix("::attr(href)") for part in selector.split(",")
               if part.strip().endswith("::attr(href)")]  # fmt: skip
    texts: dict[str, str] = {}
    for anchor in response.css(", ".join(anchors)) if anchors else ():
        href, text = anchor.attrib.get("href"), clean_line(" ".join(anchor.css("::text").getall()))
        if href and text and not _READ_MORE.match(text):
            texts.setdefault(canonical_url(response.urljoin(href)), text)
    return texts


def read_article(
    parser: ArticleParser, body: bytes, content_type: str | None, url: str, link_text: str | None = None
) -> tuple[ParsedArticle, tuple[str, bytes], str | None]:
    """A worker's job for an article page: its text (`decode_page`: a wrong charset label does
    not garble it), its extraction (`link_text`: what led to the page, ArticleParser.parse), its
    body as the raw page archive keeps it, and the log line for a wrong label — all there, not in
    the crawl process, which also runs the crawl."""
    decoded = decode_page(body, content_type, url)
    return parser.parse(decoded.text, url, link_text), archive_form(body), decoded.note(url)


GONE = (404, 410)  # a known article answering these was deleted by the site: a tombstone


def page_identity(parsed: ParsedArticle, url: str, identity: UrlIdentity) -> str | None:
    """The page's CMS id (`wp:123`, `node:123`): from its same-site shortlink (WordPress `?p=ID`,
    Drupal `/node/ID`), else from WordPress's `postid-ID` body class on a page of the source's own
    (sub-)site; a multisite's other sub-sites number their posts apart."""
    if parsed.shortlink:
        shortlink = canonical_url(urljoin(parsed.url, parsed.shortlink))
        if identity.same_site(shortlink, url) and (found := identity.external_id_of(shortlink)):
            return found
    if parsed.post_id and identity.under_home(url):
        return f"wp:{int(parsed.post_id)}"
    return None


def announcement_from_article(
    source_id: str, parsed: ParsedArticle, raw: RawResponse | None, identity: UrlIdentity = NO_ALIASES
) -> AnnouncementItem:
    """A parsed article page as an announcement: the spider and `reparse` share this step.

    The URL is the page's rel=canonical when that names a page of the same site (alias hosts
    included) other than its home page (a theme that points every page at the home page would
    otherwise make the whole site one announcement); else the URL it was fetched from. Either
    without the parameters the site ignores (`UrlIdentity.address`).
    """
    fetched = canonical_url(parsed.url)
    url, declared = identity.address(fetched), False
    if parsed.canonical_url:
        candidate = identity.address(urljoin(parsed.url, parsed.canonical_url))
        is_home = urlsplit(candidate).path in ("", "/") and not urlsplit(candidate).query
        if identity.same_site(candidate, fetched) and (not is_home or candidate == url):
            url, declared = candidate, True
    return AnnouncementItem(
        source_id=source_id,
        url=url,
        title=parsed.title or "",
        body_html=parsed.body_html,
        body_text=parsed.body_text,
        lead=parsed.lead,
        categories=parsed.categories,
        published_at=parsed.published_at,
        published_from=parsed.published_from,
        published_granularity=parsed.published_granularity,
        modified_at=parsed.modified_at,
        modified_from=parsed.modified_from,
        external_id=page_identity(parsed, url, identity),
        attachments=parsed.attachments,
        images=parsed.images,
        raw=raw,
        url_keys=identity.keys(url, fetched),
        url_declared=declared,
    )


class SourceSpider(RetriesFailedPages, scrapy.Spider):
    source: ClassVar[SourceConfig]
    parser_class: ClassVar[type[ArticleParser]] = ArticleParser

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.errors: list[str] = []
        self.alarms = Alarms(self.source.id)  # each one logged (scrapers/spiders/alarms.py)
        self.strategy: str | None = None
        self.identity = self.source.identity
        # URL keys and CMS ids (`wp:123`) of the stored announcements: live ones, and tombstones
        self.known: set[str] = set()
        # when the source's first crawl ended: pages first met after it are dated by that sight
        self.first_crawl_end: datetime | None = None
        self.tombstoned: set[str] = set()
        self.seen: set[str] = set()  # keys of article URLs met in this crawl: a page repeating them is not "new"
        # the site's feed items by URL key: the dates (and categories) of pages that print none
        self.feed_entries: dict[str, FeedEntry] = {}
        self.unexpected_urls_alarmed = False  # `check_article_urls` raised its alarm
        self.full = False
        self.database_url = ""
        self.workers = 0  # worker processes for page extraction (scrapers.worker_pool); 0: inline
        self.max_listing_links = MAX_LISTING_LINKS  # article links followed per listing page at most
        self.parser = self.parser_class(self.source.selectors, self.source.site_names)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> SourceSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.full = crawler.settings.getbool("ROPSFEED_FULL")
        spider.database_url = crawler.settings["ROPSFEED_DATABASE_URL"]
        spider.workers = crawler.settings.getint("ROPSFEED_ANNOTATION_WORKERS", default_workers())
        spider.max_listing_links = crawler.settings.getint("ROPSFEED_MAX_LISTING_LINKS", MAX_LISTING_LINKS)
        crawler.signals.connect(spider.request_dropped, signal=signals.request_dropped)
        crawler.signals.connect(spider.callback_failed, signal=signals.spider_error)
        return spider

    @property
    def logger(self) -> SpiderLoggerAdapter:
        """Scrapy names a spider's logger after the spider, which here is the source id, and every
        message already starts with it (`mcps: GET …`, as the pipeline's and extension's do): text
        lines read `rops-rzeszow: rops-rzeszow: …`. One logger for all spiders says it once; the
        source stays structured data in JSON lines (the adapter's `spider`, aggregator/logs.py)."""
        return SpiderLoggerAdapter(logging.getLogger("scrapers.spiders"), {"spider": self})

    # -- start ---------------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        try:
            ensure_schema(self.database_url)
            with session_scope(self.database_url) as session:
                self.known, self.tombstoned = known_keys(session, self.source.id, self.identity.key)
                self.first_crawl_end = first_crawl_end(session, self.source.id)
            self.load_failed_pages()
        except (DatabaseUnavailable, SQLAlchemyError) as exc:
            self.record_error(f"database unavailable: {database_reason(exc)}")
            return  # nothing can be stored: fetching would be wasted on the site
        for request in self.first_requests():
            yield request
        for request in self.retry_requests():
            yield request

    def first_requests(self) -> Iterator[scrapy.Request]:
        self.strategy = "html"
        if self.source.feed_url:  # read first: the article requests carry what it says of them
            yield self.listing_request(
                self.source.absolute(self.source.feed_url),
                self.parse_dates_feed,
                meta={"handle_httpstatus_list": [404, 410]},
            ).replace(errback=self.dates_feed_failed)
            return
        yield from self.listing_requests()

    def parse_dates_feed(self, response: Response) -> Iterator[scrapy.Request]:
        """The feed of a site crawled through its listings (Joomla, K2), for the dates its pages
        do not print. A site without one is crawled all the same: nothing is lost but those dates."""
        entries = read_rss(response) if response.status not in (404, 410) else None
        if entries is None:
            self.feed_unavailable(f"no RSS feed at {response.url} (HTTP {response.status})")
        else:
            if cut := cut_off_feed(response.body):  # what came before the cut dates its pages
                self.feed_unavailable(f"feed {response.url}: {cut} (items read before the cut: {len(entries)})")
            self.feed_entries = {self.identity.key(entry.url): entry for entry in entries}
        yield from self.listing_requests()

    def dates_feed_failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        reason = describe_failure(failure, self.settings.getfloat("DOWNLOAD_TIMEOUT"))
        self.feed_unavailable(f"feed {failure.request.url} unavailable ({reason})")
        yield from self.listing_requests()

    def feed_unavailable(self, what: str) -> None:
        """Not an error (the pages are crawled all the same), but the registry names this feed for
        the dates the pages lack: an alarm, so the operator sees them go missing."""
        self.alarms.append(f"{what}: dates from the pages only")

    # -- requests ------------------------------------------------------------------------------

    def listing_request(self, url: str, callback: Any, **kwargs: Any) -> scrapy.Request:
        """Listings are always fetched fresh: they are how new announcements are found."""
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.on_error,
            dont_filter=True,
            headers={"Cache-Control": "max-age=0"},
            **kwargs,
        )

    def article_request(self, url: str, **meta: Any) -> scrapy.Request:
        """A 404/410 reaches parse_article: for a known page it means the site deleted it."""
        meta = {"handle_httpstatus_list": list(GONE), **self.failure_meta(url), **meta}
        return scrapy.Request(url, callback=self.parse_article, errback=self.on_error, meta=meta)

    def listing_requests(self) -> Iterator[scrapy.Request]:
        if not self.source.listing_urls:
            self.alarms.append("no listing URL in the registry")
        for path in self.source.listing_urls:
            yield self.listing_request(self.source.absolute(path), self.parse_listing, cb_kwargs={"first": True})

    def identities(self, url: str) -> set[str]:
        """What a URL is known by: its key, and the CMS id when it is an id URL (`?p=123`)."""
        return {self.identity.key(url)} | ({found} if (found := self.identity.external_id_of(url)) else set())

    def is_new(self, url: str) -> bool:
        """Not stored yet, or stored and deleted since (a page back on a listing is fetched again)."""
        return not self.identities(url) & self.known

    def item_identities(self, item: AnnouncementItem) -> set[str]:
        return {*item.keys, *([item.external_id] if item.external_id else [])}

    def is_known_item(self, item: AnnouncementItem) -> bool:
        return bool(self.item_identities(item) & (self.known | self.tombstoned))

    def first_sight(self, urls: list[str]) -> list[str]:
        """URLs not met before in this crawl (under any of their forms); a site that ignores the
        page parameter ends here."""
        fresh = []
        for url in urls:
            key = self.identity.external_id_of(url) or self.identity.key(url)
            if key not in self.seen:
                self.seen.add(key)
                fresh.append(url)
        return fresh

    # -- errors --------------------------------------------------------------------------------

    def on_error(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        timeout = self.settings.getfloat("DOWNLOAD_TIMEOUT") if self.settings else 30.0
        reason = describe_failure(failure, timeout)
        self.page_failed(request, f"GET {url}: {reason}", reason)

    def page_failed(self, request: scrapy.Request | None, message: str, reason: str, *, alarm: bool = False) -> None:
        """A page that brought nothing to store, remembered for the next crawl (`note_failure`, as
        `reason`): an error of the run the first time (with `alarm`, an alarm too). A page an
        earlier crawl could not store either (retries.py) is an alarm only: its failure was
        reported when it happened, and as an error every night it would keep the source "failed"
        (and its REST API purges off) until the site mends the page."""
        self.note_failure(request, reason)
        if self.failed_again(request):
            self.alarms.append(f"{message} (failing since an earlier crawl)")
        elif alarm:
            self.alarms.add_logged(message)
            self.record_error(message)
        else:
            self.record_error(message)

    def record_error(self, message: str) -> None:
        self.errors.append(message)
        self.logger.error("%s: %s", self.name, message)

    def callback_failed(self, failure: Failure, response: Response | Failure, spider: scrapy.Spider) -> None:
        """A callback (or errback) of this spider raised: a bug, or a page ropsfeed cannot read (a
        registry selector soupsieve rejects). Scrapy logs it with its traceback and goes on; without
        this the run ended `ok`, the page neither stored nor reported nor asked for again — a source
        whose every article failed so looked healthy, with nothing new. It is a failed page like one
        that answered 500: an error of the run, remembered, asked for again by the next crawls."""
        if spider is not self:
            return
        request = response.request if isinstance(response, Response) else getattr(response, "request", None)
        url = asked_url(request) if request is not None else getattr(response, "url", "?")
        error = failure.value
        first_line = (str(error).strip().splitlines() or [""])[0]  # soupsieve's errors draw the selector below
        reason = f"ropsfeed could not read it: {type(error).__name__}" + (f": {first_line}" if first_line else "")
        self.page_failed(request, f"GET {url}: {reason}", reason)

    def request_dropped(self, request: scrapy.Request, spider: scrapy.Spider) -> None:
        """An article request whose redirect Scrapy's duplicate filter dropped: a loop, or one more
        article sent to the home page (redirects.py). Without this, the page would be neither
        stored nor reported, and nothing would ask for it again."""
        redirected_from = request.meta.get("redirect_urls")
        if spider is not self or not redirected_from or request.callback != self.parse_article:
            return
        asked = asked_url(request)
        if problem := redirect_problem(self.source, asked, request.url):
            self.page_failed(request, f"GET {asked}: {problem}; not stored", problem, alarm=True)
        elif problem := redirect_loop(redirected_from, request.url):
            self.page_failed(request, f"GET {asked}: {problem}", problem)

    # -- listings and articles -----------------------------------------------------------------

    def parse_listing(self, response: Response, first: bool = False) -> Iterator[Any]:
        if not hasattr(response, "css"):  # a failed listing page: remembered like one that answered 500
            reason = f"listing is not HTML ({response.headers.get('Content-Type')!r})"
            self.page_failed(response.request, f"GET {response.url}: {reason}", reason)
            return
        selector = self.source.selectors.listing_links or DEFAULT_LISTING_LINKS
        links = response.css(selector).getall()
        urls = self.article_links(response.url, list(dict.fromkeys(canonical_url(response.urljoin(u)) for u in links)))
        if not urls:
            self.alarms.append(f"listing {response.url} yielded no items (layout change?)")
            return
        if first:
            self.learn_site_name(response)
        self.check_article_urls(response.url, urls)
        unseen = self.first_sight(urls)
        fresh = [u for u in unseen if self.full or self.is_new(u)]
        texts = link_texts(response, selector) if fresh else {}
        for url in fresh:
            entry = self.feed_entries.get(self.identity.key(url))
            link_text = {"link_text": texts[url]} if url in texts else {}
            # the feed item's title, when there is one, over the link's (a theme may cut that short)
            yield self.article_request(url, **{**link_text, **(feed_meta(entry) if entry else {})})
        next_page = response.css(self.source.selectors.next_page or DEFAULT_NEXT_PAGE).get()
        if next_page and (fresh or ((self.full or self.walk_listings) and unseen)):
            yield self.listing_request(response.urljoin(next_page), self.parse_listing)

    def article_links(self, page: str, urls: list[str]) -> list[str]:
        """The links of listing (or feed) page `page` to follow as articles: those on the source's
        own site that can be stored, at most `max_listing_links` of them
        (scrapers/spiders/listing_links.py); what is left out is logged, links over the limit are
        an alarm, and a link too long to store is remembered (an error the first time only)."""
        links = sort_links(urls, self.identity, self.source.base_url, self.max_listing_links)
        if links.elsewhere:
            self.logger.info("%s: listing %s: %d links to other sites not followed as articles (e.g. %s)",
                             self.name, page, len(links.elsewhere), links.elsewhere[0])  # fmt: skip
        for url in links.too_long:
            reason = f"its URL is {len(url)} characters long, longer than the {URL_LENGTH} the database takes"
            self.unstorable(
                url, self.failed_key(url), f"{shown(url)} (a link of {page}): not fetched, {reason}", reason
            )
        if links.dropped:
            self.alarms.append(over_limit_alarm(page, links, self.max_listing_links))
        return links.followed

    def learn_site_name(self, response: Response) -> None:
        """The first listing page's `<title>` ("Aktualności – ROPS w Rzeszowie", the home page's on
        sites listed from it): what names the site, so that no article is titled with a part of it
        (ArticleParser.title); the parser takes it to the workers with the pages."""
        title = clean_line(response.css("title::text").get() or "")
        if title and any(separator in title for separator in TITLE_SEPARATORS) and title not in self.parser.site_names:
            self.parser.site_names = (*self.parser.site_names, title)

    def check_article_urls(self, listing: str, urls: list[str]) -> None:
        """An alarm (once a crawl) when none of a listing's links has the registry's article URL
        shape (`article_pattern`, matched against the path): the site changed its URLs, and each
        known announcement is about to be stored a second time under its new URL. The links are
        followed all the same: new announcements keep coming while the operator looks."""
        pattern = self.source.article_pattern
        if not pattern or self.unexpected_urls_alarmed or any(re.search(pattern, urlsplit(u).path) for u in urls):
            return
        self.unexpected_urls_alarmed = True
        self.alarms.append(
            f"listing {listing}: none of its {len(urls)} links matches the article URL pattern {pattern!r} "
            f"(e.g. {urls[0]}): the site changed its URLs? known announcements may be stored again under new ones"
        )

    def raw_of(self, response: Response, kind: str) -> RawResponse:
        headers = {k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in response.headers.items()}
        return RawResponse(
            source_id=self.source.id, url=response.url, kind=kind, status=response.status,
            headers=headers, body=response.body,
        )  # fmt: skip

    async def parse_article(self, response: Response, **_: Any) -> AsyncIterator[Any]:
        if response.meta.get("redirect_urls"):
            asked = asked_url(response.request) if response.request is not None else response.url
            if problem := redirect_problem(self.source, asked, response.url):  # not the page asked for, nor
                self.page_failed(response.request, f"GET {asked}: {problem}; not stored", problem, alarm=True)
                return  # its answer (a parked domain's 404 is no deletion)
        if response.status in GONE:
            self.settle(response)
            for tombstone in self.gone(response):
                yield tombstone
            return
        raw = self.raw_of(response, "article")
        if not hasattr(response, "text"):
            content_type = response.headers.get("Content-Type")
            self.page_failed(
                response.request, f"GET {response.url}: article is not text ({content_type!r})", "not text"
            )
            yield RawPageItem(raw)
            return
        # the page's extraction, the costliest step of the crawl, runs in a worker process
        content_type = response.headers.get("Content-Type", b"").decode("latin-1") or None
        raw.link_text = response.meta.get("link_text")  # archived with the page: `reparse` reads it
        parsed, raw.archived, wrong_label = await offload(self.workers, read_article, self.parser, response.body,
                                                          content_type, response.url, raw.link_text)  # fmt: skip
        if wrong_label:
            self.logger.warning("%s: %s", self.name, wrong_label)  # read right, but the site should know
        self.complete(parsed, response)
        item = self.item_from_article(parsed, raw, response.request)
        if item is None:
            yield RawPageItem(raw)
            return
        item.failed_key = response.meta.get("failed_key")
        yield item

    def gone(self, response: Response) -> Iterator[TombstoneItem]:
        """A deleted page: a known one becomes a tombstone; an unknown one is just a broken link."""
        asked = [*response.meta.get("redirect_urls", []), response.request.url if response.request else None]
        urls = list(dict.fromkeys(canonical_url(u) for u in (*asked, response.url) if u))
        known = set().union(*(self.identities(u) for u in urls))
        if known & (self.known | self.tombstoned):
            self.logger.info("%s: %s answers HTTP %d: marked deleted", self.name, response.url, response.status)
            yield TombstoneItem(self.source.id, urls[0], tuple(sorted(known)), f"HTTP {response.status}")
        elif self.failed_again(response.request):  # a page that failed before, deleted since: nothing lost
            self.logger.info("%s: %s, which failed before, answers HTTP %d: not asked for again", self.name,
                             response.url, response.status)  # fmt: skip
        else:
            redirected_from = response.meta.get("redirect_urls")
            via = (
                f"{redirected_from[0]}: HTTP {response.status} (redirected to {response.url})"
                if redirected_from
                else ""
            )
            self.record_error(f"GET {via or f'{response.url}: HTTP {response.status}'}")

    def complete(self, parsed: ParsedArticle, response: Response) -> None:
        """Fill what the page lacks from what led to it (e.g. the feed's pubDate)."""
        feed_published = response.meta.get("feed_published")
        if parsed.published_at is None and feed_published is not None:
            parsed.published_at, parsed.published_from, parsed.published_granularity = feed_published, "rss", "second"
        if not parsed.categories and response.meta.get("feed_categories"):
            parsed.categories = list(response.meta["feed_categories"])
        link_text = response.meta.get("link_text")
        if not parsed.title and (title := title_from_link(link_text, self.parser.site_names)):
            parsed.title, parsed.titled_by_link = title, True  # a page parsed without its link text
        if parsed.titled_by_link:
            self.logger.info("%s: %s states no title of its own (or only the site's name): titled as the link "
                             "that led to it is, %r", self.name, response.url, parsed.title)  # fmt: skip

    def item_from_article(
        self, parsed: ParsedArticle, raw: RawResponse | None, request: scrapy.Request | None = None
    ) -> AnnouncementItem | None:
        if parsed.problems:
            message = f"{parsed.url}: {', '.join(parsed.problems)} (layout change or broken page); kept the raw page"
            self.page_failed(request, message, ", ".join(parsed.problems), alarm=True)
            return None
        return announcement_from_article(self.source.id, parsed, raw, self.identity)
