"""`ropsfeed run --scrapyd URL…`: the sources of one run split across Scrapyd servers.

The coordinator does what a local run does around the crawl — per-source locks in the shared
database, skipped and interrupted runs recorded, stories assigned afterwards, reports read back
from crawl_runs — and hands the crawling itself to Scrapyd: one job per source, `schedule.json`
with the run's settings, `listjobs.json` polled until every job has finished.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

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
from db.store import sync_sources
from scrapers.registry import load_sources

log = logging.getLogger(__name__)


@dataclass
class Job:
    source_id: str
    server: Scrapyd
    job_id: str | None = None
    problem: str | None = None  # why it never ran or never finished
    done: bool = False


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
        wait_for(jobs, project, poll, timeout)
        locks.release(acquired)
        assign_stories_locked(database_url, locks)
    reports = reports_for(database_url, run_id, ids)
    explained = {job.source_id: job for job in jobs}
    for report in reports:
        job = explained.get(report.source_id)
        if job is not None and report.errors == ["the spider did not start"]:
            report.errors = [job.problem or "the Scrapyd job ended without recording its outcome; its log: "
                             + job.server.log_url(project, job.source_id, job.job_id or "?")]  # fmt: skip
    return reports


def wait_for(jobs: list[Job], project: str, poll: float, timeout: float) -> None:
    """Poll each server's listjobs.json until every job is finished (or the server is gone)."""
    deadline = time.monotonic() + timeout
    unreachable: dict[Scrapyd, int] = defaultdict(int)
    while not all(job.done for job in jobs):
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
