"""`ropsfeed crawl` and `ropsfeed demo`."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from aggregator import stopping
from aggregator.notices import Notice, tell
from aggregator.options import AlarmExitOption, DbOption, MirrorOption, VerboseOption
from db.engine import database_url, session_scope

console = Console()
err_console = Console(stderr=True)


def crawl(
    source_ids: Annotated[list[str] | None, typer.Argument(help="Source ids (default: every enabled source).")] = None,
    mirror: MirrorOption = None,
    full: Annotated[
        bool, typer.Option("--full", help="Re-walk every listing page and re-fetch known articles.")
    ] = False,
    db: DbOption = None,
    verbose: VerboseOption = False,
    scrapyd: Annotated[
        list[str] | None,
        typer.Option("--scrapyd", metavar="URL", help="Run the spiders on these Scrapyd servers (repeatable)."),
    ] = None,
    alarm_exit: AlarmExitOption = False,
    accept_deletions: Annotated[
        bool,
        typer.Option(
            "--accept-deletions",
            help="With --full and named sources: mark every post missing from the complete REST listing "
            "as deleted, even more than the tombstone guard believes at once (after checking the site).",
        ),
    ] = False,
) -> None:
    """Crawl sources into the database; exit code 1 when any source had errors (with --alarm-exit,
    3 when none had but one raised a layout alarm)."""
    from scrapers.heap import startup_heap

    with startup_heap():  # (no garbage to collect among what the imports build)
        # Imported when the command runs (Scrapy, numpy, the parsers): every other command starts without them.
        from aggregator.crawl import run_crawl
        from aggregator.report import exit_status, publish

    url = database_url(db)
    stopped = 0
    try:
        if accept_deletions and (not source_ids or scrapyd):
            # a purge is confirmed for the sources the operator checked, never for all at once
            raise ValueError("--accept-deletions needs the source ids it applies to (and no --scrapyd)")
        # SIGTERM/SIGINT: it stores what it fetched (Scrapyd's jobs: cancelled, waited for) and skips
        # the story step (aggregator/stopping.py)
        with stopping.listening():
            if scrapyd:
                reports = on_scrapyd(source_ids or [], url, scrapyd, mirror, full)
            else:
                reports = run_crawl(source_ids or [], url, mirror=mirror, full=full, accept_deletions=accept_deletions,
                                    log_level="INFO" if verbose else "WARNING")  # fmt: skip
            stopped = stopping.exit_status()
    except ValueError as exc:
        # one line, as `run` says it (scripts read it; Rich would wrap it at 80 columns when piped)
        tell(err_console, Notice(f"error: {exc}", "error", logging.ERROR))
        raise typer.Exit(2) from exc
    publish(reports, "Crawl summary", console, err_console)
    if code := stopped or exit_status(reports, alarm_exit):
        raise typer.Exit(code)


def on_scrapyd(source_ids: list[str], url: str, servers: list[str], mirror: str | None, full: bool) -> list[Any]:
    """`crawl --scrapyd` and `run --scrapyd`; a Scrapyd error is a usage error like a bad source
    id. Imported here: every CLI start would pay for requests, which only this path uses."""
    from aggregator.scrapyd.client import ScrapydError
    from aggregator.scrapyd.dispatch import run_on_scrapyd

    try:
        return run_on_scrapyd(source_ids, url, servers, mirror=mirror, full=full)
    except ScrapydError as exc:
        raise ValueError(str(exc)) from exc


def demo(
    db: DbOption = None,
    out: Annotated[Path, typer.Option(help="Where to write the demo's output files.")] = Path("out"),
    verbose: VerboseOption = False,
) -> None:
    """Serve the bundled mirror, crawl every source from it, write the feeds and a digest preview, print a summary;
    exit code 1 when a source had errors, as `crawl` (the bundled mirror should never give one)."""
    from scrapers.heap import startup_heap

    with startup_heap():  # as in `crawl`
        from aggregator.crawl import run_crawl
        from aggregator.report import exit_status, publish

    url = database_url(db)
    started = time.monotonic()
    from aggregator.mail.settings import MailConfigError, check_mail_env

    try:  # the digest preview reads them: a malformed one was a traceback after the crawl
        check_mail_env()
    except MailConfigError as exc:
        tell(err_console, Notice(f"error: {exc}", "error", logging.ERROR))
        raise typer.Exit(2) from exc
    try:  # before the crawl: an --out that cannot be a folder was a traceback after it
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        tell(err_console, Notice(f"error: cannot create --out {out}: {exc.strerror or exc}", "error", logging.ERROR))
        raise typer.Exit(2) from exc
    # the mirror's HTTP server (http.server and the rest): every other command starts without it
    from scrapers.mirror.server import SNAPSHOT_DIR, BackgroundMirror

    with BackgroundMirror([SNAPSHOT_DIR]) as mirror:
        console.print(
            f"Offline mirror of {len(mirror.server.RequestHandlerClass.snapshot.hosts())} sites at {mirror.url}"
        )
        with stopping.listening():  # Ctrl+C: what was fetched is stored, the files are not written
            reports = run_crawl([], url, mirror=mirror.url, log_level="INFO" if verbose else "WARNING")
            stopped = stopping.exit_status()
    if stopped:
        publish(reports, "ropsfeed demo: crawl of the offline mirror", console, err_console)
        stopping.say_skipped("feeds and digest preview", err_console)
        raise typer.Exit(stopped)
    from aggregator.mail.jobs import write_preview  # the mail templates: only the demo needs them here

    written = [*write_feeds(url, out), write_preview(url, out / "digest-preview.html")]
    elapsed = time.monotonic() - started
    publish(reports, "ropsfeed demo: crawl of the offline mirror", console, err_console)
    stored = sum(r.new + r.updated + r.unchanged for r in reports)
    console.print(f"Feeds and digest preview: {', '.join(str(p) for p in written)}")
    console.print(f"Database: {url}  ·  announcements seen this run: {stored}  ·  wall time: {elapsed:.1f} s")
    console.print(f"Web page: ropsfeed serve{'' if db is None else f' --db {url}'}  →  http://127.0.0.1:8000/")
    if code := exit_status(reports, False):
        raise typer.Exit(code)


def write_feeds(url: str, out: Path) -> list[Path]:
    """The unified feed in every format, as `ropsfeed feed` prints it without filters."""
    from aggregator.feeds import FeedFilters, render, select_entries  # feedgen: not at every CLI start

    filters = FeedFilters(limit=200)
    with session_scope(url) as session:
        entries = select_entries(session, filters, content=True)
    paths = []
    for feed_format, name in (("atom", "feed.atom"), ("rss", "feed.rss"), ("json", "feed.json")):
        path = out / name
        path.write_text(render(entries, filters, feed_format), encoding="utf-8")
        paths.append(path)
    return paths


def register(app: typer.Typer) -> None:
    app.command()(crawl)
    app.command()(demo)
