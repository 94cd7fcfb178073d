"""A failed request's reason as the operator reads it (errors, `failed_pages.reason`, the alert mail).

Scrapy's and Twisted's own messages name their classes and repeat the request — in mirror mode the
mirror's URL, never the real one — or say nothing at all: `download failed: [<twisted.python.failure.
Failure twisted.internet.error.ConnectionDone: Connection was closed cleanly.>]`, `error: Error -3
while decompressing data`, `DownloadCancelledError: Expected to receive 61504442 bytes which is
larger than download max size (52428800) in request <GET http://127.0.0.1:8700/…>`.
"""

from __future__ import annotations

import re
import zlib

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import (
    ConnectionDone,
    ConnectionLost,
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

from scrapers.politeness import retry_after_note

# Scrapy's get_maxsize_msg: "Expected to receive N bytes …" (announced) or "Received N bytes …"
_TOO_BIG = re.compile(r"(Expected to receive|Received) (\d+) bytes which is larger than download max size \((\d+)\)")


def describe_failure(failure: Failure, timeout: float) -> str:
    """A precise, human reason for a failed request."""
    if failure.check(HttpError):
        return http_status(failure.value.response)
    if failure.check(DNSLookupError, CannotResolveHostError):
        return "DNS lookup failed (no network or unknown host)"
    if failure.check(TimeoutError, TCPTimedOutError, DownloadTimeoutError):
        return f"timed out after {timeout:g} s"
    if failure.check(ConnectionRefusedError, DownloadConnectionRefusedError):
        return "connection refused"
    if failure.check(DownloadFailedError):
        return f"download failed: {connection_broken(failure.value)}"
    if failure.check(ResponseDataLossError):  # Scrapy's own has no message; scrapers.downloader adds the sizes
        return failure.getErrorMessage() or "the connection closed before the whole page arrived"
    if failure.check(DownloadCancelledError) and (found := _TOO_BIG.search(failure.getErrorMessage())):
        said, size, limit = found.group(1) == "Expected to receive", int(found.group(2)), int(found.group(3))
        return f"the page is larger than the {limit / 2**20:g} MB download limit ({size:,} bytes{' announced' * said})"
    if failure.check(zlib.error):
        return f"its compressed body (Content-Encoding) does not decompress: {failure.getErrorMessage()}"
    return f"{failure.type.__name__}: {failure.getErrorMessage()}"


def http_status(response: object) -> str:
    """`HTTP 500`; with what a 429 means, and the wait a 429 or 503 asks for (`Retry-After`)."""
    status = getattr(response, "status", 0)
    headers = getattr(response, "headers", {}) or {}
    text = f"HTTP {status}"
    if status == 429:
        text += " (too many requests: the site limits the crawl's rate)"
    wait = headers.get(b"Retry-After") if hasattr(headers, "get") else None
    if note := retry_after_note(response):  # not retried: the wait asked for is too long (it names it)
        return f"{text}: {note}"
    if wait:
        text += f" (Retry-After: {wait.decode('latin-1').strip()})"
    return text


def connection_broken(error: BaseException) -> str:
    """What Twisted's ResponseFailed behind a DownloadFailedError says, in words."""
    cause = error.__cause__
    reasons = getattr(cause, "reasons", None) or []
    closed = any(isinstance(r, Failure) and r.check(ConnectionDone, ConnectionLost) for r in reasons)
    if closed and isinstance(cause, ResponseNeverReceived):
        return "the server closed the connection without answering"
    if closed and isinstance(cause, ResponseFailed):
        return "the server closed the connection in the middle of its answer"
    messages = [r.getErrorMessage() for r in reasons if isinstance(r, Failure)]
    return "; ".join(messages) or str(error) or type(error).__name__
