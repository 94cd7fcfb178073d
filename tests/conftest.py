"""Shared fixtures: databases (SQLite always, PostgreSQL when its server is there) and mirrors."""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from db.engine import session_scope
from db.migrate import upgrade
from db.store import sync_sources
from scrapers.mirror.server import SNAPSHOT_DIR, BackgroundMirror
from scrapers.registry import load_sources
from tests.databases import PostgresSchemas, Templates, copy_sqlite, sqlite_path

REPO = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN_URL = os.environ.get("ROPSFEED_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres_unavailable() -> str | None:
    try:
        engine = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:
        return f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {type(exc).__name__}: {str(exc).splitlines()[0]}"
    return None


POSTGRES_SKIP_REASON = _postgres_unavailable()


def pytest_configure(config: pytest.Config) -> None:
    """ropsfeed's caches (the registry's checked selectors: scrapers/registry_selectors.py) go to a
    folder of the test run's own, removed at its end, not the user's ~/.cache: the `ropsfeed`
    processes the tests start inherit it."""
    cache = tempfile.mkdtemp(prefix="ropsfeed-test-cache-")
    os.environ["XDG_CACHE_HOME"] = cache
    atexit.register(shutil.rmtree, cache, True)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ropsfeed.db'}"


@pytest.fixture(autouse=True)
def _no_leftover_log_handlers() -> Iterator[None]:
    """Handlers a test leaves on the root logger (the CLI's, set up in-process) hold the stream
    pytest captured for that test: a later test's thread logging through them (aiosmtpd's after
    a refused TLS handshake) hit a closed file and printed a "Logging error" into the run."""
    root = logging.getLogger()
    before = list(root.handlers)
    yield
    for handler in [h for h in root.handlers if h not in before]:
        root.removeHandler(handler)


@pytest.fixture(scope="session")
def postgres_schemas() -> Iterator[PostgresSchemas]:
    """The session's schemas on the PostgreSQL server; skipped when it is absent."""
    if POSTGRES_SKIP_REASON:
        if os.environ.get("ROPSFEED_REQUIRE_POSTGRES"):
            pytest.fail(POSTGRES_SKIP_REASON)
        pytest.skip(POSTGRES_SKIP_REASON)
    schemas = PostgresSchemas(POSTGRES_ADMIN_URL)
    try:
        yield schemas
    finally:
        schemas.close()


@pytest.fixture
def postgres_url(postgres_schemas: PostgresSchemas) -> Iterator[str]:
    """A fresh schema in the test database, dropped afterwards; skipped when PostgreSQL is absent."""
    url = postgres_schemas.create()
    try:
        yield url
    finally:
        postgres_schemas.drop(url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """Runs a test on both backends."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")


def _migrated_with_sources(url: str) -> None:
    upgrade(url)
    with session_scope(url, write=True) as session:
        sync_sources(session, load_sources())


@pytest.fixture(scope="session")
def database_templates(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Templates:
    """What `database` copies: built once per session and backend (tests/databases.py)."""
    postgres = None if POSTGRES_SKIP_REASON else request.getfixturevalue("postgres_schemas")
    return Templates(tmp_path_factory.mktemp("template"), _migrated_with_sources, postgres)


@pytest.fixture
def database(db_url: str, database_templates: Templates) -> str:
    """A migrated database on both backends with the registry's sources and nothing else (a file
    may define its own `database` with more in it): a copy of one that `upgrade` and
    `sync_sources` built once."""
    database_templates.copy_into(db_url)
    return db_url


@pytest.fixture(scope="session")
def mirror() -> Iterator[BackgroundMirror]:
    """The bundled offline mirror on a free loopback port."""
    with BackgroundMirror([SNAPSHOT_DIR]) as server:
        yield server


@dataclass(frozen=True)
class Crawled:
    """A crawl's database (a template: copy it, do not write to it) and the command's result."""

    database: str
    result: subprocess.CompletedProcess[str]


# `first_crawl`: a source's crawl of the bundled mirror into the test's empty database, its result
FirstCrawl = Callable[[str], subprocess.CompletedProcess[str]]

# What `ropsfeed crawl` does on one core: extraction and annotation inline, no worker processes.
INLINE = {"ROPSFEED_ANNOTATION_WORKERS": "0"}


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 120, workers: bool = False) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """`ropsfeed ARGS` in a fresh process, as cron would run it.

    A crawl runs `INLINE` unless `workers`: on two cores each crawl would fork its worker pool and
    warm it up (morfeusz2, dateparser, in every worker), seconds of CPU per crawl for tests that are
    not about the pool. `workers=True` leaves the production default (scrapers.worker_pool), which
    the demo crawl, the every-source crawl and the story step's test keep covering; `env` wins."""
    inherited = {k: v for k, v in os.environ.items() if not (workers and k in INLINE)}
    return subprocess.run(
        [sys.executable, "-m", "aggregator.cli", *args],
        cwd=cwd or REPO,
        env={**inherited, "COLUMNS": "200", **({} if workers else INLINE), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="session")
def demo_crawl(tmp_path_factory: pytest.TempPathFactory, mirror: BackgroundMirror) -> Crawled:
    """The bundled mirror crawled once per session (what `ropsfeed demo` builds), with the worker
    pool; tests only read its database, or copy it."""
    database = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'ropsfeed.db'}"
    result = run_cli("crawl", "--mirror", mirror.url, "--db", database, timeout=300, workers=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return Crawled(database, result)


@pytest.fixture(scope="session")
def demo_database(demo_crawl: Crawled) -> str:
    return demo_crawl.database


@pytest.fixture(scope="session")
def _first_crawls() -> dict[str, Crawled]:
    return {}


@pytest.fixture
def first_crawl(
    sqlite_url: str, mirror: BackgroundMirror, tmp_path_factory: pytest.TempPathFactory,
    _first_crawls: dict[str, Crawled],
) -> FirstCrawl:  # fmt: skip
    """`ropsfeed crawl SOURCE` of the bundled mirror into the test's empty `sqlite_url`: its result.

    Many tests start so before they crawl a changed copy of the site. The crawl runs once per
    session and source, and each test gets a copy of its database and its result to check."""

    def crawl(source: str) -> subprocess.CompletedProcess[str]:
        if source not in _first_crawls:
            database = f"sqlite:///{tmp_path_factory.mktemp('first-crawl') / 'ropsfeed.db'}"
            result = run_cli("crawl", source, "--mirror", mirror.url, "--db", database)
            _first_crawls[source] = Crawled(database, result)
        copy_sqlite(_first_crawls[source].database, sqlite_path(sqlite_url))
        return _first_crawls[source].result

    return crawl
