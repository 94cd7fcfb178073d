"""Per-source run locks in the database, so two `ropsfeed run` at once never crawl a source twice.

A row in run_locks says "run R on host H (pid P) is crawling source S until T". Taking a lock is one
`INSERT … ON CONFLICT DO NOTHING` (both dialects), so exactly one of two racing runs gets it; the
other skips the source. Locks expire, so a run killed with `kill -9` blocks nobody for longer than
the time-to-live, and a holder on this machine whose process is gone is replaced at once. A live
run renews its locks from a background thread while the crawl goes on (`keep_alive`).

Database locks (not PostgreSQL advisory locks) were chosen because they work the same on SQLite,
survive a coordinator that hands the actual crawl to Scrapyd on another machine, and can be read:
`ropsfeed status` and an operator's `SELECT * FROM run_locks` show who is crawling what.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from db.engine import database_reason, session_scope
from db.models import RunLock
from db.upsert import insert_for

log = logging.getLogger(__name__)

DEFAULT_TTL_SECONDS = 300.0  # renewed every third of it while the run lives
STORIES_KEY = "stories"  # story assignment reads and rewrites across sources: one run at a time


def lock_ttl() -> float:
    """Seconds a lock lives without renewal: `ROPSFEED_LOCK_TTL`, else five minutes. Anything but a
    positive number of seconds is refused: `-5` made every lock expire as it was taken, so a second
    run crawled the sources the first was crawling; `abc` said only "could not convert string to
    float" (aggregator/crawl.py checks it before a run)."""
    value = (os.environ.get("ROPSFEED_LOCK_TTL") or "").strip()
    if not value:
        return DEFAULT_TTL_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < 7 * 86400:
        raise ValueError(f"ROPSFEED_LOCK_TTL must be a number of seconds above 0, not {value!r}")
    return seconds


@dataclass(frozen=True)
class LockHolder:
    key: str
    owner: str
    host: str
    pid: int
    expires_at: datetime

    def describe(self) -> str:
        return f"run {self.owner} (host {self.host}, pid {self.pid}, lock valid until {self.expires_at:%H:%M:%S} UTC)"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


class RunLocks:
    """The locks one run holds; `owner` is the run id written to crawl_runs."""

    def __init__(self, database_url: str, owner: str, ttl: float | None = None) -> None:
        self.database_url = database_url
        self.owner = owner
        self.ttl = timedelta(seconds=ttl if ttl is not None else lock_ttl())
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.held: set[str] = set()
        self._guard = threading.Lock()

    # -- taking and giving back ----------------------------------------------------------------

    def acquire(self, keys: Iterable[str]) -> tuple[list[str], dict[str, LockHolder]]:
        """Try every key once; returns (keys now held, {key: who holds it} for the others)."""
        acquired: list[str] = []
        held_elsewhere: dict[str, LockHolder] = {}
        for key in keys:
            holder = self._try(key)
            if holder is None:
                acquired.append(key)
            else:
                held_elsewhere[key] = holder
        with self._guard:
            self.held.update(acquired)
        return acquired, held_elsewhere

    def _try(self, key: str) -> LockHolder | None:
        now = datetime.now(UTC)
        values = {"owner": self.owner, "host": self.host, "pid": self.pid, "acquired_at": now,
                  "expires_at": now + self.ttl}  # fmt: skip
        with session_scope(self.database_url, write=True) as session:
            statement = insert_for(session, RunLock.__table__).values(key=key, **values)
            if session.execute(statement.on_conflict_do_nothing(index_elements=["key"])).rowcount == 1:
                return None
            row = session.get(RunLock, key)
            if row is None:  # released between the two statements: try again next time
                return LockHolder(key, "?", "?", 0, now)
            holder = LockHolder(key, row.owner, row.host, row.pid, row.expires_at)
            dead = row.host == self.host and row.pid != self.pid and not _process_alive(row.pid)
            if row.owner != self.owner and row.expires_at > now and not dead:
                return holder
            # expired, or its process on this machine is gone: take it over, unless another run just did
            taken = session.execute(
                update(RunLock)
                .where(RunLock.key == key, RunLock.owner == row.owner, RunLock.expires_at == row.expires_at)
                .values(**values)
            ).rowcount
            if taken != 1:
                return holder
            if row.owner != self.owner:
                log.warning("lock on %s was held by %s, which %s; taking it over", key, holder.describe(),
                            "is no longer running" if dead else "expired")  # fmt: skip
            return None

    def wait_for(self, key: str, timeout: float, poll: float = 0.2) -> bool:
        """Block until `key` is ours or `timeout` seconds have passed (for short critical sections)."""
        deadline = time.monotonic() + timeout
        while True:
            acquired, _ = self.acquire([key])
            if acquired:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(poll)

    def release(self, keys: Iterable[str] | None = None) -> None:
        with self._guard:
            chosen = set(self.held if keys is None else keys) & self.held
            self.held -= chosen
        if not chosen:
            return
        with session_scope(self.database_url, write=True) as session:
            session.execute(delete(RunLock).where(RunLock.key.in_(chosen), RunLock.owner == self.owner))

    def renew(self) -> None:
        """Push the expiry of every lock still held forward; warns when one was taken meanwhile."""
        with self._guard:
            keys = set(self.held)
        if not keys:
            return
        with session_scope(self.database_url, write=True) as session:
            renewed = session.execute(
                update(RunLock)
                .where(RunLock.key.in_(keys), RunLock.owner == self.owner)
                .values(expires_at=datetime.now(UTC) + self.ttl)
            ).rowcount
        if renewed != len(keys):
            log.error("%d of %d run locks of %s were taken by another run (renewed too late)",
                      len(keys) - renewed, len(keys), self.owner)  # fmt: skip

    @contextmanager
    def keep_alive(self) -> Iterator[None]:
        """Renew the locks every third of their lifetime until the block ends, then release them."""
        stop = threading.Event()

        def loop() -> None:
            interval = max(self.ttl.total_seconds() / 3, 0.05)
            failing = False
            while not stop.wait(interval):
                try:
                    self.renew()
                    failing = False
                except Exception as exc:  # the database may be briefly away: try again next tick
                    if not failing:  # once per outage, not three times a lifetime
                        log.warning("could not renew run locks: %s", database_reason(exc))
                    failing = True

        thread = threading.Thread(target=loop, name="run-locks", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
            try:
                self.release()
            except Exception as exc:  # they expire by themselves; never hide the block's own error
                log.warning("could not release run locks (they expire by themselves): %s", database_reason(exc))


def current_locks(database_url: str) -> list[LockHolder]:
    """Locks that are live now (expired rows are leftovers of killed runs)."""
    with session_scope(database_url) as session:
        rows = session.scalars(
            select(RunLock).where(RunLock.expires_at > datetime.now(UTC)).order_by(RunLock.key)
        ).all()
        return [LockHolder(r.key, r.owner, r.host, r.pid, r.expires_at) for r in rows]


def held_keys(session: Session) -> set[str]:
    """The keys a live run holds: not expired, and not held by a process of this machine that is
    gone (a crawl killed a minute ago still has minutes of lock, but nobody crawls)."""
    host = socket.gethostname()
    rows = session.execute(select(RunLock.key, RunLock.host, RunLock.pid).where(RunLock.expires_at > datetime.now(UTC)))
    return {key for key, holder, pid in rows if holder != host or _process_alive(pid)}
