"""The storage pipeline: batches items and writes each batch in one transaction.

A write that fails because the database is away (a server gone, a connection cut, a file that
cannot be written) keeps its batch: the next write (a batch later, or the end of the crawl) tries it
again with what came since, so a database back within the crawl loses nothing. After
`WRITE_ATTEMPTS` such failures in a row the crawl stops: pages that cannot be stored are not asked
of the site. A batch the database refuses (a constraint, a value it cannot take) would fail again,
and so would its good announcements with it on every crawl: it is written again in parts until
only the refused ones are left (`isolate`), each an error of the run, remembered by the spider like
a page that failed to download, so its next crawls ask for it again (scrapers/spiders/retries.py).
The known causes of a refused row (NUL characters, over-long values) are cleaned up first
(db/clean.py). What is not stored in the end because the database was away is reported to the
spider (`not_stored`), whose next crawl walks every listing page for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from datetime import UTC, datetime

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.settings import BaseSettings
from scrapy.utils.asyncio import is_asyncio_available
from scrapy.utils.defer import deferred_from_coro

from aggregator.annotate import Annotations, dating_sight
from aggregator.dedup.ahead import FeaturesAhead, for_run
from aggregator.stories import DraftRun, draft_for
from db.clean import KEY_LENGTH, URL_LENGTH, clean_item, clean_raws, shown
from db.engine import database_away, database_reason, session_scope
from db.failed_pages import forget
from db.store import BatchResult, save_announcements, tombstone, tombstone_missing
from scrapers.annotation_pool import Annotator
from scrapers.items import AnnouncementItem, RawPageItem, RawResponse, TombstoneItem
from scrapers.worker_pool import default_workers

log = logging.getLogger(__name__)
BACKLOG = 10  # batches of items that may wait for their annotations before the crawl waits for them
WRITE_ATTEMPTS = 3  # writes in a row that find the database away before the crawl stops


def story_features(settings: BaseSettings) -> FeaturesAhead | None:
    """Where the workers' story features go: only when this process runs the story step after the
    crawl (`ropsfeed crawl`; a spider run by Scrapyd or `scrapy crawl` leaves stories to a later run)."""
    run_id = settings.get("ROPSFEED_RUN_ID")
    if not settings.getbool("ROPSFEED_STORIES_AFTER") or not run_id:
        return None
    return for_run(run_id)


def story_draft(settings: BaseSettings) -> DraftRun | None:
    """The story index this process's story step will continue (aggregator.stories.StoryDraft),
    when there is one (as for `story_features`)."""
    ahead = story_features(settings)
    if ahead is None:
        return None
    return draft_for(settings["ROPSFEED_RUN_ID"], settings["ROPSFEED_DATABASE_URL"], ahead)


def _key(item: AnnouncementItem) -> tuple[str, str]:
    """What the annotation jobs of an item are filed under."""
    return item.source_id, item.url


def recovered(items: list[AnnouncementItem]) -> dict[str, set[str]]:
    """The failed pages of earlier crawls (db.failed_pages) that these items store at last, by
    source: their rows go in the transaction that stores the pages, never before."""
    found: dict[str, set[str]] = {}
    for item in items:
        if item.failed_key:
            found.setdefault(item.source_id, set()).add(item.failed_key)
    return found


Unit = AnnouncementItem | RawResponse | TombstoneItem  # what a refused batch is written again in parts of


def _split(units: list[Unit]) -> tuple[list[AnnouncementItem], list[RawResponse], list[TombstoneItem]]:
    """A part of a batch as `StoragePipeline.write` takes it."""
    items = [u for u in units if isinstance(u, AnnouncementItem)]
    raws = [u for u in units if isinstance(u, RawResponse)]
    return items, raws, [u for u in units if isinstance(u, TombstoneItem)]


class StoragePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.database_url: str = crawler.settings["ROPSFEED_DATABASE_URL"]
        self.batch_size = crawler.settings.getint("ROPSFEED_BATCH_SIZE", 100)
        self.items: list[AnnouncementItem] = []
        self.ready_prefix = 0  # how many of the first `items` are known to have their annotations
        self.raws: list[RawResponse] = []
        self.tombstones: list[TombstoneItem] = []
        self.annotations: dict[tuple[str, str], Annotations] = {}  # `annotate`'s, until written
        self.totals = BatchResult()
        self.write_at = self.batch_size  # collected items, raw pages and deletions that make a write due
        self.away: list[str] = []  # writes that found the database away; their batches were kept
        self.away_reason = ""  # the driver's last word on it
        self.away_in_a_row = 0
        self.stopping = False
        workers = crawler.settings.getint("ROPSFEED_ANNOTATION_WORKERS", default_workers())
        self.annotator = Annotator(workers, story_features(crawler.settings))
        self.draft = story_draft(crawler.settings)
        self.started = datetime.now(UTC)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoragePipeline:
        return cls(crawler)

    def process_item(self, item: object) -> object:
        if isinstance(item, AnnouncementItem):
            # values the database would refuse, fixed before the workers annotate and index the text
            if refused := clean_item(item):
                self.refuse_item(item, refused)
                return item
            self.items.append(item)
            spider = self.crawler.spider
            if not (spider is not None and hasattr(spider, "is_known_item") and spider.is_known_item(item)):
                # new: its annotations will be needed, start them now
                self.annotator.start(_key(item), item.title, item.body_text, item.published_at,
                                     self.dating(self.started), lead=item.lead)  # fmt: skip
        elif isinstance(item, RawPageItem):
            self.raws.extend(clean_raws([item.raw]))
        elif isinstance(item, TombstoneItem):
            self.tombstones.append(item)
        if len(self.items) + len(self.raws) + len(self.tombstones) >= self.write_at:
            if len(self.items) >= BACKLOG * self.batch_size:
                if self.draft is not None:
                    # the crawl is about to wait for the workers: the story index of what is
                    # stored meanwhile, which the story step after the crawl would do on one core
                    self.draft.catch_up()
                # batch by batch: each is written while the workers annotate the next ones (all at
                # once, the workers sat idle while the crawl wrote the last of them); a failed
                # write stops here and the rest waits for the next one
                while self.items and self.flush(wait=True, limit=self.batch_size):
                    pass
            else:
                self.flush(wait=False)
        return item

    def flush(self, wait: bool = True, limit: int | None = None) -> bool:
        """Write what was collected in one transaction (with `wait`, at most `limit` items);
        False when the write failed (logged, and kept as the run's error).

        Without `wait`, only the items whose annotations are ready are written (the longest such
        run from the start, so rows keep the order the pages came in), and nothing when fewer
        than a batch are: this runs in the reactor thread, and waiting for the worker processes
        would stop the crawl. The backlog is bounded (`BACKLOG` batches, then it waits).
        """
        if not self.items and not self.raws and not self.tombstones:
            return True
        ready = len(self.items) if limit is None else min(limit, len(self.items))
        if not wait:
            # an item once ready stays ready: go on from where the last look stopped (looking from
            # the start again on every item cost as much as the rest of the pipeline's bookkeeping)
            ready = self.ready_prefix
            while ready < len(self.items) and self.annotator.ready(_key(self.items[ready])):
                ready += 1
            self.ready_prefix = ready
            if ready < self.batch_size and ready < len(self.items):
                return True
        items, raws, tombstones = self.items[:ready], self.raws, self.tombstones
        self.items, self.raws, self.tombstones = self.items[ready:], [], []
        self.ready_prefix = 0
        try:
            result = self.write(items, raws, tombstones)
        except Exception as exc:
            if database_away(exc):
                self.write_failed(exc, items, raws, tombstones)
                return False
            result, written = self.isolate(exc, items, raws, tombstones)
            self.stored(result, back=written)
            return written
        self.stored(result)
        return True

    def write(
        self, items: list[AnnouncementItem], raws: list[RawResponse], tombstones: list[TombstoneItem]
    ) -> BatchResult:
        """Items, raw pages and deletions in one transaction; raises what the database said."""
        with session_scope(self.database_url, write=True) as session:
            # cleaned as they came (`process_item`), and nothing changed them since
            result = save_announcements(session, items, raws, self.annotate, search=self.search, cleaned=True)
            for gone in tombstones:
                result.deleted += tombstone(session, gone.source_id, gone.keys, [gone.url], gone.reason)
            for source_id, keys in recovered(items).items():
                forget(session, source_id, keys)
        for item in items:
            self.annotations.pop(_key(item), None)
        return result

    def stored(self, result: BatchResult, *, back: bool = True) -> None:
        """After a write: the totals of what it stored (the whole batch, or the parts of it the
        database took), and the alarms of what it kept; unless the database went away meanwhile
        (not `back`: `write_failed` counted that), the database is back."""
        if back and self.away_in_a_row:
            log.warning("%s: the database is back: a write succeeded after %d failed, with the batch they kept",
                        self.source_name, self.away_in_a_row)  # fmt: skip
        if back:
            self.away_in_a_row, self.write_at = 0, self.batch_size
        self.totals += result
        self.publish_totals()
        spider = self.crawler.spider
        for url in result.kept_text:  # an alarm (logged as it is raised: scrapers/spiders/alarms.py)
            message = f"{url}: the page has no text any more (only a picture or a file); kept the stored text"
            if spider is not None and hasattr(spider, "alarms"):
                spider.alarms.append(message)
            else:
                log.warning("%s", message)

    def isolate(
        self, exc: Exception, items: list[AnnouncementItem], raws: list[RawResponse], tombstones: list[TombstoneItem]
    ) -> tuple[BatchResult, bool]:
        """A batch the database refused: written again in halves, each in a fresh transaction, and
        the halves that fail halved again, until every announcement (with its raw page, its
        deletions, its annotations) the database takes is stored and only the ones it refuses are
        left, each given up alone (`refuse`). Given up whole, as before, one bad row lost the ~100
        good ones of its batch on every crawl that met it. One bad row of 100 costs about 14 small
        writes. A database that goes away meanwhile keeps what is left for the next write, as a
        failed write does. Returns what was stored, and False if the database went away."""
        log.warning("%s: database write of %d announcements failed: %s: %s; writing it again in parts to store all "
                    "but what the database refuses", self.source_name, len(items), type(exc).__name__,
                    database_reason(exc))  # fmt: skip
        result = BatchResult()
        parts: deque[list[Unit]] = deque()

        def refused(part: list[Unit], failure: Exception) -> None:
            if len(part) == 1:
                self.refuse(part[0], failure)
            else:  # the first half first: rows keep the order the pages came in
                half = len(part) // 2
                parts.extendleft([part[half:], part[:half]])

        refused([*items, *raws, *tombstones], exc)
        while parts:
            part = parts.popleft()
            try:
                result += self.write(*_split(part))
            except Exception as failure:
                if database_away(failure):
                    self.write_failed(failure, *_split([unit for rest in (part, *parts) for unit in rest]))
                    return result, False
                refused(part, failure)
        return result, True

    def refuse(self, unit: Unit, exc: Exception) -> None:
        """One announcement (raw page, deletion) the database refused: logged, an error of the run
        naming it and the database's reason (the first line of the driver's message), and, for an
        announcement, remembered for the next crawls (`RetriesFailedPages.store_refused`)."""
        reason = f"{type(exc).__name__}: {database_reason(exc)}"
        if isinstance(unit, AnnouncementItem):
            self.refuse_item(unit, f"the database refused it: {reason}")
            if unit.raw is not None:  # the fetched page is archived all the same, if it can be
                with contextlib.suppress(Exception):
                    self.write([], [unit.raw], [])
            return
        if isinstance(unit, RawResponse):
            message = f"{shown(unit.url)}: archiving the raw page failed, the database refused it: {reason}"
        else:
            message = f"{shown(unit.url)}: marking it deleted failed, the database refused it: {reason}"
            self.not_stored(1, message)  # the next crawl walks the listings for it
        log.error("%s: %s", self.source_name, message)
        spider = self.crawler.spider
        if spider is not None and hasattr(spider, "errors"):
            spider.errors.append(message)

    def refuse_item(self, item: AnnouncementItem, why: str) -> None:
        """An announcement that cannot be stored (`why`): given up alone, the rest of its batch
        goes on. The spider remembers it for its next crawls, which ask for it again; one whose URL
        is too long to store is remembered once as such, and neither asked for nor reported again
        (`RetriesFailedPages.unstorable`: before, a REST API post of such a URL was an error of
        every crawl)."""
        self.annotator.forget([_key(item)])
        self.annotations.pop(_key(item), None)
        message = f"{shown(item.url)}: not stored, {why}"
        spider = self.crawler.spider
        if spider is not None and hasattr(spider, "store_refused"):
            key = item.failed_key or spider.failed_key(item.url)
            published = item.published_at if item.published_from == "rss" else None
            fits = len(item.url) <= URL_LENGTH and len(key) <= KEY_LENGTH
            link_text = item.raw.link_text if item.raw is not None else None  # what led to the page
            spider.store_refused(item.url, key, message, why, published=published, link_text=link_text, retry=fits)
            return
        log.error("%s: %s", self.source_name, message)
        if spider is not None and hasattr(spider, "errors"):
            spider.errors.append(message)
        self.not_stored(1, message)

    @property
    def source_name(self) -> str:
        return getattr(self.crawler.spider, "name", "?")

    def write_failed(
        self, exc: Exception, items: list[AnnouncementItem], raws: list[RawResponse], tombstones: list[TombstoneItem]
    ) -> None:
        """A write that found the database away: its batch kept for the next write, in front of
        what came since, in the order the pages came; tried again a batch later."""
        reason = f"{type(exc).__name__}: {database_reason(exc)}"
        message = f"database write of {len(items)} announcements failed: {reason}"
        self.items[:0], self.raws[:0], self.tombstones[:0] = items, raws, tombstones
        self.write_at = len(self.items) + len(self.raws) + len(self.tombstones) + self.batch_size
        self.away.append(message)
        self.away_reason = reason
        self.away_in_a_row += 1
        log.error("%s: %s; kept for the next write", self.source_name, message)
        if self.away_in_a_row >= WRITE_ATTEMPTS:
            self.stop_crawl(f"{self.away_in_a_row} database writes in a row failed")

    def stop_crawl(self, why: str) -> None:
        """Close the spider: what it would fetch now could not be stored (nor would be asked for
        again: the next crawl walks the listings for it anyway)."""
        engine = self.crawler.engine
        if self.stopping or engine is None:
            return
        self.stopping = True
        log.error("%s: %s: the crawl stops; the next crawl walks every listing page for what it fetched",
                  self.source_name, why)  # fmt: skip
        deferred_from_coro(engine.close_spider_async(reason="database unavailable"))

    def not_stored(self, count: int, reason: str) -> None:
        """Tell the spider what it fetched and will not be stored (announcements, deletions)."""
        spider = self.crawler.spider
        if count and spider is not None and hasattr(spider, "not_stored"):
            spider.not_stored(count, reason)

    def account_for_failures(self) -> None:
        """At the end: the writes that found the database away are errors of the run if their
        batches were never stored (the spider then has its next crawl look for them), alarms if a
        later write stored them (nothing lost, but the operator should know)."""
        spider = self.crawler.spider
        lost = len(self.items) + len(self.tombstones)
        if lost:
            self.annotator.forget([_key(i) for i in self.items])
            self.annotations.clear()
            self.items, self.raws, self.tombstones = [], [], []
            reason = f"the database unavailable ({self.away_reason or 'no write tried'})"
            summary = (f"{lost} fetched announcements not stored, {reason}: the next crawl walks every listing "
                       "page for them")  # fmt: skip
            log.error("%s: %s", self.source_name, summary)
            if spider is not None and hasattr(spider, "errors"):
                spider.errors.extend([*self.away, summary])
            self.not_stored(lost, reason)
        elif self.away and spider is not None and hasattr(spider, "alarms"):
            spider.alarms.extend(f"{message}; a later write stored them" for message in self.away)
        self.away = []

    def publish_totals(self) -> None:
        stats = self.crawler.stats
        assert stats is not None
        for name in ("new", "updated", "unchanged", "deleted", "restored"):
            stats.set_value(f"ropsfeed/items_{name}", getattr(self.totals, name))

    def tombstone_missing(self) -> None:
        """After a crawl that read a source's whole REST listing: stored posts not in it are gone."""
        spider = self.crawler.spider
        listing = spider.complete_listing() if spider is not None and hasattr(spider, "complete_listing") else None
        if listing is None or spider is None:
            return
        source = spider.source
        reason = "missing from the complete REST API listing"
        guard = not self.crawler.settings.getbool("ROPSFEED_ACCEPT_DELETIONS")  # crawl --accept-deletions
        try:
            with session_scope(self.database_url, write=True) as session:
                marked, alarm = tombstone_missing(session, source.id, listing, source.identity.key, reason, guard=guard)
        except Exception as exc:
            spider.errors.append(f"marking posts missing from the REST listing failed: {type(exc).__name__}: {exc}")
            log.error("%s: %s", source.id, spider.errors[-1])
            return
        if alarm:
            spider.alarms.append(alarm)
        if marked:
            log.info("%s: %d announcements %s: marked deleted", source.id, marked, reason)
            self.totals.deleted += marked
            self.publish_totals()

    def annotate(self, item: AnnouncementItem, seen: datetime) -> Annotations:
        """The item's annotations; kept until it is stored or given up, since the worker hands
        them over once, and a failed write is tried again (a database away, a refused row's batch)."""
        key = _key(item)
        found = self.annotations.get(key)
        if found is None:
            found = self.annotator.result(key, item.title, item.body_text, item.published_at, self.dating(seen))
            self.annotations[key] = found
        return found

    def dating(self, seen: datetime) -> datetime | None:
        """`seen` if it dates a page of this crawl's source (`dating_sight`)."""
        return dating_sight(seen, getattr(self.crawler.spider, "first_crawl_end", None))

    def search(self, item: AnnouncementItem) -> tuple[str, str]:
        return self.annotator.search(_key(item), item.title, item.lead, item.body_text)

    async def close_spider(self, spider: Spider | None = None) -> None:
        self.stopping = True  # closing already: the last writes below are tried whatever happens
        await self.write_as_annotated()
        self.flush()
        self.account_for_failures()  # before the purge: none follows a crawl that lost pages
        self.tombstone_missing()

    async def write_as_annotated(self) -> None:
        """Write the collected items batch by batch as their annotations arrive, without blocking
        the reactor: the other spiders of the process go on crawling meanwhile (the first source to
        finish would otherwise stop them all until the workers caught up). Each batch is written,
        and added to the story index (`DraftRun`), while the workers annotate the next ones; all
        of them after the last annotation kept the workers idle while this process wrote them,
        then left the story step the index work of all of them."""
        self.annotator.send()  # the last, incomplete chunk
        if not is_asyncio_available():
            return  # flush() waits, blocking
        while self.items:
            batch = [_key(i) for i in self.items[: self.batch_size]]
            if not all(self.annotator.ready(key) for key in batch):
                if self.draft is not None:
                    self.draft.catch_up()  # in the time the workers need for this batch
                await self.annotated(batch)
            if not self.flush(wait=True, limit=self.batch_size):
                break  # a failed write (logged): the rest is tried once more, together, below
        await self.annotated([_key(i) for i in self.items])

    async def annotated(self, keys: list[tuple[str, str]]) -> None:
        """Until the annotations of `keys` are in, letting the reactor run meanwhile."""
        while not all(self.annotator.ready(key) for key in keys):
            await asyncio.sleep(0.02)
