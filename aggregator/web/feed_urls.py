"""`/feed.atom`, `/feed.rss`, `/feed.json`: the feed of `ropsfeed feed` with the page's filters as
query parameters (`voivodeship`, `source`, `entity`, `q`, `limit`)."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aggregator.feeds import render, select_entries
from aggregator.web.filters import feed_limit, filters_from
from db.engine import session_scope

MEDIA_TYPES = {
    "atom": "application/atom+xml; charset=utf-8",
    "rss": "application/rss+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}


def _feed(feed_format: str) -> Callable[[Request], Response]:
    def endpoint(request: Request) -> Response:
        filters = filters_from(request.query_params, limit=feed_limit(request.query_params))
        with session_scope(request.app.state.database_url) as session:
            entries = select_entries(session, filters)
        return Response(render(entries, filters, feed_format), media_type=MEDIA_TYPES[feed_format])

    endpoint.__name__ = f"feed_{feed_format}"
    return endpoint


ROUTES = [Route(f"/feed.{name}", _feed(name), name=f"feed_{name}") for name in MEDIA_TYPES]
