"""Two crawls started at once on the same (empty) database: no duplicates, no lock errors, no
migration race; each source is crawled by exactly one of them and skipped by the other."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from db.engine import session_scope
from db.models import Announcement, CrawlRun, RunLock
from scrapers.mirror.server import SNAPSHOT_DIR, BackgroundMirror
from tests.conftest import REPO

pytestmark = pytest.mark.network

SOURCES = {"mcps": "mcps.com.pl", "rops-poznan": "rops.poznan.pl", "rops-krakow": "www.rops.krakow.pl"}
EXPECTED_ANNOUNCEMENTS = {"mcps": 7, "rops-poznan": 4, "rops-krakow": 3}
ROBOTS_DELAY = 2.5  # every crawl waits this long for robots.txt: both runs overlap for sure


@pytest.fixture(scope="module")
def slow_mirror(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundMirror]:
    """The bundled mirror, but robots.txt of the three sites answers only after a few seconds."""
    overlay = tmp_path_factory.mktemp("slow-robots")
    for host in SOURCES.values():
        (overlay / host).mkdir()
        (overlay / host / "routes.toml").write_text(
            f'[[route]]\npath = "/robots.txt"\ncontent_type = "text/plain"\ndelay = {ROBOTS_DELAY}\n'
            'body = "User-agent: *\\nAllow: /\\n"\n',
            encoding="utf-8",
        )
    with BackgroundMirror([overlay, SNAPSHOT_DIR]) as server:
        yield server


def start_crawl(database: str, mirror_url: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "aggregator.cli", "crawl", *SOURCES, "--mirror", mirror_url, "--db", database],
        cwd=REPO,
        env={**os.environ, "COLUMNS": "200", "ROPSFEED_LOCK_TTL": "2", "ROPSFEED_ANNOTATION_WORKERS": "0"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_runs_at_once_share_the_sources_without_duplicates(db_url: str, slow_mirror: BackgroundMirror) -> None:
    first, second = start_crawl(db_url, slow_mirror.url), start_crawl(db_url, slow_mirror.url)
    outputs = [process.communicate(timeout=120) for process in (first, second)]
    for process, (stdout, stderr) in zip((first, second), outputs, strict=True):
        assert process.returncode == 0, "a skipped source is no failure\n" + stdout + stderr
        assert "Traceback" not in stderr and "locked" not in stderr.lower().replace("skipped", ""), stderr

    with session_scope(db_url) as session:
        runs = session.execute(select(CrawlRun.source_id, CrawlRun.status, CrawlRun.run_id)).all()
        stored = dict(
            session.execute(select(Announcement.source_id, func.count()).group_by(Announcement.source_id)).all()
        )
        duplicates = session.execute(
            select(Announcement.url).group_by(Announcement.source_id, Announcement.url).having(func.count() > 1)
        ).all()
        leftover_locks = session.scalar(select(func.count()).select_from(RunLock))
    assert Counter((source, status) for source, status, _ in runs) == Counter(
        {**{(s, "ok"): 1 for s in SOURCES}, **{(s, "skipped"): 1 for s in SOURCES}}
    ), "each source crawled by exactly one run and skipped by the other"
    assert len({run_id for *_, run_id in runs}) == 2
    assert stored == EXPECTED_ANNOUNCEMENTS and not duplicates
    assert leftover_locks == 0, "both runs released their locks"
    skipped_lines = [line for _, stderr in outputs for line in stderr.splitlines() if line.startswith("skipped ")]
    assert len(skipped_lines) == len(SOURCES) and all("being crawled by run" in line for line in skipped_lines)
    said = [line for _, stderr in outputs for line in stderr.splitlines() if "being crawled by" in line]
    assert said == skipped_lines, "each skip said once (a log line said it too)"
