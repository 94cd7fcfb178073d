"""db/checkpoint.py: the write-ahead log checkpointed by a thread while a crawl writes, not in its commits."""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from db.checkpoint import Checkpointer, background_checkpoints
from db.engine import BACKGROUND_CHECKPOINTS, get_engine, session_scope

_BODY = "Regionalny Ośrodek Polityki Społecznej " * 50


def _write(url: str, rows: int, start: int = 0) -> None:
    with session_scope(url, write=True) as session:
        session.execute(text("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, body TEXT)"))
        session.execute(
            text("INSERT INTO t (id, body) VALUES (:id, :body)"),
            [{"id": i, "body": f"{i} {_BODY}"} for i in range(start, start + rows)],
        )


def _autocheckpoint(url: str) -> int:
    with get_engine(url).connect() as connection:
        return connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one()


def _log_frames(path: Path) -> int:
    """Frames written to the log since it was last restarted (a PASSIVE checkpoint's report)."""
    connection = sqlite3.connect(path)
    try:
        return connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
    finally:
        connection.close()


def test_commits_leave_checkpoints_to_the_thread_and_take_them_back_after(tmp_path: Path) -> None:
    path = tmp_path / "crawl.db"
    url = f"sqlite:///{path}"
    _write(url, 10)
    assert _autocheckpoint(url) == 1000
    with background_checkpoints(url) as thread:
        assert isinstance(thread, Checkpointer) and thread.is_alive()
        assert _autocheckpoint(url) == 0, "connections of this process do not checkpoint in their commits"
        for batch in range(12):  # about 2,000 pages of log: past the automatic checkpoint's 1,000 twice
            _write(url, 200, start=1000 + batch * 200)
        deadline = time.monotonic() + 10
        while thread.checkpoints == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert thread.checkpoints >= 1, "the thread checkpointed while the writes went on"
    assert not thread.is_alive()
    assert os.path.getsize(f"{path}-wal") == 0, "the last checkpoint emptied the log (no one else used it)"
    assert _autocheckpoint(url) == 1000, "afterwards commits checkpoint as usual again"
    with session_scope(url) as session:
        assert session.execute(text("SELECT count(*) FROM t")).scalar_one() == 10 + 12 * 200
    connection = sqlite3.connect(path)
    assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    connection.close()


def test_without_the_thread_the_log_is_left_for_the_next_writer(tmp_path: Path) -> None:
    """The thread never checkpointing (killed) loses nothing: the log keeps every commit."""
    path = tmp_path / "crawl.db"
    url = f"sqlite:///{path}"
    BACKGROUND_CHECKPOINTS.add(str(path))  # what a running thread announces, without the thread
    try:
        for batch in range(8):
            _write(url, 200, start=batch * 200)
        assert _log_frames(path) > 1000, "no commit checkpointed while the thread was in charge"
    finally:
        BACKGROUND_CHECKPOINTS.discard(str(path))
    with session_scope(url) as session:
        assert session.execute(text("SELECT count(*) FROM t")).scalar_one() == 1600


def test_a_database_the_thread_cannot_open_keeps_checkpointing_in_commits(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path}"  # a directory: SQLite cannot open it
    with caplog.at_level(logging.WARNING, logger="db.checkpoint"), background_checkpoints(url) as thread:
        assert thread is not None
        thread.join(5)
        assert str(tmp_path) not in BACKGROUND_CHECKPOINTS
    assert "background checkpoints of" in caplog.text and "commits checkpoint as usual" in caplog.text


def test_nothing_to_do_for_postgresql_or_memory() -> None:
    for url in ("postgresql+psycopg://127.0.0.1/test", "sqlite://", "sqlite:///:memory:"):
        with background_checkpoints(url) as thread:
            assert thread is None
    assert not BACKGROUND_CHECKPOINTS


def test_a_thread_that_fails_hands_checkpoints_back_to_the_commits(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "crawl.db"
    url = f"sqlite:///{path}"
    _write(url, 10)

    def broken(self: Checkpointer, page_size: int) -> bool:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(Checkpointer, "_grown", broken)
    with caplog.at_level(logging.WARNING, logger="db.checkpoint"), background_checkpoints(url) as thread:
        assert thread is not None
        thread.join(5)
        assert not thread.is_alive() and str(path) not in BACKGROUND_CHECKPOINTS
        assert _autocheckpoint(url) == 1000, "the next commits checkpoint themselves"
    assert "stopped (disk I/O error); commits checkpoint as usual" in caplog.text
