"""The pages a source's crawls could not store, kept until a crawl stores them (`failed_pages`).

An incremental crawl re-reads listings but not known articles, and stops paging after a listing
page with nothing new; so an article that answered HTTP 500 (timed out, was refused, or parsed
with problems and was kept only as a raw page) would never be asked for again once it was off the
first listing page. Each such page is remembered here with the last reason and how often it
failed, and the source's next crawls ask for it again (scrapers/spiders/retries.py) until one
stores it, the site deletes it (404/410), or it has failed `GIVE_UP_ATTEMPTS` times over at least
`GIVE_UP_AFTER`: then it is dropped, and the run that drops it says so in its alarms.

A page whose URL is longer than the database takes (`db.clean`: its `String(2000)` columns; on
PostgreSQL no unique B-tree index entry can pass 2704 bytes either, whatever the column's type) can
never be stored, however often it is asked for: it is remembered once, as kind `unstorable` under a
bounded key (`unstorable_key`), with a reason that says so; the crawls that meet it again neither
fetch it nor report it again, and it is never given up (that would make it new, and an error, again).

A crawl that did not store what it fetched — killed (its `crawl_runs` row left `running`), or its
database writes failed — cannot say which pages it lost, only that it lost some, anywhere in the
listings: it leaves one row of kind `crawl` (`crawl_marker`), and the source's next crawls walk
every listing page, as after a failed listing page past the first, until one walks them all and
stores what it fetched.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from db.clean import NUL, column_length, shown
from db.models import FailedPage
from db.upsert import insert_for

# A page is given up only when both are reached: ten failed crawls in a row, and two weeks since
# the first. The count alone would give up within hours on a source crawled hourly; the age alone
# would give up at once on a source not crawled for two weeks.
log = logging.getLogger(__name__)

GIVE_UP_ATTEMPTS = 10
GIVE_UP_AFTER = timedelta(days=14)
REASON_LENGTH = 500
URL_LENGTH = column_length(FailedPage, "url")
KEY_LENGTH = column_length(FailedPage, "url_key")

ARTICLE, LISTING, CRAWL, UNSTORABLE = "article", "listing", "crawl", "unstorable"
# The key of a source's `crawl` row: no URL's identity key (a host and a path) nor CMS id (`wp:1`)
# looks like it, and a source has one such row however many crawls lost pages.
CRAWL_KEY = "(crawl)"


@dataclass(frozen=True)
class PageFailure:
    """One failure of one page in this crawl (what a `failed_pages` row is made from)."""

    url: str
    key: str
    kind: str  # article | listing | crawl | unstorable
    reason: str
    feed_published: datetime | None = None
    feed_categories: tuple[str, ...] = field(default_factory=tuple)
    # the listing link's text or feed item's title that led to the page: its retry, which asks for
    # it directly, titles a page that states no title of its own with it, as the first attempt did
    link_text: str | None = None


def unstorable_key(key: str) -> str:
    """What a page too long to store is remembered by: its identity key (or CMS id) would not fit
    the row either. A digest of it, under a prefix no URL key (a host first) nor CMS id (`wp:1`)
    has: the same page, met again, has the same one."""
    return "(unstorable) sha256:" + hashlib.sha256(key.encode()).hexdigest()


def crawl_marker(site: str, reason: str) -> PageFailure:
    """A crawl of the source `site` (its base URL) lost pages it fetched (`reason`: how): its next
    crawls walk every listing page until one has walked them all and stored what it fetched."""
    return PageFailure(site, CRAWL_KEY, CRAWL, reason)


def failed_pages(session: Session, source_id: str) -> list[FailedPage]:
    """A source's remembered failures, oldest first."""
    query = select(FailedPage).where(FailedPage.source_id == source_id).order_by(FailedPage.first_failed_at)
    return list(session.scalars(query))


def exhausted(page: FailedPage, now: datetime) -> bool:
    """Whether a page has failed long enough to stop asking for it (see `GIVE_UP_ATTEMPTS`); an
    unstorable one is never asked for, and never given up: forgotten, it would be reported again."""
    return page.kind != UNSTORABLE and page.attempts >= GIVE_UP_ATTEMPTS and now - page.first_failed_at >= GIVE_UP_AFTER


def record_failures(session: Session, source_id: str, failures: Sequence[PageFailure], now: datetime) -> None:
    """Remember the failures of a crawl: a new page with one attempt, a known one with one more
    (its first failure stays; its URL, reason and feed data become this crawl's, and its link text
    too when this failure knows one)."""
    rows = [
        {"source_id": source_id, "url": f.url, "url_key": f.key, "kind": f.kind,
         "reason": f.reason.replace(NUL, "")[:REASON_LENGTH], "first_failed_at": now, "last_failed_at": now,
         "attempts": 1, "feed_published": f.feed_published, "feed_categories": list(f.feed_categories),
         "link_text": f.link_text.replace(NUL, "") if f.link_text else None}
        for f in {f.key: f for f in failures}.values()  # one row per page: the last failure of it wins
        if _storable(source_id, f)
    ]  # fmt: skip
    if not rows:
        return
    statement = insert_for(session, FailedPage.__table__)
    table = FailedPage.__table__
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["source_id", "url_key"],
            set_={
                "url": statement.excluded.url,
                "kind": statement.excluded.kind,
                "reason": statement.excluded.reason,
                "last_failed_at": statement.excluded.last_failed_at,
                "attempts": table.c.attempts + 1,
                "feed_published": statement.excluded.feed_published,
                "feed_categories": statement.excluded.feed_categories,
                # a failure that knows no link text (a database refusal of a page without one)
                # does not forget the one an earlier failure of the page had
                "link_text": func.coalesce(statement.excluded.link_text, table.c.link_text),
            },
        ),
        rows,
    )


def _storable(source_id: str, failure: PageFailure) -> bool:
    """Whether the row of `failure` fits its columns: a URL or key longer than they take would fail
    the transaction that records the crawl's outcome (PostgreSQL), and a cut one would ask for
    another page. Such a page is not remembered (logged)."""
    if len(failure.url) <= URL_LENGTH and len(failure.key) <= KEY_LENGTH:
        return True
    log.warning("%s: %s (%s) is not remembered for the next crawl: its URL is longer than the %d characters the "
                "database takes", source_id, shown(failure.url), failure.reason, URL_LENGTH)  # fmt: skip
    return False


def forget(session: Session, source_id: str, keys: Collection[str]) -> int:
    """Drop the remembered failures of these pages (stored at last, deleted by the site, given up);
    returns how many there were."""
    dropped = 0
    ordered = sorted(set(keys))
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        result = session.execute(
            delete(FailedPage).where(FailedPage.source_id == source_id, FailedPage.url_key.in_(chunk))
        )
        dropped += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return dropped
