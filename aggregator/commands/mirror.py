"""`ropsfeed mirror serve`: the bundled offline mirror as a real HTTP server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from aggregator.notices import say_error

mirror_app = typer.Typer(help="The offline mirror of the sites.", no_args_is_help=True)


@mirror_app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0 picks a free one).")] = 8700,
    root: Annotated[
        list[Path] | None, typer.Option(help="Snapshot root(s), first match wins (default: bundled).")
    ] = None,
    db: Annotated[
        str | None, typer.Option("--db", help="Accepted like on every command; the mirror needs no database.")
    ] = None,
) -> None:
    """Serve copies of the sites at http://HOST:PORT/<site host>/<path>."""
    del db  # DESIGN.md §8: every command accepts --db; serving files needs none
    # A root that is no folder served nothing but 404s, and a crawl of it failed every source as
    # if the sites were down; a port in use was a traceback. Both are one line and exit 2.
    # imported here: http.server and the rest cost every other command's start ~30 ms
    from scrapers.mirror.server import SNAPSHOT_DIR, make_server

    missing = [str(path) for path in root or () if not path.is_dir()]
    if missing:
        say_error(f"--root is not a folder: {', '.join(missing)}")
        raise typer.Exit(2)
    try:
        server = make_server(host, port, root or [SNAPSHOT_DIR])
    except OSError as exc:
        say_error(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
        raise typer.Exit(2) from exc
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
