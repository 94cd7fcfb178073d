"""The reasons of failed requests, from the exceptions Scrapy and Twisted raise for them."""

from __future__ import annotations

import zlib

import pytest
from scrapy import Request
from scrapy.exceptions import DownloadCancelledError, DownloadFailedError
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils._download_handlers import get_maxsize_msg
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

from scrapers.spiders.failures import describe_failure

MIRRORED = Request("http://127.0.0.1:8700/www.rops.rzeszow.pl/a-1633-x")


def failed(error: BaseException) -> Failure:
    try:
        raise error
    except BaseException:
        return Failure()


def broken_connection(cause: ResponseFailed) -> Failure:
    try:
        try:
            raise cause
        except ResponseFailed as exc:
            raise DownloadFailedError(str(exc)) from exc
    except DownloadFailedError:
        return Failure()


@pytest.mark.parametrize(
    ("status", "headers", "reason"),
    [
        (500, {}, "HTTP 500"),
        (
            429,
            {"Retry-After": "120"},
            "HTTP 429 (too many requests: the site limits the crawl's rate) (Retry-After: 120)",
        ),
        (503, {"Retry-After": "3600"}, "HTTP 503 (Retry-After: 3600)"),
    ],
)
def test_an_http_error_says_its_status_and_the_wait_asked_for(status: int, headers: dict, reason: str) -> None:
    response = Response("https://www.rops.rzeszow.pl/aktualnosci", status=status, headers=headers)
    assert describe_failure(failed(HttpError(response, "Ignoring non-200 response")), 30) == reason


def test_a_page_over_the_size_limit_says_so_without_the_mirrors_url() -> None:
    announced = DownloadCancelledError(get_maxsize_msg(61504442, 52428800, MIRRORED, expected=True))
    assert describe_failure(failed(announced), 30) == (
        "the page is larger than the 50 MB download limit (61,504,442 bytes announced)"
    )
    received = DownloadCancelledError(get_maxsize_msg(52430000, 52428800, MIRRORED, expected=False))
    assert "127.0.0.1" not in describe_failure(failed(received), 30)


def test_a_broken_compressed_body_and_a_closed_connection_are_named() -> None:
    try:
        zlib.decompress(b"\x78\x9c garbage")
    except zlib.error:
        reason = describe_failure(Failure(), 30)
    assert reason.startswith("its compressed body (Content-Encoding) does not decompress: Error -3")
    never = broken_connection(ResponseNeverReceived([Failure(ConnectionDone())]))
    assert describe_failure(never, 30) == "download failed: the server closed the connection without answering"
    midway = broken_connection(ResponseFailed([Failure(ConnectionLost())]))
    assert describe_failure(midway, 30) == (
        "download failed: the server closed the connection in the middle of its answer"
    )
