"""The offline mirror: a real HTTP server holding copies of the sites under their real paths.

Layout of a snapshot root: `<root>/<host>/<path>`; a path ending in `/` serves `index.html` (or
`index.xml`/`index.json`) of that folder. Anything a plain file cannot express — query strings
(`?page=2`), status codes, headers, encodings, redirects, a hanging endpoint — is declared in
`<root>/<host>/routes.toml`. Several roots may be layered: the first that knows a URL answers,
which lets tests put a broken variant of a site over the bundled one.
"""

from __future__ import annotations

import contextlib
import logging
import mimetypes
import sys
import threading
import time
import tomllib
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

log = logging.getLogger(__name__)

SNAPSHOT_DIR = Path(__file__).with_name("snapshot")
INDEX_FILES = ("index.html", "index.xml", "index.json", "index.txt")
CONTENT_TYPES = {
    ".html": "text/html; charset=UTF-8",
    ".json": "application/json; charset=UTF-8",
    ".xml": "application/xml; charset=UTF-8",
    ".rss": "application/rss+xml; charset=UTF-8",
    ".txt": "text/plain; charset=UTF-8",
}


def normalise_query(query: str) -> str:
    """Query strings match regardless of parameter order."""
    return urlencode(sorted(parse_qsl(query, keep_blank_values=True)))


@dataclass(frozen=True)
class Route:
    path: str
    query: str | None = None
    file: str | None = None
    status: int = 200
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    location: str | None = None
    delay: float = 0.0
    body: str | None = None
    # answers so only its first `times` requests, then the next route or file does (a page that
    # answers 429 once, then itself); None: always
    times: int | None = None

    def matches(self, path: str, query: str) -> bool:
        if unquote(self.path) != unquote(path):
            return False
        return self.query is None or normalise_query(self.query) == normalise_query(query)


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]
    delay: float = 0.0


class Snapshot:
    """Resolves `/HOST/PATH?QUERY` against layered snapshot roots."""

    def __init__(self, roots: Sequence[Path]) -> None:
        self.roots = [Path(r) for r in roots]
        self._routes: dict[tuple[Path, str], list[Route]] = {}
        self._lock = threading.Lock()
        self._answered: dict[int, int] = {}  # id of a route with `times` → requests it answered
        # (time.monotonic(), "/host/path?query") of the requests, the latest 100,000 (a mirror
        # serving for days keeps no more): what tests check a crawl's pacing with
        self.requests: deque[tuple[float, str]] = deque(maxlen=100_000)

    def routes(self, root: Path, host: str) -> list[Route]:
        key = (root, host)
        with self._lock:
            if key not in self._routes:
                routes_file = root / host / "routes.toml"
                routes: list[Route] = []
                if routes_file.is_file():
                    with routes_file.open("rb") as handle:
                        routes = [Route(**r) for r in tomllib.load(handle).get("route", [])]
                    routes.sort(key=lambda r: r.query is None)  # the specific (with a query) first
                self._routes[key] = routes
            return self._routes[key]

    def resolve(self, raw_path: str) -> Answer:
        parts = urlsplit(raw_path)
        host, _, rest = parts.path.lstrip("/").partition("/")
        path = "/" + rest
        if not host:
            return self._index()
        with self._lock:
            self.requests.append((time.monotonic(), raw_path))
        for root in self.roots:
            for route in self.routes(root, host):
                if route.matches(path, parts.query) and self._still_answers(route):
                    return self._answer_route(root, host, route)
            found = self._file(root, host, path)
            if found is not None:
                return self._answer_file(found)
        return Answer(404, b"<html><body><h1>404 Not Found</h1></body></html>",
                      {"Content-Type": "text/html; charset=UTF-8"})  # fmt: skip

    def _still_answers(self, route: Route) -> bool:
        """Whether `route` answers this request (counted): always, or for its first `times`."""
        if route.times is None:
            return True
        with self._lock:
            answered = self._answered.get(id(route), 0)
            if answered >= route.times:
                return False
            self._answered[id(route)] = answered + 1
            return True

    def hosts(self) -> list[str]:
        return sorted({p.name for root in self.roots if root.is_dir() for p in root.iterdir() if p.is_dir()})

    def _index(self) -> Answer:
        items = "".join(f'<li><a href="/{h}/">{h}</a></li>' for h in self.hosts())
        body = f"<html><body><h1>ropsfeed offline mirror</h1><ul>{items}</ul></body></html>"
        return Answer(200, body.encode(), {"Content-Type": "text/html; charset=UTF-8"})

    @staticmethod
    def _file(root: Path, host: str, path: str) -> Path | None:
        base = (root / host).resolve()
        candidate = (base / unquote(path).lstrip("/")).resolve()
        if not candidate.is_relative_to(base):
            return None
        if candidate.is_dir():
            for name in INDEX_FILES:
                if (candidate / name).is_file():
                    return candidate / name
            return None
        if candidate.is_file() and candidate.name != "routes.toml":
            return candidate
        return None

    @staticmethod
    def _content_type(path: Path) -> str:
        return CONTENT_TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"

    def _answer_file(self, path: Path) -> Answer:
        return Answer(200, path.read_bytes(), {"Content-Type": self._content_type(path)})

    def _answer_route(self, root: Path, host: str, route: Route) -> Answer:
        headers = dict(route.headers)
        body = b""
        if route.file:
            file_path = root / host / route.file
            body = file_path.read_bytes()
            headers.setdefault("Content-Type", route.content_type or self._content_type(file_path))
        elif route.body is not None:
            body = route.body.encode()
            headers.setdefault("Content-Type", route.content_type or "text/html; charset=UTF-8")
        if route.content_type:
            headers["Content-Type"] = route.content_type
        if route.location:
            headers["Location"] = route.location
        return Answer(route.status, body, headers, route.delay)


class MirrorRequestHandler(BaseHTTPRequestHandler):
    server_version = "ropsfeed-mirror/1"
    # Keep-alive, as the real sites' servers do: a crawler reuses its connections instead of
    # opening one per page (every answer has a Content-Length, so the next request can follow).
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms wait for an ACK
    timeout = 60  # an idle kept-alive connection is closed (its thread ends) after a minute
    snapshot: Snapshot  # set on the subclass made by make_server

    def do_GET(self) -> None:
        self._serve(with_body=True)

    def do_HEAD(self) -> None:
        self._serve(with_body=False)

    def _serve(self, *, with_body: bool) -> None:
        answer = self.snapshot.resolve(self.path)
        if answer.delay:
            time.sleep(answer.delay)
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        if with_body:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up
                self.wfile.write(answer.body)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("mirror: " + format, *args)


class MirrorServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: object, client_address: tuple[str, int]) -> None:
        """A client that hung up before its answer was written (a crawl stopped while the mirror
        held a page back) is said in one debug line; socketserver printed a traceback on stderr,
        in the middle of the test run's output. Anything else is printed as before."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionResetError, BrokenPipeError)):
            log.debug("mirror: %s:%s hung up before its answer was written (%s)", *client_address[:2], error)
            return
        super().handle_error(request, client_address)

    @cached_property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


def make_server(host: str = "127.0.0.1", port: int = 0, roots: Sequence[Path] | None = None) -> MirrorServer:
    """A mirror server bound to (host, port); port 0 picks a free port (see `.url`)."""
    snapshot = Snapshot(roots or [SNAPSHOT_DIR])
    handler = type("BoundMirrorRequestHandler", (MirrorRequestHandler,), {"snapshot": snapshot})
    return MirrorServer((host, port), handler)


class BackgroundMirror:
    """The mirror in a daemon thread, as a context manager (demo, tests)."""

    def __init__(self, roots: Sequence[Path] | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.server = make_server(host, port, roots)
        self.thread = threading.Thread(target=self.server.serve_forever, name="mirror", daemon=True)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def snapshot(self) -> Snapshot:
        """What the server answers from, and the requests it was asked."""
        return self.server.RequestHandlerClass.snapshot  # type: ignore[attr-defined]

    def __enter__(self) -> BackgroundMirror:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
