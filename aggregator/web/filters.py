"""Query parameters → aggregator.feeds.FeedFilters, the same names on the page and the feed URLs.

`voivodeship`, `source`, `entity`, `q` (words that must all occur); the page adds `page`, the feeds
`limit`. Bad values are a 400 with a message in Polish, never a silently different list.
"""

from __future__ import annotations

import logging
import unicodedata
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException

from aggregator.feeds import FeedFilters, check_source
from db.models import Entity, Source
from db.search import QueryWithoutWords
from scrapers.registry import RegistryError, voivodeship_named

log = logging.getLogger(__name__)

PAGE_SIZE = 20
COUNT_CAP = 1000  # beyond this the page says "ponad 1000" instead of counting every match
FILTER_PARAMS = ("voivodeship", "source", "entity", "q")
MAX_PARAM_LENGTH = 200


def _text(params: QueryParams, name: str) -> str | None:
    value = (params.get(name) or "").strip()
    return value or None


def has_control_characters(value: str) -> bool:
    """Control characters other than tab and line breaks (`%00`, `%01`…): no form sends them, a
    NUL made PostgreSQL refuse the whole query (a 500), and echoed into the page they are code
    points HTML forbids."""
    return any(unicodedata.category(char) == "Cc" and char not in "\t\n\r" for char in value)


def _positive_int(params: QueryParams, name: str, default: int, maximum: int) -> int:
    raw = (params.get(name) or "").strip()
    if not raw:
        return default
    # ASCII digits only: str.isdigit() takes "²" (int() then raised: a 500) and "٢" (read as 2)
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:
        raise HTTPException(400, f"Parametr „{name}” musi być liczbą od 1 do {maximum}.")
    return int(raw)


def filters_from(params: QueryParams, *, limit: int, offset: int = 0) -> FeedFilters:
    for name in FILTER_PARAMS:  # first: the messages below quote the values
        value = _text(params, name) or ""
        if len(value) > MAX_PARAM_LENGTH:
            raise HTTPException(400, f"Parametr „{name}” jest za długi (najwyżej {MAX_PARAM_LENGTH} znaków).")
        if has_control_characters(value):
            raise HTTPException(400, f"Parametr „{name}” zawiera niedozwolone znaki sterujące.")
    voivodeship = _text(params, "voivodeship")
    if voivodeship and voivodeship_named(voivodeship) is None:  # a feed URL typed by hand: "slaskie" too
        raise HTTPException(400, f"Nieznane województwo „{voivodeship}”.")
    try:
        return FeedFilters(
            voivodeship=voivodeship,
            source=_text(params, "source"),
            entity=_text(params, "entity"),
            query=_text(params, "q"),
            limit=limit,
            offset=offset,
        )
    except QueryWithoutWords as exc:  # "?", "„”", "*": punctuation only
        raise HTTPException(
            400, f"Wyszukiwane wyrażenie „{_text(params, 'q')}” nie zawiera żadnego słowa. Wpisz litery lub cyfry."
        ) from exc
    except ValueError as exc:  # whatever else the feed layer refuses: its message is English, for the log
        log.info("filters refused: %s", exc)
        raise HTTPException(400, "Nieprawidłowe wartości filtrów.") from exc


def check_known(session: Session, filters: FeedFilters) -> None:
    """A source or institution nobody knows is a 400, as an unknown voivodeship is: a feed URL with
    a typo ("?source=mpcs") was an empty feed forever, which a feed reader cannot tell from a quiet
    site. A source is known to the registry or the database (`ropsfeed feed --source` takes the
    same), an institution to the database (every key the pages link to is there)."""
    if filters.source:
        try:
            check_source(session, filters.source)
        except RegistryError:  # the registry unreadable: the database alone decides
            if session.scalar(select(Source.id).where(Source.id == filters.source)) is None:
                raise HTTPException(400, f"Nieznane źródło „{filters.source}”.") from None
        except ValueError:
            raise HTTPException(400, f"Nieznane źródło „{filters.source}”.") from None
    if filters.entity and session.scalar(select(Entity.id).where(Entity.key == filters.entity).limit(1)) is None:
        raise HTTPException(400, f"Nieznana instytucja „{filters.entity}”.")


def page_number(params: QueryParams) -> int:
    return _positive_int(params, "page", 1, 100_000)


def feed_limit(params: QueryParams) -> int:
    return _positive_int(params, "limit", 50, 1000)


def filter_query(params: QueryParams, **changes: str | int | None) -> str:
    """The current filters as a query string, with `changes` applied (None removes a parameter)."""
    values: dict[str, str | int | None] = {name: _text(params, name) for name in (*FILTER_PARAMS, "page")}
    values.update(changes)
    return urlencode([(name, value) for name, value in values.items() if value not in (None, "")])
