"""The ASGI application of `ropsfeed serve`.

Routes live in small modules, each exposing `ROUTES` (a list of Starlette routes); a feature adds
its pages by adding its module to ROUTE_MODULES. Endpoints are plain (sync) functions: Starlette
runs them in its thread pool, which suits the synchronous SQLAlchemy sessions.

For a new module: read the database through `request.app.state.database_url` (db.engine's
session_scope), render with `aggregator.web.templating.templates` and templates that
`{% extends "base.html" %}` and fill `{% block title %}` and `{% block content %}`; a route named
"subscribe" appears in the layout's menu as "Subskrypcja" (templating.NAV_LINKS). Forms may post
only to this site (CSP form-action 'self') and pages run no scripts (script-src 'none').
"""

from __future__ import annotations

from types import ModuleType

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Mount, Route
from starlette.staticfiles import StaticFiles

from aggregator.web import feed_urls, pages, subscriptions
from aggregator.web.compression import CompressionMiddleware
from aggregator.web.security import SecurityHeadersMiddleware
from aggregator.web.templating import STATIC_DIR, templates
from db.migrate import ensure_schema

ROUTE_MODULES: tuple[ModuleType, ...] = (pages, feed_urls, subscriptions)

ERROR_MESSAGES = {
    400: "Nieprawidłowe zapytanie.",
    404: "Nie ma takiej strony.",
    405: "Ta metoda nie jest obsługiwana.",
    500: "Wystąpił błąd serwera. Spróbuj ponownie za chwilę.",
    503: "Usługa jest chwilowo niedostępna. Spróbuj ponownie później.",
}


# The order methods are listed in an `Allow` header: the usual first, any other after them.
_METHOD_ORDER = ("GET", "HEAD", "POST")


def _allowed(request: Request) -> str | None:
    """Every method some route takes at this path, for a 405's `Allow` (RFC 9110 §15.5.6). Starlette
    names only the methods of the first route matching the path, and a page and its form are two
    routes here (GET /subscribe, POST /subscribe): it would say "GET, HEAD" of a path that takes
    POST too. None when no route with methods matches (a mount: its own header stands)."""
    methods: set[str] = set()
    for route in request.app.routes:
        if isinstance(route, Route) and route.methods and route.matches(request.scope)[0] is not Match.NONE:
            methods |= route.methods
    if not methods:
        return None
    return ", ".join(sorted(methods, key=lambda m: (_METHOD_ORDER.index(m) if m in _METHOD_ORDER else 9, m)))


async def _error_page(request: Request, exc: Exception) -> Response:
    """The error in Polish in the site's layout, with the headers the exception carries (a 405's
    `Allow`, completed by `_allowed`)."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) and status == 400 and exc.detail else None
    headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}
    if status == 405 and (allowed := _allowed(request)):
        headers["Allow"] = allowed
    return templates.TemplateResponse(
        request,
        "error.html",
        {"status": status, "message": ERROR_MESSAGES.get(status, "Błąd."), "detail": detail},
        status_code=status,
        headers=headers,
    )


def create_app(database_url: str, *, migrate: bool = True, debug: bool = False) -> Starlette:
    """The web app reading `database_url`; `migrate` brings an empty or old database up to date."""
    if migrate:
        ensure_schema(database_url)
    routes = [route for module in ROUTE_MODULES for route in module.ROUTES]
    routes.append(Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"))
    app = Starlette(
        debug=debug,
        routes=routes,
        middleware=[Middleware(CompressionMiddleware), Middleware(SecurityHeadersMiddleware)],
        exception_handlers={HTTPException: _error_page, 500: _error_page},
    )
    app.state.database_url = database_url
    return app
