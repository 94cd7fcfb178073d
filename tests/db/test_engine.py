"""How ropsfeed connects to PostgreSQL when the server does not answer (db/engine.py)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from db.engine import get_engine, postgres_connect_args
from tests.conftest import run_cli


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts TCP connections and never says a word: a hung server, or a proxy in
    front of a dead one."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
        for connection in accepted:
            connection.close()


def test_a_server_that_never_answers_is_database_unavailable_not_a_hang(silent_server: int) -> None:
    """Every command waited for ever (`status` here; the nightly `run` too, one more stuck process
    each night under cron): now it gives up after the connect timeout, exit 2."""
    started = time.monotonic()
    result = run_cli("status", "--db", f"postgresql+psycopg://ropsfeed@127.0.0.1:{silent_server}/x", timeout=60)
    elapsed = time.monotonic() - started
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: database unavailable: ") and len(result.stderr.splitlines()) == 1
    assert "timeout" in result.stderr and elapsed < 30, (elapsed, result.stderr)


def test_the_url_and_libpq_environment_win_over_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGCONNECT_TIMEOUT", raising=False)
    assert postgres_connect_args("postgresql+psycopg://u@h/db")["connect_timeout"] == "10"
    assert "connect_timeout" not in postgres_connect_args("postgresql+psycopg://u@h/db?connect_timeout=60")
    assert postgres_connect_args("postgresql+psycopg://u@h/db?keepalives_idle=5")["keepalives_count"] == "3"
    assert "keepalives_idle" not in postgres_connect_args("postgresql+psycopg://u@h/db?keepalives_idle=5")
    monkeypatch.setenv("PGCONNECT_TIMEOUT", "60")
    assert "connect_timeout" not in postgres_connect_args("postgresql+psycopg://u@h/db")
    assert postgres_connect_args("sqlite:///x.db") == {}


@pytest.mark.postgres
def test_connections_probe_a_silent_server_within_a_minute(postgres_url: str) -> None:
    """A server that vanishes mid-query (a network cut) is noticed by TCP keepalives after about a
    minute, not the two hours of the system's default: the connections carry libpq's settings."""
    with get_engine(postgres_url).connect() as connection:
        dsn = connection.connection.driver_connection.info.dsn  # type: ignore[union-attr]
        assert connection.execute(text("select 1")).scalar() == 1
    for setting in ("keepalives=1", "keepalives_idle=30", "keepalives_interval=10", "keepalives_count=3"):
        assert setting in dsn, dsn
