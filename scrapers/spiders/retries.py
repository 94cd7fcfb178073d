"""Pages a crawl could not store are asked for again by the next one (db/failed_pages.py).

Incremental crawls fetch listings, not known articles, and stop paging at a listing page with
nothing new. A page that failed — an HTTP error other than 404/410, a timeout, a refused
connection, a parse alarm that kept only the raw page — would otherwise be fetched again only by
`--full`. So the spider remembers each failure of the crawl, and at the start of the next one:

- an article that failed is requested directly, with what the feed said of it and the text of the
  listing link (or feed item's title) that led to it, whatever the listings do: a page that states
  no title of its own is titled by it as its first attempt would have been; stored, it leaves the
  list (the pipeline drops its row with the page);
- a listing page past the first that failed (an HTML listing page, a REST API page, a feed page)
  hid everything after it: the next crawl walks every listing page, as `--full` does but without
  fetching the known articles again, and the rows go once a crawl has walked them all without a
  failure;
- a crawl that fetched pages and did not store them — killed before it recorded its outcome (its
  `crawl_runs` row left `running`: db/interrupted.py), or its database writes failed
  (scrapers/pipelines.py) — or that was stopped before it had read every listing page (SIGTERM,
  Ctrl+C) leaves a `crawl` row: the next crawl walks every listing page too, and says why in the
  log;
- an announcement the database refused (one bad row of a batch, scrapers/pipelines.py) is an
  article that failed: asked for again, and stored once the cause is gone;
- a page whose URL is too long to store (a listing's link, a REST API post's, a page the database
  refused for it) is remembered once as `unstorable`, an error of that crawl alone: later crawls
  neither fetch it nor report it again (asking would change nothing);
- a page the site deleted since (404/410) leaves the list; one that failed `GIVE_UP_ATTEMPTS`
  times over `GIVE_UP_AFTER` is dropped, with an alarm in the crawl run that drops it.

A walk is complete when the crawl finished, no listing, API or feed page failed (a first page
included: what it hid was not walked) and everything it fetched was stored; only then do the
`listing` and `crawl` rows go. The crawl's failures are written with its crawl run's outcome, in
one transaction (`remember_failures`, called by scrapers/extensions.py): if that fails the run stays
`running`, and the next crawl treats it as interrupted.

The first failure is an error of its run; a retry that fails again is an alarm (the spider's
`page_failed`), which escalates like any alarm that repeats.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy.http import Response
from sqlalchemy.orm import Session

from aggregator.urls import canonical_url
from db.clean import shown
from db.engine import session_scope
from db.failed_pages import (
    ARTICLE,
    CRAWL,
    CRAWL_KEY,
    LISTING,
    UNSTORABLE,
    PageFailure,
    crawl_marker,
    exhausted,
    failed_pages,
    forget,
    record_failures,
    unstorable_key,
)
from scrapers.spiders.feeds import FeedEntry, feed_meta

if TYPE_CHECKING:
    from scrapers.spiders.base import SourceSpider

    _Base = SourceSpider
else:
    _Base = object

log = logging.getLogger(__name__)


def asked_url(request: scrapy.Request) -> str:
    """The URL the crawl asked for, before any redirect: what a retry asks for again."""
    return canonical_url((request.meta.get("redirect_urls") or [request.url])[0])


class RetriesFailedPages(_Base):
    """SourceSpider's memory of failed pages (a mixin: it uses the spider's source, identity,
    database URL, errors and alarms)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pending_failures: dict[str, PageFailure] = {}  # failed in earlier crawls, by key
        self.failures: dict[str, PageFailure] = {}  # failed in this crawl, by key
        self.settled: set[str] = set()  # pending ones the site deleted since (404/410)
        self.walk_listings = False  # a listing page failed before: page past the pages with nothing new
        self.listing_failed = False  # a listing, API or feed page of this crawl failed (a first one too)
        self.unstored = 0  # announcements (and deletions) this crawl fetched and did not store
        self.unstored_reasons: list[str] = []

    def failed_key(self, url: str) -> str:
        """What a failed article is remembered by: its CMS id when the URL names one (`?p=123`,
        which redirects), else its identity key (the key a stored page of that URL has)."""
        return self.identity.external_id_of(url) or self.identity.key(url)

    # -- start -----------------------------------------------------------------------------------

    def load_failed_pages(self) -> None:
        """The failures of earlier crawls; those past the limits are dropped here, with an alarm."""
        now = datetime.now(UTC)
        with session_scope(self.database_url) as session:
            rows = failed_pages(session, self.source.id)
            given_up = [row for row in rows if exhausted(row, now)]
            pending = [
                PageFailure(row.url, row.url_key, row.kind, row.reason, row.feed_published,
                            tuple(row.feed_categories or ()), row.link_text)
                for row in rows if not exhausted(row, now)
            ]  # fmt: skip
            dropped = [(row.url_key, row.url, row.attempts, row.first_failed_at, row.reason) for row in given_up]
        if dropped:
            with session_scope(self.database_url, write=True) as session:
                forget(session, self.source.id, [key for key, *_ in dropped])
            for key, url, attempts, first, reason in dropped:
                what = "walking every listing page for what crawls did not store" if key == CRAWL_KEY else url
                message = (f"gave up on {what}: it failed {attempts} crawls in a row since {first:%Y-%m-%d} "
                           f"(last: {reason}); `ropsfeed crawl --full` tries it once more")  # fmt: skip
                self.logger.warning("%s: %s", self.name, message)
                self.alarms.append(message)
        self.pending_failures = {page.key: page for page in pending}
        self.walk_listings = any(page.kind in (LISTING, CRAWL) for page in pending)
        for page in pending:
            if page.kind == CRAWL:  # more requests than usual tonight: the log says why
                self.logger.warning("%s: walking every listing page for what an earlier crawl fetched and did not "
                                    "store: %s", self.name, page.reason)  # fmt: skip
        if pending:
            self.logger.info("%s: %d pages failed before: asking for them again%s", self.name, len(pending),
                             " and walking every listing page" if self.walk_listings else "")  # fmt: skip

    def retry_requests(self) -> Iterator[scrapy.Request]:
        """The articles that failed before, asked for directly (the listings may not lead to them),
        with what led to them the first time: the feed's date and categories, and the link's text
        (a listing that shows the page again is too late with its own: the duplicate filter drops
        its request for the page, this one having come first)."""
        for page in self.pending_failures.values():
            if page.kind == "article":
                entry = FeedEntry(page.url, page.feed_published, list(page.feed_categories))
                has_feed = page.feed_published is not None or page.feed_categories
                link_text = {"link_text": page.link_text} if page.link_text else {}
                yield self.article_request(page.url, **(feed_meta(entry) if has_feed else {}), **link_text)

    def failed_again(self, request: scrapy.Request | None) -> bool:
        """Whether `request` asks again for a page an earlier crawl could not store or read: an
        article (its request carries the key) or a listing page past the first (by its URL)."""
        if request is None:
            return False
        if request.meta.get("failed_key") in self.pending_failures:
            return True
        listing = self.pending_failures.get(self.identity.key(asked_url(request)))
        return listing is not None and listing.kind == "listing"

    def failure_meta(self, url: str) -> dict[str, str]:
        """For an article request: the key of the failure it retries, if it retries one (a page
        reached again through a listing is one too), so that its row goes with the stored page."""
        key = self.failed_key(url)
        return {"failed_key": key} if key in self.pending_failures else {}

    # -- during the crawl ------------------------------------------------------------------------

    def note_failure(self, request: scrapy.Request | None, reason: str) -> None:
        """A request that brought nothing to store: remembered for the next crawl."""
        if request is None:
            return
        url = asked_url(request)
        if request.callback == self.parse_article:
            kind, key = "article", self.failed_key(url)
        elif request.cb_kwargs.get("first") or request.cb_kwargs.get("page") == 1:
            # a first listing, API or feed page: every crawl asks for it, and what it hid is new
            # to the next one, whose paging goes on while pages bring new items; remembered, a
            # page that keeps failing would set off a walk of every listing page every night.
            # But a walk owed by an earlier crawl did not happen beyond it: it stays owed.
            self.listing_failed = True
            return
        else:
            kind, key = "listing", self.identity.key(url)
            self.listing_failed = True
        published = request.meta.get("feed_published")
        categories = tuple(request.meta.get("feed_categories") or ())
        link_text = request.meta.get("link_text") if kind == ARTICLE else None
        self.failures[key] = PageFailure(url, key, kind, reason, published, categories, link_text)

    def store_refused(self, url: str, key: str, message: str, reason: str, *, published: datetime | None = None,
                      link_text: str | None = None, retry: bool = True) -> None:  # fmt: skip
        """An announcement the database refused (scrapers/pipelines.py: one row of a batch whose
        others were stored), remembered like an article that failed to download: the next crawls
        ask for it again — a fix of the cause then stores it — and give it up in the end. An error
        of the run the first time, an alarm when it failed before (`page_failed`); `published` is
        the feed's date for it, if it had one, and `link_text` what led to it (the listing link's
        text or feed item's title), if anything did. Without `retry` (its URL is too long to store:
        asking again would change nothing) it is remembered once as such (`unstorable`)."""
        if not retry:
            self.unstorable(url, key, message, reason)
            return
        again = key in self.pending_failures
        self.failures[key] = PageFailure(url, key, ARTICLE, reason, published, link_text=link_text)
        if again:
            self.alarms.append(f"{message} (failing since an earlier crawl)")
        else:
            self.record_error(message)

    def unstorable(self, url: str, key: str, message: str, reason: str) -> bool:
        """A page whose URL (or identity key `key`) is too long for the database: remembered once
        (db/failed_pages.py `UNSTORABLE`), an error of the crawl that first meets it (`message`,
        `reason`), then known. True when it was known already: the caller need not say more."""
        bounded = unstorable_key(key)
        if bounded in self.pending_failures or bounded in self.failures:
            self.logger.info("%s: %s: not fetched nor stored, its URL is too long for the database (since an "
                             "earlier crawl)", self.name, shown(url))  # fmt: skip
            return True
        self.failures[bounded] = PageFailure(shown(url), bounded, UNSTORABLE, f"{reason}; not asked for again")
        self.record_error(f"{message}; not asked for again")
        return False

    def settle(self, response: Response) -> None:
        """A page that failed before and is now gone from the site (404/410): nothing to retry."""
        if key := response.meta.get("failed_key"):
            self.settled.add(key)

    def not_stored(self, count: int, reason: str) -> None:
        """What the storage pipeline could not store in the end (scrapers/pipelines.py): the next
        crawl walks every listing page for it (`remember_failures`)."""
        self.unstored += count
        if reason not in self.unstored_reasons:
            self.unstored_reasons.append(reason)

    # -- end -------------------------------------------------------------------------------------

    def walked_everything(self, reason: str) -> bool:
        """Whether this crawl walked every listing page it was asked to and stored what it found:
        what an earlier failed listing page or lost crawl hid is then stored."""
        return reason == "finished" and not self.listing_failed and not self.unstored

    def remember_failures(self, session: Session, reason: str, crawl_run_id: int | None = None) -> None:
        """Write this crawl's failures, in the transaction that records its crawl run's outcome
        (scrapers/extensions.py, after the pipeline stored the last items): both are written or
        neither, and a run left `running` is one the next crawl walks the listings for."""
        run = f"crawl run {crawl_run_id}" if crawl_run_id is not None else "a crawl"
        if self.unstored:
            lost = f"{run} fetched {self.unstored} announcements it did not store: {'; '.join(self.unstored_reasons)}"
            self.failures[CRAWL_KEY] = crawl_marker(self.source.base_url, lost)
        elif reason != "finished":
            # stopped (SIGTERM: `systemctl stop`, a reboot; Ctrl+C) before it reached every listing page
            # it would have read: what those hid is old news to the next incremental crawl, whose first
            # listing page now has nothing new, so it would never look for it
            stopped = f"{run} ended early ({reason}) before it had read every listing page"
            self.failures[CRAWL_KEY] = crawl_marker(self.source.base_url, stopped)
        cleared = set(self.settled)
        if self.walked_everything(reason):
            cleared |= {key for key, page in self.pending_failures.items() if page.kind in (LISTING, CRAWL)}
        cleared -= self.failures.keys()
        forget(session, self.source.id, cleared)
        record_failures(session, self.source.id, list(self.failures.values()), datetime.now(UTC))
        if CRAWL_KEY in cleared:
            self.logger.info("%s: walked every listing page and stored what it found: the walk owed for an earlier "
                             "crawl's lost pages is done", self.name)  # fmt: skip
        if pages := [page for page in self.failures.values() if page.kind != CRAWL]:
            self.logger.info("%s: %d pages failed: the next crawl asks for them again", self.name, len(pages))
