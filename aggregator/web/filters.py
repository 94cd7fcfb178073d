"""Query parameters → aggregator.feeds.FeedFilters, the same names on the page and the feed URLs.

`voivodeship`, `source`, `entity`, `q` (words that must all occur); the page adds `page`, the feeds
`limit`. Bad values are a 400 with a message in Polish, never a silently different list.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException

from aggregator.feeds import FeedFilters
from scrapers.registry import voivodeship_named

PAGE_SIZE = 20
COUNT_CAP = 1000  # beyond this the page says "ponad 1000" instead of counting every match
FILTER_PARAMS = ("voivodeship", "source", "entity", "q")
MAX_PARAM_LENGTH = 200


def _text(params: QueryParams, name: str) -> str | None:
    value = (params.get(name) or "").strip()
    return value or None


def _positive_int(params: QueryParams, name: str, default: int, maximum: int) -> int:
    raw = (params.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise HTTPException(400, f"Parametr „{name}” musi być liczbą od 1 do {maximum}.")
    return int(raw)


def filters_from(params: QueryParams, *, limit: int, offset: int = 0) -> FeedFilters:
    voivodeship = _text(params, "voivodeship")
    if voivodeship and voivodeship_named(voivodeship) is None:  # a feed URL typed by hand: "slaskie" too
        raise HTTPException(400, f"Nieznane województwo „{voivodeship}”.")
    for name in FILTER_PARAMS:
        if len(_text(params, name) or "") > MAX_PARAM_LENGTH:
            raise HTTPException(400, f"Parametr „{name}” jest za długi (najwyżej {MAX_PARAM_LENGTH} znaków).")
    try:
        return FeedFilters(
            voivodeship=voivodeship,
            source=_text(params, "source"),
            entity=_text(params, "entity"),
            query=_text(params, "q"),
            limit=limit,
            offset=offset,
        )
    except ValueError as exc:  # whatever else the feed layer refuses (a query it cannot parse, …)
        raise HTTPException(400, f"Nieprawidłowe zapytanie: {exc}") from exc


def page_number(params: QueryParams) -> int:
    return _positive_int(params, "page", 1, 100_000)


def feed_limit(params: QueryParams) -> int:
    return _positive_int(params, "limit", 50, 1000)


def filter_query(params: QueryParams, **changes: str | int | None) -> str:
    """The current filters as a query string, with `changes` applied (None removes a parameter)."""
    values: dict[str, str | int | None] = {name: _text(params, name) for name in (*FILTER_PARAMS, "page")}
    values.update(changes)
    return urlencode([(name, value) for name, value in values.items() if value not in (None, "")])
