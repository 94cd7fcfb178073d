"""Being asked to stop (aggregator/stopping.py): `ropsfeed run` and `crawl` stopped by a real SIGTERM
in a real process, crawling rops-rzeszow from the mirror with its second listing page held back, as
systemd's `systemctl stop` or a reboot stops them; and the handlers themselves, in this process."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select

from aggregator import stopping
from db.engine import session_scope
from db.migrate import ensure_schema
from db.models import Announcement, CrawlRun, Delivery, FailedPage
from scrapers.mirror.server import SNAPSHOT_DIR, BackgroundMirror
from scrapers.registry import REGISTRY_PATH
from tests.aggregator.mail.conftest import SmtpServer, smtp_server  # noqa: F401 (the fixture)
from tests.aggregator.mail.test_commands import MAIL_ENV, cli, fresh_story
from tests.conftest import INLINE, REPO
from tests.scrapers.overlays import rzeszow_listing_delayed

pytestmark = pytest.mark.network
# one announcement per database write: the first listing page's articles are stored before the
# held-back page would arrive, as on a real site whose later pages take longer
SETTINGS = {**INLINE, "ROPSFEED_BATCH_SIZE": "1"}


def test_the_first_signal_is_remembered_and_the_handlers_are_put_back() -> None:
    before = signal.getsignal(signal.SIGTERM)
    called: list[int] = []
    with stopping.listening():
        with stopping.on_first(called.append):
            assert stopping.asked() is None and stopping.exit_status() == 0
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.01)  # Python runs the handler at its next instruction in the main thread
        assert stopping.asked() == signal.SIGTERM and called == [signal.SIGTERM]
        assert (stopping.reason(), stopping.exit_status()) == ("asked to stop (SIGTERM)", 143)
        with stopping.on_first(called.append):  # asked already: called at once
            assert called == [signal.SIGTERM] * 2
    assert signal.getsignal(signal.SIGTERM) == before


def rzeszow_registry(folder: Path) -> Path:
    """An operator's own selection (`ROPSFEED_SOURCES`): rops-rzeszow alone, so that `run` crawls
    one source whose second listing page the test holds back."""
    entry = re.search(r'\[\[source\]\]\nid = "rops-rzeszow"\n.*?(?=\n\[\[source\]\])',
                      REGISTRY_PATH.read_text(encoding="utf-8"), re.S)  # fmt: skip
    assert entry is not None
    path = folder / "sources.toml"
    path.write_text(entry.group(0), encoding="utf-8")
    return path


def count(database: str) -> int:
    with session_scope(database) as session:
        return int(session.scalar(select(func.count()).select_from(Announcement)) or 0)


@contextmanager
def started(args: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen([sys.executable, "-m", "aggregator.cli", *args], cwd=REPO,
                               env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)  # fmt: skip
    try:
        yield process
    finally:
        process.kill()
        process.communicate()


def when_waiting(database: str, process: subprocess.Popen[str], server: BackgroundMirror, stored: int) -> None:
    """Once the first listing page's articles are stored and the held-back page is on its way."""

    def ready() -> bool:
        asked = any("strona=2" in path for _, path in list(server.snapshot.requests))
        return asked and count(database) >= stored

    deadline = time.monotonic() + 60
    while not ready() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ready() and process.poll() is None, "the crawl stored the first page and asked for the second"


def test_run_stopped_by_sigterm_stores_what_it_fetched_and_leaves_the_rest_to_the_next_run(
    sqlite_url: str,
    smtp_server: SmtpServer,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> None:
    """As the crontab runs it (JSON lines on stderr, nothing on stdout), with a digest due: SIGTERM
    while the crawl waits for a listing page. The crawl stores what it fetched and records its run;
    the story step, the alerts and the digests are skipped, one line each; exit 143. The next run
    does all of it, and the digest goes out once."""
    assert cli("subscribers", "add", "jan@example.org", "--db", sqlite_url).returncode == 0
    fresh_story(sqlite_url, "Nabór do Rady Działalności Pożytku Publicznego")
    stored_before = count(sqlite_url)
    env = {**SETTINGS, **MAIL_ENV, "ROPSFEED_SMTP_URL": smtp_server.url,
           "ROPSFEED_SOURCES": str(rzeszow_registry(tmp_path)), "ROPSFEED_DOWNLOAD_TIMEOUT": "5"}  # fmt: skip
    delayed = rzeszow_listing_delayed("strona=2", 15.0)
    root = tmp_path / "overlay"
    root.mkdir()
    delayed(root)
    with BackgroundMirror([root, SNAPSHOT_DIR]) as server:
        args = ["--log-format", "json", "run", "--mirror", server.url, "--db", sqlite_url]
        with started(args, env) as run:
            when_waiting(sqlite_url, run, server, stored_before + 2)
            run.send_signal(signal.SIGTERM)
            stdout, stderr = run.communicate(timeout=60)
    assert run.returncode == 143, stderr
    assert stdout == ""
    records = [json.loads(line) for line in stderr.splitlines()]
    assert not [r for r in records if r.get("event") in ("error", "failed")], "a stop is not an error of the site"
    assert [r["source"] for r in records if r.get("event") == "stopped"] == ["rops-rzeszow"]
    skipped = [r["message"] for r in records if r.get("event") == "skipped"]
    assert skipped == [f"skipped {step}: asked to stop (SIGTERM)" for step in ("stories", "alerts", "digests")]
    assert any(r["message"].startswith("asked to stop (SIGTERM): the requests on their way are waited for")
               for r in records)  # fmt: skip
    assert smtp_server.handler.messages == []
    with session_scope(sqlite_url) as session:
        [stopped] = session.scalars(select(CrawlRun)).all()
        # not the site's failure: `status` and the alert mail leave it out (a stop three nights in a
        # row made the source "failing" and mailed the operator)
        assert stopped.status == "stopped" and stopped.errors[-1].startswith("crawl ended early: shutdown")
        assert session.scalars(select(FailedPage.kind)).all() == ["crawl"], "the next crawl walks the listings"
        new = session.scalars(select(Announcement).where(Announcement.source_id == "rops-rzeszow")).all()
        assert len(new) == 2 and all(a.story_key is None for a in new), "stored, not given stories"
        assert session.scalars(select(Delivery)).all() == []

    with (
        BackgroundMirror([SNAPSHOT_DIR]) as server,
        started(["run", "--mirror", server.url, "--db", sqlite_url], env) as again,
    ):
        _, stderr = again.communicate(timeout=120)
    assert again.returncode == 0, stderr
    assert "digests: 1 digest(s) sent" in stderr
    assert smtp_server.handler.recipients() == ["jan@example.org"]
    with session_scope(sqlite_url) as session:
        rzeszow = session.scalars(select(Announcement).where(Announcement.source_id == "rops-rzeszow")).all()
        assert len(rzeszow) == 5 and all(a.story_key for a in rzeszow)


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (the crawl's worker processes)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table in /proc")
def test_a_second_sigterm_stops_at_once_workers_and_all(sqlite_url: str, tmp_path: Path) -> None:
    """The graceful stop would wait a minute for the held-back page (ROPSFEED_DOWNLOAD_TIMEOUT 60):
    the second SIGTERM ends the process at once, as SIGKILL would, and its worker process with it
    (left alone, it would wait for work forever). The run stays `running`: the next crawl recovers it."""
    ensure_schema(sqlite_url)
    env = {**SETTINGS, "ROPSFEED_ANNOTATION_WORKERS": "1", "ROPSFEED_DOWNLOAD_TIMEOUT": "60"}
    delayed: Callable[[Path], None] = rzeszow_listing_delayed("strona=2", 20.0)
    root = tmp_path / "overlay"
    root.mkdir()
    delayed(root)
    command = ["crawl", "rops-rzeszow", "--mirror", "", "--db", sqlite_url]
    with (
        BackgroundMirror([root, SNAPSHOT_DIR]) as server,
        started([*command[:3], server.url, *command[4:]], env) as crawl,
    ):
        when_waiting(sqlite_url, crawl, server, 0)
        workers = children(crawl.pid)
        assert workers, "the crawl forked its worker process"
        crawl.send_signal(signal.SIGTERM)
        time.sleep(1.0)
        assert crawl.poll() is None, "the first signal waits for the page on its way"
        crawl.send_signal(signal.SIGTERM)
        began = time.monotonic()
        crawl.wait(timeout=10)
        took = time.monotonic() - began
    assert crawl.returncode == -signal.SIGTERM and took < 5, took
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in workers)
    with session_scope(sqlite_url) as session:
        assert session.scalars(select(CrawlRun.status)).all() == ["running"]


def test_demo_stopped_by_ctrl_c_writes_no_files_and_exits_130(sqlite_url: str, tmp_path: Path) -> None:
    """`ropsfeed demo` crawls through the same runner, which no longer lets Scrapy take the signals:
    Ctrl+C (SIGINT) stops its crawl as it stops `crawl`'s, and the feed files are not written."""
    out = tmp_path / "out"
    with started(["demo", "--db", sqlite_url, "--out", str(out)], INLINE) as demo:
        deadline = time.monotonic() + 60
        while demo.poll() is None and time.monotonic() < deadline and not started_runs(sqlite_url):
            time.sleep(0.1)
        demo.send_signal(signal.SIGINT)
        _, stderr = demo.communicate(timeout=120)
    assert demo.returncode == 130, stderr
    assert "skipped feeds and digest preview: asked to stop (SIGINT)" in stderr.splitlines()
    assert "Traceback" not in stderr and not (out / "feed.atom").exists()


def started_runs(database: str) -> int:
    try:
        with session_scope(database) as session:
            return int(session.scalar(select(func.count()).select_from(CrawlRun)) or 0)
    except Exception:  # the schema is not there yet
        return 0


def test_a_stop_asked_while_spiders_open_stops_them_as_they_start(
    sqlite_url: str, mirror: BackgroundMirror, tmp_path: Path
) -> None:
    """Spiders open one after another (each writes its run's row): a stop asked then found their
    engines not running yet, Scrapy's stop left them alone, and they crawled everything. The test
    holds the database while the first has opened, so the others cannot, and signals meanwhile:
    every run ends `crawl ended early: shutdown`, none `ok`."""
    ensure_schema(sqlite_url)
    sources = ["mcps", "rops-krakow", "rops-opole", "rops-poznan", "mazovia"]
    holder = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), timeout=60, isolation_level=None)
    with started(["crawl", *sources, "--mirror", mirror.url, "--db", sqlite_url], INLINE) as crawl:
        deadline = time.monotonic() + 60
        while crawl.poll() is None and time.monotonic() < deadline and not started_runs(sqlite_url):
            time.sleep(0.02)
        holder.execute("BEGIN IMMEDIATE")  # the next spider's start waits for the database
        crawl.send_signal(signal.SIGTERM)
        time.sleep(1.0)
        holder.execute("ROLLBACK")
        _, stderr = crawl.communicate(timeout=120)
    holder.close()
    assert crawl.returncode == 143, stderr
    with session_scope(sqlite_url) as session:
        runs = session.scalars(select(CrawlRun)).all()
        assert runs and [r.status for r in runs] == ["stopped"] * len(runs), [(r.source_id, r.status) for r in runs]
        assert all(r.errors[-1].startswith("crawl ended early: shutdown") for r in runs)


def test_digest_send_stopped_by_sigterm_finishes_the_digest_on_its_way_and_begins_no_other(
    sqlite_url: str,
    smtp_server: SmtpServer,  # noqa: F811 (the fixture imported above)
) -> None:
    """`ropsfeed digest send` run on its own (a cron line of its own, docs/scheduling): SIGTERM while
    it sends ended it at once, by the signal's default, between a digest the relay took and its
    delivery record (which sends it again next time). Now as in `run`: the digest on its way is sent
    and recorded, no other is begun, exit 143; the next run sends the rest, none twice."""
    for name in ("a", "b", "c"):
        assert cli("subscribers", "add", f"{name}@example.org", "--db", sqlite_url).returncode == 0
    fresh_story(sqlite_url, "Nabór do Rady Działalności Pożytku Publicznego")
    smtp_server.handler.delay = 1.0  # a slow relay: each digest takes a second
    env = {**MAIL_ENV, "ROPSFEED_SMTP_URL": smtp_server.url}
    with started(["digest", "send", "--db", sqlite_url], env) as sending:
        deadline = time.monotonic() + 60
        while not smtp_server.handler.messages and time.monotonic() < deadline and sending.poll() is None:
            time.sleep(0.02)
        sending.send_signal(signal.SIGTERM)  # the first one taken, the next on its way
        _, stderr = sending.communicate(timeout=60)
    assert sending.returncode == 143, stderr
    assert "skipped the rest of the digests: asked to stop (SIGTERM)" in stderr
    sent = len(smtp_server.handler.messages)
    with session_scope(sqlite_url) as session:
        assert session.scalar(select(func.count()).select_from(Delivery)) == sent, "each one sent is recorded"
    assert sent in (1, 2), "the one on its way finished, no other begun"

    smtp_server.handler.delay = 0.0
    rest = cli("digest", "send", "--db", sqlite_url, env=env)
    assert rest.returncode == 0, rest.stderr
    assert sorted(smtp_server.handler.recipients()) == ["a@example.org", "b@example.org", "c@example.org"]
