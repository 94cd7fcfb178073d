"""The mirror is a real HTTP server: files, routes (query, status, headers, redirects), layering."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from scrapers.mirror.server import SNAPSHOT_DIR, BackgroundMirror
from scrapers.wp_rest import api_query


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def test_serves_files_under_real_paths(mirror: BackgroundMirror) -> None:
    status, headers, body = fetch(f"{mirror.url}/mcps.com.pl/aktualnosci/")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=UTF-8"
    assert "Kategoria: <span>Aktualności</span>" in body.decode()


def test_routes_match_query_in_any_order_with_headers(mirror: BackgroundMirror) -> None:
    shuffled = "&".join(reversed(api_query(5, 1).split("&")))  # _embed=…&page=1&per_page=5
    status, headers, body = fetch(f"{mirror.url}/mcps.com.pl/wp-json/wp/v2/posts?{shuffled}")
    assert status == 200
    assert headers["X-WP-TotalPages"] == "2"
    posts = json.loads(body)
    assert len(posts) == 5 and all(p["link"].startswith("https://mcps.com.pl/") for p in posts)


def test_past_the_last_api_page_is_a_wordpress_400(mirror: BackgroundMirror) -> None:
    status, _, body = fetch(f"{mirror.url}/mcps.com.pl/wp-json/wp/v2/posts?{api_query(5, 3)}")
    assert status == 400
    assert json.loads(body)["code"] == "rest_post_invalid_page_number"


def test_unknown_paths_and_traversal_are_404(mirror: BackgroundMirror) -> None:
    assert fetch(f"{mirror.url}/mcps.com.pl/nie-ma-takiej-strony/")[0] == 404
    assert fetch(f"{mirror.url}/mcps.com.pl/..%2F..%2Fsources.toml")[0] == 404
    assert fetch(f"{mirror.url}/mcps.com.pl/routes.toml")[0] == 404


def test_layered_roots_redirects_and_statuses(tmp_path: Path) -> None:
    site = tmp_path / "mcps.com.pl"
    site.mkdir()
    (site / "routes.toml").write_text(
        '[[route]]\npath = "/stara/"\nstatus = 301\nlocation = "https://mcps.com.pl/aktualnosci/"\n'
        '[[route]]\npath = "/aktualnosci/"\nstatus = 500\nbody = "Internal Server Error"\n',
        encoding="utf-8",
    )
    with BackgroundMirror([tmp_path, SNAPSHOT_DIR]) as layered:
        status, headers, _ = fetch(f"{layered.url}/mcps.com.pl/stara/")
        assert (status, headers["Location"]) == (301, "https://mcps.com.pl/aktualnosci/")
        assert fetch(f"{layered.url}/mcps.com.pl/aktualnosci/")[0] == 500, "the upper root wins"
        assert fetch(f"{layered.url}/mcps.com.pl/robots.txt")[0] == 200, "the lower root still answers"


@pytest.mark.parametrize("path", ["/", ""])
def test_index_lists_the_sites(mirror: BackgroundMirror, path: str) -> None:
    status, _, body = fetch(f"{mirror.url}{path}")
    assert status == 200 and b"mcps.com.pl" in body


def test_one_connection_serves_several_requests(mirror: BackgroundMirror) -> None:
    """Keep-alive, as the real sites' servers: a crawler does not open a connection per page."""
    import http.client
    from urllib.parse import urlsplit

    address = urlsplit(mirror.url)
    connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=5)
    try:
        connection.request("GET", "/mcps.com.pl/aktualnosci/")
        first = connection.getresponse()
        assert (first.status, first.version) == (200, 11) and "Aktualności" in first.read().decode()
        socket_used = connection.sock
        connection.request("GET", "/mcps.com.pl/no-such-page/")
        second = connection.getresponse()
        second.read()
        assert second.status == 404 and connection.sock is socket_used, "the second request reused the connection"
    finally:
        connection.close()


def test_a_route_with_times_answers_only_its_first_requests(tmp_path: Path) -> None:
    """A page that answers 429 once, then itself (the bundled copy under it); the server records
    each request it was asked."""
    site = tmp_path / "mcps.com.pl"
    site.mkdir()
    (site / "routes.toml").write_text(
        '[[route]]\npath = "/aktualnosci/"\nstatus = 429\ntimes = 1\nheaders = { "Retry-After" = "1" }\nbody = "x"\n',
        encoding="utf-8",
    )
    with BackgroundMirror([tmp_path, SNAPSHOT_DIR]) as server:
        first = fetch(f"{server.url}/mcps.com.pl/aktualnosci/")
        second = fetch(f"{server.url}/mcps.com.pl/aktualnosci/")
    assert (first[0], first[1]["Retry-After"]) == (429, "1")
    assert second[0] == 200 and b"<html" in second[2].lower()
    assert [path for _, path in server.snapshot.requests] == ["/mcps.com.pl/aktualnosci/"] * 2


def test_a_client_that_hangs_up_before_its_answer_leaves_no_traceback(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """A crawl stopped while the mirror held a page back hangs up: socketserver printed a traceback
    (ConnectionResetError) on stderr, in the middle of the test run's output."""
    import socket
    import struct
    import time

    from tests.scrapers.overlays import rzeszow_listing_delayed

    rzeszow_listing_delayed("strona=2", 0.5)(tmp_path)
    with BackgroundMirror([tmp_path, SNAPSHOT_DIR]) as mirror:
        host, port = mirror.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as client:
            client.sendall(b"GET /www.rops.rzeszow.pl/aktualnosci?strona=2 HTTP/1.1\r\nHost: x\r\n\r\n")
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # hang up: RST
        time.sleep(1.0)  # the held-back answer is written to a closed connection
        assert fetch(f"{mirror.url}/www.rops.rzeszow.pl/aktualnosci")[0] == 200, "the mirror serves on"
    assert "Traceback" not in capfd.readouterr().err
