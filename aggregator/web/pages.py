"""The reader's pages: the feed of stories (`/`), one story (`/story/<key>`) and one announcement
not yet grouped into a story (`/announcement/<id>`)."""

from __future__ import annotations

import hashlib
import math

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from aggregator.feeds import FeedFilters, count_entries, select_entries
from aggregator.web.feed_urls import not_modified
from aggregator.web.filters import COUNT_CAP, PAGE_SIZE, check_known, filter_query, filters_from, page_number
from aggregator.web.queries import filter_choices, filter_names, filters_title, load_announcement, load_story, story_of
from aggregator.web.templating import templates
from db.engine import session_scope


def index(request: Request) -> Response:
    params = request.query_params
    page = page_number(params)
    # one entry more than a page shows: whether an older page exists, without counting them all
    filters = filters_from(params, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    with session_scope(request.app.state.database_url) as session:
        check_known(session, filters)
        entries = select_entries(session, filters)
        total = count_entries(session, filters, cap=COUNT_CAP + 1)
        choices = filter_choices(session)
        names = filter_names(session, filters)
    named = filters_title(names, filters)  # the feeds' names in a browser's feed finder
    chosen = " · ".join(names)  # the tab's title: "Szukaj: …" says the words
    has_next = len(entries) > PAGE_SIZE
    entries = entries[:PAGE_SIZE]
    pages = max(1, math.ceil(total / PAGE_SIZE)) if total <= COUNT_CAP else None
    feed_query = filter_query(params, page=None)
    return _conditional(
        request,
        templates.TemplateResponse(
            request,
            "index.html",
            {
                "entries": entries,
                "total": total,
                "count_cap": COUNT_CAP,
                "page": page,
                "pages": pages,
                "filters": filters,
                "heading": _heading(filters),
                "filtered": any((filters.voivodeship, filters.source, filters.entity, filters.query)),
                "choices": choices,
                "feed_query": feed_query,
                "named_filters": named,
                "named_choices": chosen,
                "previous_query": filter_query(params, page=page - 1 if page > 2 else None) if page > 1 else None,
                "next_query": filter_query(params, page=page + 1) if has_next else None,
                "database_empty": total == 0 and not choices.sources,
            },
        ),
    )


def story(request: Request) -> Response:
    key = request.path_params["key"]
    if "\x00" in key:  # no story has one, and PostgreSQL refuses a NUL in a query (it was a 500)
        raise HTTPException(404)
    with session_scope(request.app.state.database_url) as session:
        view = load_story(session, key)
    if view is None:
        raise HTTPException(404)
    return _conditional(request, templates.TemplateResponse(request, "story.html", {"story": view}))


# announcements.id is an INTEGER: int4 on PostgreSQL, which refuses a larger number in the query,
# and SQLite cannot bind one past 2**63 at all (both were a 500)
MAX_ID = 2**31 - 1


def announcement(request: Request) -> Response:
    """One announcement; one that belongs to a story sends the reader to the story's page (302: a
    later deduplication may move it)."""
    announcement_id = request.path_params["announcement_id"]
    if announcement_id > MAX_ID:  # no row has it
        raise HTTPException(404)
    with session_scope(request.app.state.database_url) as session:
        story_key = story_of(session, announcement_id)
        view = None if story_key else load_announcement(session, announcement_id)
    if story_key:
        return RedirectResponse(request.url_for("story", key=story_key).path, status_code=302)
    if view is None:
        raise HTTPException(404)
    return _conditional(request, templates.TemplateResponse(request, "story.html", {"story": view}))


# Revalidate each time: a new crawl changes the list at any moment, and the check is cheap.
PAGE_CACHE_CONTROL = "no-cache"


def _conditional(request: Request, response: Response) -> Response:
    """The page with an ETag of its body, or a bodiless 304 when the browser has it already. The
    pages carried no validator at all: every visit and every "back" reloaded the whole page. The
    body is rendered either way (it is the tag); the 304 saves the transfer, most of it on a phone."""
    etag = f'"{hashlib.sha256(response.body).hexdigest()[:32]}"'
    headers = {"etag": etag, "cache-control": PAGE_CACHE_CONTROL}
    if not_modified(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return response


ROUTES = [
    Route("/", index, name="index"),
    Route("/story/{key}", story, name="story"),
    Route("/announcement/{announcement_id:int}", announcement, name="announcement"),
]


def _heading(filters: FeedFilters) -> str:
    if filters.query:
        return "Wyniki wyszukiwania"
    if filters.voivodeship or filters.source or filters.entity:
        return "Wybrane wiadomości"
    return "Najnowsze wiadomości"
