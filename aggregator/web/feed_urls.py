"""`/feed.atom`, `/feed.rss`, `/feed.json`: the feed of `ropsfeed feed` with the page's filters as
query parameters (`voivodeship`, `source`, `entity`, `q`, `limit`).

Feed readers poll: each response carries an ETag made from what the feed lists (the entries'
ids and update times, when their pages were last written, the filters, the format), so an
unchanged feed is a bodiless 304. The body itself cannot be the tag – RSS's lastBuildDate changes
at every rendering. Bodies and files are loaded only for a feed that is sent: the tag comes from
the entries' own query (an edit of a page's files alone moves its row's `updated_at`, db/store.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aggregator.feed_content import load_content
from aggregator.feeds import FEED_TITLE, FeedEntry, FeedFilters, base_url, render, select_entries
from aggregator.web.filters import check_known, feed_limit, filters_from
from aggregator.web.queries import filter_names, filters_title
from db.engine import session_scope

MEDIA_TYPES = {
    "atom": "application/atom+xml; charset=utf-8",
    "rss": "application/rss+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}


CACHE_CONTROL = "public, max-age=300"


def entity_tag(entries: Sequence[FeedEntry], filters: FeedFilters, feed_format: str, title: str = FEED_TITLE) -> str:
    """What the feed lists, as a tag: the entries' ids, shown update times and related pages, and
    when their pages were last written (`FeedEntry.changed_at`). The shown time moves only for a
    crawl's edit of the text or of the files alone (aggregator/feeds.py `_updated`); a page that a
    reparse rewrote moves only the written time — and the feed, with its files, is sent."""
    digest = hashlib.sha256(f"{feed_format}|{filters!r}|{base_url()}|{title}".encode())
    for entry in entries:
        written = entry.changed_at.isoformat() if entry.changed_at else ""
        digest.update(f"|{entry.id}|{entry.updated.isoformat()}|{len(entry.other_urls)}|{written}".encode())
    return f'"{digest.hexdigest()[:32]}"'


def not_modified(if_none_match: str | None, etag: str) -> bool:
    """Whether `If-None-Match` names `etag`, by the weak comparison RFC 9110 §13.1.2 prescribes for
    it: `W/"x"` matches `"x"`. A cache or proxy that compressed the feed sends the tag back weak
    (ours does too, aggregator/web/compression.py), and the strict comparison sent it the whole
    feed again at every poll."""
    if not if_none_match:
        return False
    wanted = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag.removeprefix("W/") in wanted or "*" in wanted


def _feed(feed_format: str) -> Callable[[Request], Response]:
    def endpoint(request: Request) -> Response:
        filters = filters_from(request.query_params, limit=feed_limit(request.query_params))
        with session_scope(request.app.state.database_url) as session:
            check_known(session, filters)
            entries = select_entries(session, filters)
            named = filters_title(filter_names(session, filters), filters)
            title = f"ropsfeed: {named}" if named else FEED_TITLE  # short: feed readers cut long names
            headers = {"etag": entity_tag(entries, filters, feed_format, title), "cache-control": CACHE_CONTROL}
            if not_modified(request.headers.get("if-none-match"), headers["etag"]):
                return Response(status_code=304, headers=headers)
            load_content(session, entries)  # bodies and files: not for a 304
        return Response(
            render(entries, filters, feed_format, title=title), media_type=MEDIA_TYPES[feed_format], headers=headers
        )

    endpoint.__name__ = f"feed_{feed_format}"
    return endpoint


ROUTES = [Route(f"/feed.{name}", _feed(name), name=f"feed_{name}") for name in MEDIA_TYPES]
