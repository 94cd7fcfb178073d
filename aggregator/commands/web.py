"""`ropsfeed serve`: the web page of the feed (DESIGN.md §8)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from aggregator.options import DbOption
from db.engine import database_url


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    db: DbOption = None,
) -> None:
    """Serve the feed as a web page (search, filters, story pages) and as /feed.atom|rss|json."""
    import uvicorn

    from aggregator.web.app import create_app

    if not os.environ.get("ROPSFEED_BASE_URL"):
        # Feed ids and self links name this server unless a public URL is configured.
        # an IPv6 address in brackets: "http://::1:8000/" is no URL (mail_settings refuses it)
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else f"[{host}]" if ":" in host else host
        os.environ["ROPSFEED_BASE_URL"] = f"http://{shown}:{port}/"
    app = create_app(database_url(db))
    typer.echo(f"ropsfeed web page at http://{host}:{port}/ (Ctrl+C stops it)")
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=True)


def register(app: typer.Typer) -> None:
    app.command()(serve)
