"""Precise errors end to end: `ropsfeed crawl` in its own process against mirror variants over
real HTTP. A connection cut mid-page says how much of the page came."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from db.engine import session_scope
from db.models import CrawlRun
from scrapers.mirror.server import SNAPSHOT_DIR, BackgroundMirror, MirrorRequestHandler
from tests.conftest import run_cli

pytestmark = pytest.mark.network


def last_run(db: str) -> CrawlRun:
    with session_scope(db) as session:
        return session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(1)).one()


class CutShort(MirrorRequestHandler):
    """The mirror, except that the REST API's answers stop half-way and the connection closes."""

    def _serve(self, *, with_body: bool) -> None:
        if "/wp-json/" not in self.path:
            super()._serve(with_body=with_body)
            return
        body = self.snapshot.resolve(self.path).body
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[:1000])
        self.wfile.flush()
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def cut_short_mirror() -> Iterator[BackgroundMirror]:
    mirror = BackgroundMirror([SNAPSHOT_DIR])
    snapshot = mirror.server.RequestHandlerClass.snapshot
    mirror.server.RequestHandlerClass = type("BoundCutShort", (CutShort,), {"snapshot": snapshot})
    with mirror:
        yield mirror


def test_a_connection_closed_mid_page_says_how_much_of_it_came(
    sqlite_url: str, cut_short_mirror: BackgroundMirror
) -> None:
    result = run_cli("crawl", "mcps", "--mirror", cut_short_mirror.url, "--db", sqlite_url)
    assert result.returncode == 1, result.stdout + result.stderr
    [error] = last_run(sqlite_url).errors
    assert error.startswith("GET https://mcps.com.pl/wp-json/wp/v2/posts?")
    size = len((SNAPSHOT_DIR / "mcps.com.pl/wp-json/wp/v2/posts-page-1.json").read_bytes())
    assert error.endswith(f": the connection closed before the whole page arrived (got 1000 of {size} bytes)")
