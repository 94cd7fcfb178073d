"""Retries that wait as the site asks: `Retry-After` on 429 and 503, a short backoff without it.

Scrapy's RetryMiddleware asks again at once, whatever the answer said: an overloaded regional
site that sends "429, Retry-After: 30" gets the same request back in milliseconds, and the
crawl's other requests to it keep coming (scrapy/scrapy#3849). `PoliteRetryMiddleware` replaces
it and, for 429 and 503:

- waits what `Retry-After` asks (seconds, or an HTTP-date), at most `ROPSFEED_RETRY_AFTER_MAX`
  seconds, before the retry; without the header (or an unreadable one), `ROPSFEED_RETRY_BACKOFF`
  seconds doubled at each retry;
- holds the site's download slot for the same time (the slot's delay raised to the wait, counted
  from the answer), so the site's other pages wait too; afterwards the slot's delay is twice what
  it was before, and AutoThrottle brings it down again as the site answers;
- sends the retry as the site's first request when the hold ends (after the wait, or after twice
  the site's earlier delay if that is longer, both counted from the answer): it waits in the held
  slot as the site's queued pages do, but first in line (`RETRY_AFTER_PRIORITY`,
  `PoliteRetryMiddleware.retry_first`), never holding the reactor, another source's slot or
  another host's;
- does not retry a page whose asked wait is beyond the cap: it fails now, and the spider remembers
  it in `failed_pages` (scrapers/spiders/retries.py), its reason naming the status and the wait
  (`retry_after_note`, read by scrapers/spiders/failures.py), so the next crawl asks again.

Other retryable answers (500, 502, 504, timeouts …) are retried as Scrapy does.
"""

from __future__ import annotations

import logging
import re
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from time import monotonic
from typing import TYPE_CHECKING, Any, Self

from scrapy import signals
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Request, Response
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.response import response_status_message
from twisted.internet.defer import Deferred

if TYPE_CHECKING:
    from scrapy.core.downloader import Slot
    from scrapy.crawler import Crawler

log = logging.getLogger(__name__)

POLITE_STATUSES = (429, 503)  # answers that ask the client to come back later (RFC 9110 §10.2.3)
#: What a 429/503 retry's priority is raised by, over the page's own: above every page the crawl
#: queues (the spiders queue theirs at 0, a redirect adds 2 a hop), so that the scheduler hands it
#: out first and it is the site's next request when its wait is over. Scrapy lowers a retry's
#: priority instead (RETRY_PRIORITY_ADJUST, -1): its retry goes at once, and from the back of the
#: queue a passing fault has time to pass. Ours has waited already, as long as the site asked: at
#: the back it waited a second time, for every page queued before it — under AutoThrottle, with 20
#: pages of the site queued, it came 40 s after a 429 that asked for 1 s. A high priority alone is
#: not enough, though: see `PoliteRetryMiddleware.retry_first`.
RETRY_AFTER_PRIORITY = 1000
#: request.meta key of a 429/503 retry not yet in its site's download slot (`retry_first`)
RETRY_FIRST = "ropsfeed_retry_first"
#: request.meta key of the note on a page not retried because the site asked for a longer wait
RETRY_AFTER_NOTE = "ropsfeed_retry_after_note"
_SECONDS = re.compile(r"\d+")


def parse_retry_after(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """The wait a `Retry-After` value asks for, in seconds (0 for a date already past), or None
    when there is none or it cannot be read (the caller backs off as without one).

    RFC 9110 §10.2.3 allows a number of seconds or an HTTP-date (`Wed, 21 Oct 2026 07:28:00 GMT`;
    the obsolete RFC 850 and asctime forms too, which `parsedate_to_datetime` reads as well)."""
    if value is None:
        return None
    text = (value.decode("latin-1") if isinstance(value, bytes) else value).strip()
    if not text:
        return None
    if _SECONDS.fullmatch(text):
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # an HTTP-date is always GMT; the asctime form names no zone
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def describe_wait(seconds: float) -> str:
    """`45 s`, `2 min`, `1 h 30 min`: a wait as the log and the failure reason say it."""
    whole = round(seconds)
    if whole < 120:
        return f"{seconds:g} s" if seconds < 10 else f"{whole} s"
    hours, minutes = divmod(round(whole / 60), 60)
    return f"{hours} h {minutes} min" if hours and minutes else f"{hours} h" if hours else f"{minutes} min"


def retry_after_note(response: object) -> str | None:
    """What `PoliteRetryMiddleware` said of a page it did not retry (for describe_failure)."""
    try:
        meta = response.meta  # type: ignore[attr-defined]  # a response without its request has none
    except AttributeError:
        return None
    return meta.get(RETRY_AFTER_NOTE)


@dataclass
class _Hold:
    """A download slot held back after a 429/503: until when, and its pace before."""

    until: float
    delay_before: float
    jitter_before: float


class PoliteRetryMiddleware(RetryMiddleware):
    """RetryMiddleware that waits as the site asks on 429 and 503 (see the module's docstring)."""

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.max_wait = settings.getfloat("ROPSFEED_RETRY_AFTER_MAX", 120.0)
        self.backoff = settings.getfloat("ROPSFEED_RETRY_BACKOFF", 1.0)
        self.holds: dict[str, _Hold] = {}  # download slot key → its hold

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        middleware = super().from_crawler(crawler)
        # after AutoThrottle's handler (extensions connect first): a held slot's delay is put back
        # after AutoThrottle adjusted it for an answer, before the slot sends its next request
        crawler.signals.connect(middleware.keep_holds, signal=signals.response_downloaded)
        crawler.signals.connect(middleware.retry_first, signal=signals.request_reached_downloader)
        return middleware

    async def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        if response.status not in POLITE_STATUSES or request.meta.get("dont_retry", False):
            return super().process_response(request, response)
        if response.status not in self.retry_http_codes:
            return response
        spider = self.crawler.spider
        name = getattr(spider, "name", "?")
        attempt = request.meta.get("retry_times", 0) + 1
        header = response.headers.get(b"Retry-After")
        asked = parse_retry_after(header)
        said = f"Retry-After: {header.decode('latin-1').strip()}" if header else "no Retry-After"
        slot = request.meta.get("download_slot")
        if asked is not None and asked > self.max_wait:
            self.hold(slot, self.max_wait)
            note = (f"the site asks to wait {describe_wait(asked)} ({said}), longer than the "
                    f"{describe_wait(self.max_wait)} a crawl waits (ROPSFEED_RETRY_AFTER_MAX): not retried in this "
                    f"run")  # fmt: skip
            request.meta[RETRY_AFTER_NOTE] = note
            log.warning("%s: GET %s: HTTP %d: %s; the site's other pages wait %s", name, request.url,
                        response.status, note, describe_wait(self.max_wait), extra={"spider": spider})  # fmt: skip
            self.crawler.stats.inc_value("retry/retry_after_too_long")
            return response
        wait = asked if asked is not None else self.backoff * 2 ** (attempt - 1)
        held = self.hold(slot, wait)  # retried or not, the site asked for the pause
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:  # out of retries (RETRY_TIMES): the spider's errback reports the page
            return response
        log.warning("%s: GET %s: HTTP %d (%s): waiting %s before retry %d of %d; the site's other pages wait too",
                    name, request.url, response.status, said, describe_wait(wait), attempt,
                    request.meta.get("max_retry_times", self.max_retry_times), extra={"spider": spider})  # fmt: skip
        retry.priority = request.priority + RETRY_AFTER_PRIORITY  # not Scrapy's -1: see RETRY_AFTER_PRIORITY
        retry.meta[RETRY_FIRST] = True
        if wait > 0 and not held:  # no slot to wait in (none known for the request): wait here
            await sleep(wait)
        # at once: it waits in the held slot, first in line, and goes when the hold ends; waiting
        # here instead, it reached the slot after the pages queued there meanwhile
        return retry

    # -- the site's slot ---------------------------------------------------------------------------

    def hold(self, key: str | None, seconds: float) -> bool:
        """Send nothing more to the slot's site for `seconds` from now (its delay raised, counted
        from now, without jitter); then let it go at twice its earlier delay. False when there is
        no such slot (nor a wait)."""
        slot = self._slot(key)
        if slot is None or seconds <= 0 or key is None:
            return False
        now = monotonic()
        held = self.holds.get(key)
        if held is None:
            held = self.holds[key] = _Hold(now + seconds, slot.delay, slot.jitter)
        held.until = max(held.until, now + seconds)
        slot.delay, slot.jitter, slot.lastseen = max(slot.delay, held.until - now), 0.0, now
        call_later(held.until - now, self._release, key)
        return True

    def retry_first(self, request: Request, spider: object = None) -> None:
        """A 429/503 retry reached its site's download slot: put it at the head of the slot's queue,
        so that it is the first request the site gets when its wait is over.

        Its priority (`RETRY_AFTER_PRIORITY`) takes it out of the scheduler first, but the
        downloader takes up to CONCURRENT_REQUESTS (16) of the crawl's requests, and a slot sends
        its own in the order they came, whatever their priority (scrapy/scrapy#1371). A source has
        a crawler of its own (aggregator/crawl.py) and mostly one host: up to 15 of the site's
        pages are queued there before the retry, which came as long after its wait as they took to
        fetch. Measured with 40 of the site's pages queued and a 429 asking for 1 s, under
        AutoThrottle (tests/scrapers/spiders/test_politeness_crawl.py): 10.3 s after the 429 with
        Scrapy's priority, 4.6 s with this priority alone, 6.7 s first in the slot alone, 1.0 s
        with both. The request is queued just after this signal, in the same call: it is moved on
        the reactor's next turn, and meanwhile the held slot sends nothing (a slot no longer held
        may send the one page ahead of it)."""
        if request.meta.pop(RETRY_FIRST, False):
            call_later(0, self._to_front, request)

    def _to_front(self, request: Request) -> None:
        slot = self._slot(request.meta.get("download_slot"))
        queue = getattr(slot, "queue", None)
        if not isinstance(queue, deque):  # a Scrapy whose slots queue by priority: nothing to do
            return
        for index, entry in enumerate(queue):  # (request, deferred) pairs, up to CONCURRENT_REQUESTS
            if entry[0] is request:
                del queue[index]
                queue.appendleft(entry)
                return

    def keep_holds(self, response: Response, request: Request) -> None:
        """An answer from a held site: AutoThrottle may just have lowered its slot's delay."""
        key = request.meta.get("download_slot")
        held = self.holds.get(key) if key is not None else None
        slot = self._slot(key)
        if held is not None and slot is not None:
            slot.delay = max(slot.delay, held.until - slot.lastseen)

    def _release(self, key: str) -> None:
        held = self.holds.get(key)
        if held is None or monotonic() < held.until - 0.001:  # a later hold extended it
            return
        del self.holds[key]
        slot = self._slot(key)
        if slot is not None:
            slot.delay, slot.jitter = held.delay_before * 2, held.jitter_before
            log.info("%s: the wait the site asked for is over: its pages come again, %g s apart", key, slot.delay,
                     extra={"spider": self.crawler.spider})  # fmt: skip

    def _slot(self, key: str | None) -> Slot | None:
        engine = getattr(self.crawler, "engine", None)
        if key is None or engine is None:
            return None
        return engine.downloader.slots.get(key)


async def sleep(seconds: float) -> None:
    """Wait on the reactor (asyncio's or not), blocking nothing else."""
    done: Deferred[None] = Deferred()
    call_later(seconds, done.callback, None)
    await maybe_deferred_to_future(done)
