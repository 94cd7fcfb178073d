"""Run locks: one holder at a time, expiry and dead holders, renewal while a run lives."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from db.engine import session_scope
from db.locks import RunLocks, current_locks, held_keys
from db.migrate import ensure_schema
from db.models import RunLock


def test_one_holder_then_release(db_url: str) -> None:
    ensure_schema(db_url)
    first, second = RunLocks(db_url, "run-a", ttl=60), RunLocks(db_url, "run-b", ttl=60)
    assert first.acquire(["mcps", "mazovia"]) == (["mcps", "mazovia"], {})
    acquired, held = second.acquire(["mcps", "rops-poznan"])
    assert acquired == ["rops-poznan"]
    assert held["mcps"].owner == "run-a" and "run run-a" in held["mcps"].describe()
    first.release(["mcps"])
    assert second.acquire(["mcps"])[0] == ["mcps"]
    assert {lock.key: lock.owner for lock in current_locks(db_url)} == {
        "mazovia": "run-a", "mcps": "run-b", "rops-poznan": "run-b"
    }  # fmt: skip


def test_expired_lock_and_dead_holder_are_taken_over(sqlite_url: str) -> None:
    ensure_schema(sqlite_url)
    stale = RunLocks(sqlite_url, "killed-run", ttl=60)
    assert stale.acquire(["mcps"])[0] == ["mcps"]
    fresh = RunLocks(sqlite_url, "next-run", ttl=60)
    assert fresh.acquire(["mcps"])[0] == []
    # its lifetime over (set, not slept through: on a busy machine 0.2 s passed between two calls)
    with session_scope(sqlite_url, write=True) as session:
        session.execute(
            update(RunLock).where(RunLock.key == "mcps").values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert fresh.acquire(["mcps"])[0] == ["mcps"], "an expired lock blocks nobody"

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    with session_scope(sqlite_url, write=True) as session:  # held "until next hour" by a finished process here
        session.execute(update(RunLock).where(RunLock.key == "mcps").values(owner="crashed", pid=int(gone.stdout)))
    assert fresh.acquire(["mcps"])[0] == ["mcps"], "a holder on this host whose process is gone blocks nobody"


def test_keep_alive_renews_then_releases(sqlite_url: str) -> None:
    ensure_schema(sqlite_url)
    locks = RunLocks(sqlite_url, "long-run", ttl=0.3)
    locks.acquire(["mcps"])
    with locks.keep_alive():
        time.sleep(0.6)  # twice the lifetime: only renewal keeps it
        assert RunLocks(sqlite_url, "other", ttl=60).acquire(["mcps"])[0] == []
    with session_scope(sqlite_url) as session:
        assert session.scalars(select(RunLock)).all() == [], "released at the end"


def test_reparse_leaves_a_source_being_crawled_alone(db_url: str) -> None:
    from aggregator.reparse import reparse

    ensure_schema(db_url)
    crawl = RunLocks(db_url, "nightly-run", ttl=60)
    crawl.acquire(["mcps"])
    reports = {r.source_id: r for r in reparse(db_url, ["mcps", "mazovia"])}
    assert reports["mcps"].problems == [f"skipped: being crawled by {current_locks(db_url)[0].describe()}"]
    assert reports["mazovia"].problems == []
    assert [lock.owner for lock in current_locks(db_url)] == ["nightly-run"], "reparse released its own locks"


def test_held_keys_leave_out_expired_locks_and_holders_gone_from_this_host(sqlite_url: str) -> None:
    """What `status` counts as a source being crawled: a killed crawl's lock lives on for minutes,
    but nobody crawls under it."""
    ensure_schema(sqlite_url)
    RunLocks(sqlite_url, "live-run", ttl=60).acquire(["mcps", "mazovia", "rops-poznan"])
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    with session_scope(sqlite_url, write=True) as session:
        session.execute(update(RunLock).where(RunLock.key == "mazovia").values(pid=int(gone.stdout)))
        session.execute(
            update(RunLock).where(RunLock.key == "rops-poznan").values(expires_at=datetime.now(UTC) - timedelta(1))
        )
    with session_scope(sqlite_url) as session:
        assert held_keys(session) == {"mcps"}
