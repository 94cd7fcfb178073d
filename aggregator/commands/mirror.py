"""`ropsfeed mirror serve`: the bundled offline mirror as a real HTTP server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scrapers.mirror.server import SNAPSHOT_DIR, make_server

mirror_app = typer.Typer(help="The offline mirror of the sites.", no_args_is_help=True)


@mirror_app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0 picks a free one).")] = 8700,
    root: Annotated[
        list[Path] | None, typer.Option(help="Snapshot root(s), first match wins (default: bundled).")
    ] = None,
) -> None:
    """Serve copies of the sites at http://HOST:PORT/<site host>/<path>."""
    server = make_server(host, port, root or [SNAPSHOT_DIR])
    typer.echo(f"Serving the ropsfeed mirror at {server.url}/ (Ctrl+C to stop)", err=True)
    typer.echo(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def register(app: typer.Typer) -> None:
    app.add_typer(mirror_app, name="mirror")
