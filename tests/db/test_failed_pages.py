"""The failed pages table on both databases: a failure again counts one more attempt and keeps
its first time; a stored page leaves it; the give-up rule needs both the count and the age."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from db.engine import session_scope
from db.failed_pages import (
    GIVE_UP_AFTER,
    GIVE_UP_ATTEMPTS,
    UNSTORABLE,
    PageFailure,
    exhausted,
    failed_pages,
    forget,
    record_failures,
    unstorable_key,
)
from db.models import FailedPage

URL = "https://www.rops.rzeszow.pl/a-610-podpisanie-umowy-z-caritas-archidiecezji-przemyskiej"
KEY = "rops.rzeszow.pl/a-610-podpisanie-umowy-z-caritas-archidiecezji-przemyskiej"


def test_failures_count_up_and_a_stored_page_leaves(database: str) -> None:
    first = datetime(2026, 12, 1, 3, 15, tzinfo=UTC)
    published = datetime(2019, 5, 6, 10, tzinfo=UTC)
    with session_scope(database, write=True) as session:
        record_failures(session, "rops-rzeszow", [PageFailure(URL, KEY, "article", "HTTP 500", published, ("ES",))],
                        first)  # fmt: skip
    with session_scope(database, write=True) as session:
        again = PageFailure(URL, KEY, "article", "timed out after 30 s", published, ("ES",))
        record_failures(session, "rops-rzeszow", [again, again], first + timedelta(days=1))
    with session_scope(database) as session:
        [row] = failed_pages(session, "rops-rzeszow")
        assert (row.url, row.kind, row.reason, row.attempts) == (URL, "article", "timed out after 30 s", 2)
        assert (row.first_failed_at, row.last_failed_at) == (first, first + timedelta(days=1))
        assert (row.feed_published, row.feed_categories) == (published, ["ES"])
        assert not exhausted(row, first + GIVE_UP_AFTER), "two attempts are not enough to give up"
        row.attempts = GIVE_UP_ATTEMPTS
        assert not exhausted(row, first + timedelta(days=2)), "nor ten in two days"
        assert exhausted(row, first + GIVE_UP_AFTER)
    with session_scope(database, write=True) as session:
        assert forget(session, "mcps", [KEY]) == 0, "another source's page"
        assert forget(session, "rops-rzeszow", [KEY]) == 1
    with session_scope(database) as session:
        assert session.scalars(select(FailedPage)).all() == []


def test_a_page_whose_url_the_table_cannot_hold_is_not_remembered(database: str) -> None:
    """On PostgreSQL its row failed the transaction that records the crawl's outcome (the run then
    stayed `running`, and was taken for an interrupted one); a cut URL would ask for another page."""
    long_url = URL + "?" + "x" * 2000
    with session_scope(database, write=True) as session:
        record_failures(session, "rops-rzeszow", [PageFailure(long_url, KEY + "x" * 2000, "article", "HTTP 500"),
                                                  PageFailure(URL, KEY, "article", "HTTP 500\x00")],
                        datetime.now(UTC))  # fmt: skip
    with session_scope(database) as session:
        assert [(row.url, row.reason) for row in failed_pages(session, "rops-rzeszow")] == [(URL, "HTTP 500")]


def test_a_page_too_long_to_store_is_remembered_under_a_bounded_key_and_never_given_up(database: str) -> None:
    """Its URL's start and a digest of its key fit the row (an 8,000-character key, as a CMS with
    a long slug or state parameter makes, is one unique index entry PostgreSQL refuses); given up,
    it would be new to the next crawl, and an error again."""
    long_url, long_key = URL + "-" + "x" * 8000, KEY + "-" + "x" * 8000
    key = unstorable_key(long_key)
    assert key == unstorable_key(long_key) != unstorable_key(long_key + "y") and len(key) < 100
    first = datetime(2026, 12, 1, 3, 15, tzinfo=UTC)
    with session_scope(database, write=True) as session:
        record_failures(session, "rops-rzeszow", [PageFailure(long_url[:300] + "…", key, UNSTORABLE, "too long")],
                        first)  # fmt: skip
        session.execute(FailedPage.__table__.update().values(attempts=GIVE_UP_ATTEMPTS * 3))
    with session_scope(database) as session:
        [row] = failed_pages(session, "rops-rzeszow")
        assert (row.url_key, row.kind) == (key, "unstorable")
        assert not exhausted(row, first + GIVE_UP_AFTER * 10)


def test_a_failed_page_keeps_the_link_text_that_led_to_it(database: str) -> None:
    """What titles a page that states no title of its own (scrapers/spiders/retries.py asks for it
    again with it). A failure that knows none (a database refusal of a page nothing led to) does
    not forget the one an earlier failure knew; one that knows another text takes it."""
    title = "Podpisanie umowy z Caritas Archidiecezji Przemyskiej"
    first = datetime(2026, 12, 1, 3, 15, tzinfo=UTC)

    def record(link_text: str | None, day: int) -> str | None:
        with session_scope(database, write=True) as session:
            failure = PageFailure(URL, KEY, "article", "HTTP 500", link_text=link_text)
            record_failures(session, "rops-rzeszow", [failure], first + timedelta(days=day))
        with session_scope(database) as session:
            [row] = failed_pages(session, "rops-rzeszow")
            return row.link_text

    assert record(f"{title}\x00", 0) == title, "no NUL: PostgreSQL's text cannot hold one"
    assert record(None, 1) == title
    assert record("Umowa z Caritas", 2) == "Umowa z Caritas"
