"""`ropsfeed run --scrapyd URL…`: the sources of one run split across Scrapyd servers.

The coordinator does what a local run does around the crawl — per-source locks in the shared
database, skipped and interrupted runs recorded, stories assigned afterwards, reports read back
from crawl_runs — and hands the crawling itself to Scrapyd: one job per source, `schedule.json`
with the run's settings, `listjobs.json` polled until every job has finished. Asked to stop
(SIGTERM, aggregator/stopping.py), it cancels its jobs (`cancel.json`: the pending ones never run,
the running ones stop as a local crawl stops) and waits for them to record what they stored.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from aggregator import stopping
from aggregator.crawl import (
    SourceReport,
    assign_stories_locked,
    check_settings,
    close_interrupted,
    crawl_overrides,
    record_skipped,
    reports_for,
    resolve_sources,
)
from aggregator.scrapyd.client import Scrapyd, ScrapydError
from aggregator.scrapyd.egg import project_name
from aggregator.urls import site_of
from db.engine import session_scope
from db.locks import RunLocks
from db.migrate import ensure_schema
from db.store import finish_run, start_run, sync_sources
from scrapers.extensions import EARLY_ENDS
from scrapers.registry import load_sources

log = logging.getLogger(__name__)


@dataclass
class Job:
    source_id: str
    server: Scrapyd
    job_id: str | None = None
    problem: str | None = None  # why it never ran or never finished
    done: bool = False
    cancelled: bool = False  # taken out of its server's queue before it ran (the run was asked to stop)


def split_sources(
    source_ids: Sequence[str], servers: Sequence[str], base_urls: Mapping[str, str] | None = None
) -> dict[str, list[str]]:
    """Sources to servers, balanced by count; the sources of one site always share a server (so one
    Scrapyd's process limit, not two machines at once, bounds the load on that site)."""
    if not servers:
        raise ValueError("no Scrapyd server given")
    base = base_urls or {s.id: s.base_url for s in load_sources()}
    by_site: dict[str, list[str]] = defaultdict(list)
    for source_id in source_ids:
        by_site[site_of(base[source_id])].append(source_id)
    plan: dict[str, list[str]] = {server: [] for server in dict.fromkeys(servers)}
    for group in sorted(by_site.values(), key=lambda g: (-len(g), g)):
        lightest = min(plan, key=lambda server: len(plan[server]))
        plan[lightest].extend(group)
    return plan


def run_on_scrapyd(
    source_ids: Sequence[str],
    database_url: str,
    servers: Sequence[str],
    *,
    mirror: str | None = None,
    full: bool = False,
    poll: float = 1.0,
    timeout: float = 6 * 3600,
) -> list[SourceReport]:
    """Crawl the sources (all enabled ones when empty) on the Scrapyd servers; blocks until done."""
    ids = resolve_sources(source_ids)
    check_settings(mirror)
    clients = {url: Scrapyd(url) for url in dict.fromkeys(servers)}
    project = project_name()
    ensure_schema(database_url)
    run_id = str(uuid.uuid4())
    locks = RunLocks(database_url, run_id)
    with session_scope(database_url, write=True) as session:
        sync_sources(session, load_sources())
    acquired, held = locks.acquire(ids)
    record_skipped(database_url, run_id, held, mirror, full)
    close_interrupted(database_url, acquired)
    settings = crawl_overrides(database_url, mirror, full, run_id, "INFO")
    jobs: list[Job] = []
    with locks.keep_alive():
        for url, assigned in split_sources(acquired, list(clients)).items():
            for source_id in assigned:
                job = Job(source_id, clients[url])
                try:
                    job.job_id = job.server.schedule(project, source_id, settings)
                    log.info("%s: Scrapyd job %s on %s", source_id, job.job_id, url)
                except ScrapydError as exc:
                    job.problem, job.done = f"not scheduled: {exc}", True
                jobs.append(job)
        wait_for(jobs, project, poll, timeout, stop=stopping.asked)
        for job in jobs:
            if job.cancelled:  # it never ran: its run recorded here, as one stopped before it began
                with session_scope(database_url, write=True) as session:
                    crawl_run_id = start_run(session, run_id, job.source_id, mirror, full)
                    finish_run(session, crawl_run_id, status="stopped",
                               errors=[f"crawl ended early: shutdown{EARLY_ENDS['shutdown']}"])  # fmt: skip
        locks.release(acquired)
        if stopping.asked():  # what the jobs stored is in the database; the next run's story step takes it
            stopping.say_skipped("stories")
        else:
            assign_stories_locked(database_url, locks)
    reports = reports_for(database_url, run_id, ids)
    explained = {job.source_id: job for job in jobs}
    for report in reports:
        job = explained.get(report.source_id)
        if job is not None and report.errors == ["the spider did not start"]:
            report.errors = [job.problem or "the Scrapyd job ended without recording its outcome; its log: "
                             + job.server.log_url(project, job.source_id, job.job_id or "?")]  # fmt: skip
    return reports


def wait_for(
    jobs: list[Job], project: str, poll: float, timeout: float, stop: Callable[[], object] = lambda: None
) -> None:
    """Poll each server's listjobs.json until every job is finished (or the server is gone). Once
    `stop()` is true the jobs not finished are cancelled, once, and the running ones waited for."""
    deadline = time.monotonic() + timeout
    unreachable: dict[Scrapyd, int] = defaultdict(int)
    cancelling = False
    while not all(job.done for job in jobs):
        if stop() and not cancelling:
            cancelling = True
            cancel(jobs, project)
        for server in {job.server for job in jobs if not job.done}:
            try:
                finished = {j["id"] for j in server.list_jobs(project)["finished"]}
                unreachable[server] = 0
            except ScrapydError as exc:
                unreachable[server] += 1
                if unreachable[server] >= 5:
                    for job in jobs:
                        if job.server is server and not job.done:
                            job.problem, job.done = f"lost contact: {exc}", True
                continue
            for job in jobs:
                if job.server is server and job.job_id in finished:
                    job.done = True
        if time.monotonic() > deadline:
            for job in jobs:
                if not job.done:
                    job.problem, job.done = f"still running after {timeout:g} s; the run stopped waiting", True
        if not all(job.done for job in jobs):
            time.sleep(poll)


def cancel(jobs: list[Job], project: str) -> None:
    """Cancel the jobs not done: a pending one is done (it will not run), a running one stops as a
    local crawl does and records its outcome, so it is still waited for."""
    for job in jobs:
        if job.done or job.job_id is None:
            continue
        try:
            before = job.server.cancel(project, job.job_id)
        except ScrapydError as exc:  # it runs on; it is waited for all the same
            log.warning("%s: Scrapyd job %s not cancelled: %s", job.source_id, job.job_id, exc)
            continue
        log.info("%s: Scrapyd job %s cancelled (it was %s)", job.source_id, job.job_id, before or "finished")
        if before == "pending":
            job.cancelled = job.done = True
