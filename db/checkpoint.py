"""Checkpoints of a SQLite write-ahead log in a thread of their own, while a crawl writes.

In WAL mode SQLite copies the log back into the database file — a checkpoint, with an fsync —
inside the commit that grows the log past 1000 pages. During a crawl those commits run in the
reactor's thread, and every download and parse waits for them: the 44 commits of a benchmark crawl
(benchmarks/bench_crawl.py, 5,000 articles) spent 1.04 s there, 0.85 s of it checkpointing. The
sqlite3 module lets go of the GIL while SQLite works, so the same checkpoints run in a thread
overlap with the crawl instead. This is the arrangement SQLite documents for it
(https://www.sqlite.org/wal.html#application_initiated_checkpoints: automatic checkpoints off,
`wal_checkpoint` from another thread).

A PASSIVE checkpoint never waits for the writer or the readers: it copies what it can, so a crawl
is never blocked by it. If the thread cannot checkpoint (an error, the process killed), nothing is
lost: the log keeps every commit, and the next connection to write checkpoints it as usual.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import make_url

from db.engine import BACKGROUND_CHECKPOINTS, SQLITE_AUTOCHECKPOINT_PAGES, SQLITE_BUSY_TIMEOUT_MS

log = logging.getLogger(__name__)

INTERVAL = 0.2  # seconds between looks at the log's size


class Checkpointer(threading.Thread):
    """Checkpoints the log of `path` whenever it has grown by the automatic checkpoint's amount."""

    def __init__(self, path: str, pages: int = SQLITE_AUTOCHECKPOINT_PAGES, interval: float = INTERVAL) -> None:
        super().__init__(name=f"checkpoints of {os.path.basename(path)}", daemon=True)
        self.path = path
        self.wal = f"{path}-wal"
        self.pages = pages
        self.interval = interval
        self.stopping = threading.Event()
        self.checkpoints = 0
        self._done_at = 0  # the log's size after the last checkpoint (SQLite reuses the file, it does not shrink it)

    def run(self) -> None:
        connection = self._connect()
        if connection is None:
            return
        try:
            page_size = connection.execute("PRAGMA page_size").fetchone()[0]
            while not self.stopping.wait(self.interval):
                if self._grown(page_size):
                    self._checkpoint(connection)
            # what the last commits left; TRUNCATE also empties the log file when no one else is
            # using the database, else (busy at once: no waiting) it is as PASSIVE
            connection.execute("PRAGMA busy_timeout=0")
            self._checkpoint(connection, "TRUNCATE")
        except sqlite3.Error as exc:  # the thread gives up: commits checkpoint again, as usual
            log.warning("background checkpoints of %s stopped (%s); commits checkpoint as usual", self.path, exc)
            BACKGROUND_CHECKPOINTS.discard(self.path)
        finally:
            connection.close()

    def _connect(self) -> sqlite3.Connection | None:
        try:
            return sqlite3.connect(self.path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        except sqlite3.Error as exc:
            log.warning("background checkpoints of %s not started (%s); commits checkpoint as usual", self.path, exc)
            BACKGROUND_CHECKPOINTS.discard(self.path)
            return None

    def _grown(self, page_size: int) -> bool:
        try:
            size = os.stat(self.wal).st_size
        except OSError:
            return False
        if size < self._done_at:  # the log was truncated by someone else
            self._done_at = 0
        return size - self._done_at >= self.pages * page_size

    def _checkpoint(self, connection: sqlite3.Connection, mode: str = "PASSIVE") -> None:
        try:
            connection.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
        except sqlite3.Error as exc:
            log.debug("checkpoint of %s failed: %s (the log keeps every commit)", self.path, exc)
            return
        self.checkpoints += 1
        try:
            self._done_at = os.stat(self.wal).st_size
        except OSError:
            self._done_at = 0


@contextmanager
def background_checkpoints(database_url: str) -> Iterator[Checkpointer | None]:
    """Checkpoints of this SQLite database in a thread for the duration of the block (nothing for
    PostgreSQL or an in-memory database). The process's connections stop checkpointing in their
    commits meanwhile and start again afterwards; the thread does one last checkpoint on the way out.

    Start it after forking any worker process: a fork must not happen while a thread runs."""
    url = make_url(database_url)
    path = url.database
    if url.get_backend_name() != "sqlite" or not path or path == ":memory:" or path.startswith("file:"):
        yield None
        return
    thread = Checkpointer(path)
    BACKGROUND_CHECKPOINTS.add(path)
    thread.start()
    try:
        yield thread
    finally:
        thread.stopping.set()
        thread.join()
        BACKGROUND_CHECKPOINTS.discard(path)
