"""More than one machine: a real Scrapyd on 127.0.0.1, the project deployed to it, sources crawled
through its HTTP API against the mirror, rows checked in the shared database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from aggregator.scrapyd.client import Scrapyd
from aggregator.scrapyd.dispatch import split_sources
from db.engine import session_scope
from db.models import Announcement, CrawlRun
from scrapers.mirror.server import SNAPSHOT_DIR, BackgroundMirror
from scrapers.registry import load_sources
from tests.aggregator.cli_inprocess import invoke
from tests.conftest import POSTGRES_SKIP_REASON, REPO

pytestmark = pytest.mark.network


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def scrapyd(tmp_path: Path) -> Iterator[str]:
    """`scrapyd` (the dev extra's) in its own folder on a free loopback port."""
    with running_scrapyd(tmp_path, max_proc=4) as url:
        yield url


@pytest.fixture
def scrapyd_one_at_a_time(tmp_path: Path) -> Iterator[str]:
    """`scrapyd` running one job at a time: the others wait in its queue."""
    with running_scrapyd(tmp_path, max_proc=1) as url:
        yield url


@contextmanager
def running_scrapyd(tmp_path: Path, max_proc: int) -> Iterator[str]:
    port = free_port()
    (tmp_path / "scrapyd.conf").write_text(
        f"[scrapyd]\nbind_address = 127.0.0.1\nhttp_port = {port}\neggs_dir = {tmp_path}/eggs\n"
        f"logs_dir = {tmp_path}/logs\ndbs_dir = {tmp_path}/dbs\nitems_dir =\npoll_interval = 0.2\n"
        f"max_proc = {max_proc}\n",
        encoding="utf-8",
    )
    env = {"PATH": str(Path(sys.executable).parent), "ROPSFEED_EGG_CACHE": str(tmp_path / "egg-cache"),
           "ROPSFEED_ANNOTATION_WORKERS": "0", "HOME": str(tmp_path)}  # fmt: skip
    server = subprocess.Popen([str(Path(sys.executable).with_name("scrapyd"))], cwd=tmp_path, env=env,
                              stdout=subprocess.DEVNULL, stderr=(tmp_path / "scrapyd.err").open("w"))  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{url}/daemonstatus.json", timeout=1).raise_for_status()
                break
            except requests.RequestException:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"scrapyd did not start: {(tmp_path / 'scrapyd.err').read_text()[-2000:]}")
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_sources_of_one_site_share_a_server() -> None:
    sites = {"a1": "https://www.a.pl/", "a2": "https://a.pl/es/", "a3": "http://a.pl/", "b": "https://b.pl/",
             "c": "https://c.pl/", "d": "https://d.pl/"}  # fmt: skip
    plan = split_sources(list(sites), ["http://one:6800", "http://two:6800"], sites)
    assert sorted(s for assigned in plan.values() for s in assigned) == sorted(sites)
    assert any({"a1", "a2", "a3"} <= set(assigned) for assigned in plan.values()), "one site, one server"
    assert sorted(len(v) for v in plan.values()) == [3, 3], "balanced"
    assert split_sources(["mcps"], ["http://a:6800", "http://a:6800"]) == {"http://a:6800": ["mcps"]}


def test_deploy_then_crawl_through_scrapyd(
    request: pytest.FixtureRequest, scrapyd: str, mirror: BackgroundMirror
) -> None:
    database = request.getfixturevalue("sqlite_url" if POSTGRES_SKIP_REASON else "postgres_url")

    deployed = invoke("deploy", "--scrapyd", scrapyd, "--version", "20261206")
    assert deployed.returncode == 0, deployed.stderr
    # one spider per registered source (disabled ones too: the egg carries the whole registry)
    assert f"ropsfeed 20261206 deployed ({len(load_sources())} spiders" in deployed.stdout

    result = invoke("crawl", "mcps", "rops-rzeszow", "--mirror", mirror.url, "--scrapyd", scrapyd, "--db", database)
    assert result.returncode == 0, result.stdout + result.stderr
    jobs = Scrapyd(scrapyd).list_jobs("ropsfeed")
    assert sorted(job["spider"] for job in jobs["finished"]) == ["mcps", "rops-rzeszow"]
    with session_scope(database) as session:
        runs = session.scalars(select(CrawlRun)).all()
        counts = dict(
            session.execute(select(Announcement.source_id, func.count()).group_by(Announcement.source_id)).all()
        )
        urls = session.scalars(select(Announcement.url)).all()
    assert {(r.source_id, r.status) for r in runs} == {("mcps", "ok"), ("rops-rzeszow", "ok")}
    assert len({r.run_id for r in runs}) == 1, "the jobs wrote under the coordinator's run id"
    assert counts == {"mcps": 7, "rops-rzeszow": 5}
    assert all(u.startswith(("https://mcps.com.pl/", "https://www.rops.rzeszow.pl/")) for u in urls), "real URLs"

    dead = invoke("crawl", "rops-katowice", "--mirror", "http://127.0.0.1:9", "--scrapyd", scrapyd, "--db", database)
    assert dead.returncode == 1, "same exit status rules as a local run"
    assert "rops-katowice" in dead.stderr and "connection refused" in dead.stderr


def test_a_run_on_scrapyd_asked_to_stop_cancels_its_jobs_and_waits_for_the_running_one(
    sqlite_url: str, scrapyd_one_at_a_time: str, tmp_path: Path
) -> None:
    """SIGTERM to `crawl --scrapyd` (or `run --scrapyd`) ended the coordinator's wait at once and the
    jobs ran on, on their servers, unwatched: the steps after them skipped or run against a crawl
    still under way. Now the jobs are cancelled (`cancel.json`): the running one stops as a local
    crawl stops (what it fetched stored, its run `stopped`), the queued one never runs (its run
    recorded `stopped` by the coordinator); then the story step is skipped, exit 143."""
    import signal

    from tests.aggregator.test_stopping import when_waiting
    from tests.scrapers.overlays import rzeszow_listing_delayed

    assert invoke("deploy", "--scrapyd", scrapyd_one_at_a_time, "--version", "20261207").returncode == 0
    root = tmp_path / "overlay"
    root.mkdir()
    rzeszow_listing_delayed("strona=2", 20.0)(root)
    env = {**os.environ, "ROPSFEED_BATCH_SIZE": "1"}  # the first page's articles stored one by one
    with BackgroundMirror([root, SNAPSHOT_DIR]) as server:
        args = ["crawl", "rops-rzeszow", "rops-rzeszow-es", "--mirror", server.url, "--scrapyd", scrapyd_one_at_a_time,
                "--db", sqlite_url]  # fmt: skip
        coordinator = subprocess.Popen([sys.executable, "-m", "aggregator.cli", *args], cwd=REPO, env=env,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
        try:
            when_waiting(sqlite_url, coordinator, server, 2)  # rops-rzeszow runs, rops-rzeszow-es waits
            coordinator.send_signal(signal.SIGTERM)
            _, stderr = coordinator.communicate(timeout=90)
        finally:
            coordinator.kill()
    assert coordinator.returncode == 143, stderr
    assert "skipped stories: asked to stop (SIGTERM)" in stderr
    with session_scope(sqlite_url) as session:
        runs = {r.source_id: r for r in session.scalars(select(CrawlRun))}
        stored = session.scalar(select(func.count()).select_from(Announcement))
    assert {source: run.status for source, run in runs.items()} == {"rops-rzeszow": "stopped",
                                                                     "rops-rzeszow-es": "stopped"}  # fmt: skip
    assert runs["rops-rzeszow"].items_new == 2 and stored == 2, "what the running job fetched is stored"
    assert runs["rops-rzeszow-es"].pages_fetched == 0, "the queued job never ran"
    jobs = Scrapyd(scrapyd_one_at_a_time).list_jobs("ropsfeed")
    assert [j["spider"] for j in jobs["finished"]] == ["rops-rzeszow"] and not jobs["pending"] and not jobs["running"]
