"""Reading `Retry-After` and saying the wait (scrapers/politeness.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from scrapy.http import Request, Response

from scrapers.politeness import RETRY_AFTER_NOTE, describe_wait, parse_retry_after
from scrapers.spiders.failures import http_status

NOW = datetime(2026, 12, 7, 9, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (b"120", 120.0),
        (" 7 ", 7.0),
        (b"0", 0.0),
        (b"Mon, 07 Dec 2026 09:00:30 GMT", 30.0),  # IMF-fixdate (RFC 9110 §5.6.7)
        (b"Monday, 07-Dec-26 09:02:00 GMT", 120.0),  # the obsolete RFC 850 form
        (b"Mon Dec  7 10:00:00 2026", 3600.0),  # asctime: no zone, GMT by definition
        (b"Mon, 07 Dec 2026 08:00:00 GMT", 0.0),  # already past: ask again now
        (b"", None),
        (None, None),
        (b"-5", None),
        (b"1.5", None),  # delay-seconds is a whole number
        (b"soon", None),
        (b"Mon, 32 Dec 2026 09:00:00 GMT", None),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(value: bytes | str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == seconds


@pytest.mark.parametrize(
    ("seconds", "said"),
    [(0.2, "0.2 s"), (1, "1 s"), (45, "45 s"), (119.4, "119 s"), (120, "2 min"), (3600, "1 h"), (5400, "1 h 30 min")],
)
def test_a_wait_is_said_in_its_unit(seconds: float, said: str) -> None:
    assert describe_wait(seconds) == said


def test_a_page_not_retried_names_the_status_and_the_wait() -> None:
    """The failure reason (`failed_pages.reason`, the run's error) of a page whose asked wait was
    beyond the cap is the middleware's note; another 503 keeps its plain reason."""
    request = Request("https://www.rops.rzeszow.pl/a-610-x")
    note = "the site asks to wait 1 h (Retry-After: 3600), longer than the 2 min a crawl waits"
    request.meta[RETRY_AFTER_NOTE] = note
    response = Response(request.url, status=503, headers={"Retry-After": "3600"}, request=request)
    assert http_status(response) == f"HTTP 503: {note}"
    plain = Response(request.url, status=503, headers={"Retry-After": "3600"}, request=Request(request.url))
    assert http_status(plain) == "HTTP 503 (Retry-After: 3600)"
