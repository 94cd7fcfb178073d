"""gzip of pages and feeds (aggregator/web/compression.py), through the real app."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from aggregator.web.app import create_app

GZIP = {"Accept-Encoding": "gzip"}
IDENTITY = {"Accept-Encoding": "identity"}


@pytest.fixture(scope="module")
def client(web_database: str) -> Iterator[TestClient]:
    with TestClient(create_app(web_database)) as test_client:
        yield test_client


@pytest.mark.parametrize("path", ["/", "/?page=2", "/story/story-nabor", "/feed.atom", "/feed.rss", "/feed.json"])
def test_pages_and_feeds_are_gzipped_for_a_client_that_takes_it(client: TestClient, path: str) -> None:
    """They were always sent whole (a 50-story feed ~130 kB, the front page ~27 kB)."""
    plain = client.get(path, headers=IDENTITY)
    packed = client.stream("GET", path, headers=GZIP)
    with packed as response:
        raw = b"".join(response.iter_raw())
        headers = response.headers
    assert plain.status_code == 200 and "content-encoding" not in plain.headers
    assert headers["content-encoding"] == "gzip" and "Accept-Encoding" in headers["vary"]
    assert int(headers["content-length"]) == len(raw) < len(plain.content)
    body = gzip.decompress(raw)
    if path.startswith("/feed.rss"):  # lastBuildDate is the time of rendering
        assert body.split(b"<lastBuildDate>")[0] == plain.content.split(b"<lastBuildDate>")[0]
    else:
        assert body == plain.content
    assert "content-security-policy" in headers, "the security headers stay"


def test_a_compressed_feed_has_a_weak_tag_and_its_poll_is_a_304(client: TestClient) -> None:
    """Two representations (gzip, identity) may not share one strong tag (RFC 9110 §8.8.3): the
    compressed one's is weak, and a feed reader sending it back gets a bodiless 304 with the `Vary`
    of the 200."""
    plain = client.get("/feed.json?source=mcps", headers=IDENTITY)
    packed = client.get("/feed.json?source=mcps", headers=GZIP)
    strong = plain.headers["etag"]
    assert strong.startswith('"') and packed.headers["etag"] == f"W/{strong}"
    again = client.get("/feed.json?source=mcps", headers={**GZIP, "If-None-Match": packed.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == packed.headers["etag"] and "Accept-Encoding" in again.headers["vary"]
    identity_poll = client.get("/feed.json?source=mcps", headers={**IDENTITY, "If-None-Match": strong})
    assert identity_poll.status_code == 304 and identity_poll.headers["etag"] == strong


def test_small_responses_and_heads_stay_sensible(client: TestClient) -> None:
    """A 304 is not compressed; a HEAD names the length of the GET it stands for."""
    head = client.head("/feed.atom", headers=GZIP)
    get = client.stream("GET", "/feed.atom", headers=GZIP)
    with get as response:
        length = len(b"".join(response.iter_raw()))
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-encoding"] == "gzip" and int(head.headers["content-length"]) == length


def test_a_client_that_refuses_gzip_gets_none(client: TestClient) -> None:
    """`gzip;q=0` says gzip is not acceptable (RFC 9110 §12.5.3); GZipMiddleware alone looks for
    "gzip" anywhere in the header and compressed anyway."""
    for header in ("gzip;q=0", "br, gzip; q=0.0", "identity"):
        with client.stream("GET", "/feed.atom", headers={"Accept-Encoding": header}) as response:
            raw = b"".join(response.iter_raw())
        assert "content-encoding" not in response.headers and raw.startswith(b"<?xml"), header
        assert not response.headers["etag"].startswith("W/"), header
    for header in ("gzip;q=0.5", "deflate, GZIP", "x-gzip"):
        assert client.get("/feed.atom", headers={"Accept-Encoding": header}).headers["content-encoding"] == "gzip"
