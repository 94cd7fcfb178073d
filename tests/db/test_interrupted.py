"""Crawl runs left `running` on both databases: closed as failed, each with the `crawl` row that
has its source's next crawl walk every listing page; the caller's own run is left alone."""

from __future__ import annotations

from sqlalchemy import select

from db.engine import session_scope
from db.failed_pages import CRAWL, CRAWL_KEY
from db.interrupted import INTERRUPTED, close_interrupted
from db.models import CrawlRun, FailedPage
from db.store import finish_run, start_run


def test_running_runs_of_other_processes_are_closed_and_owed_a_walk(database: str) -> None:
    with session_scope(database, write=True) as session:
        killed = start_run(session, "run-killed", "rops-rzeszow", None, False)
        again = start_run(session, "run-killed-again", "rops-rzeszow", None, False)
        done = start_run(session, "run-done", "mcps", None, False)
        finish_run(session, done, status="ok")
        other = start_run(session, "run-elsewhere", "mcps", None, False)  # not ours to close: not locked
        ours = start_run(session, "run-now", "rops-rzeszow", None, False)
    with session_scope(database, write=True) as session:
        closed = close_interrupted(session, ["rops-rzeszow"], keep={ours})
        assert [run.id for run in closed] == [killed, again]
    with session_scope(database) as session:
        status = dict(session.execute(select(CrawlRun.id, CrawlRun.status)).all())
        errors = session.scalars(select(CrawlRun.errors).where(CrawlRun.id == killed)).one()
        [owed] = session.scalars(select(FailedPage)).all()
    assert status == {killed: "failed", again: "failed", done: "ok", other: "running", ours: "running"}
    assert errors == [f"{INTERRUPTED}; the next crawl walks every listing page for what it fetched"]
    assert (owed.source_id, owed.url, owed.url_key, owed.kind) == (
        "rops-rzeszow", "https://www.rops.rzeszow.pl/", CRAWL_KEY, CRAWL
    )  # fmt: skip
    assert owed.attempts == 2, "two crawls lost pages"
    assert owed.reason.startswith(f"crawl run {again} (run run-killed-again, started ") and INTERRUPTED in owed.reason
