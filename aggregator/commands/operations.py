"""`ropsfeed run` (the scheduled job) and `ropsfeed status` (per-source health)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from aggregator import stopping
from aggregator.commands.crawling import on_scrapyd
from aggregator.notices import Notice, tell
from aggregator.options import AlarmExitOption, DbOption, MirrorOption, VerboseOption
from aggregator.status import ALARMING_AFTER, FAILING_AFTER, SourceStatus, source_statuses
from db.engine import database_url, session_scope
from db.migrate import ensure_schema

FailingAfterOption = Annotated[
    int,
    typer.Option(
        "--failing-after",
        min=1,
        help="Report a source loudly (ERROR log line, email to $ROPSFEED_ALERT_EMAIL) after N failed runs in a row.",
    ),
]
AlarmingAfterOption = Annotated[
    int,
    typer.Option(
        "--alarming-after",
        min=1,
        help="Report a source loudly (ERROR log line, email to $ROPSFEED_ALERT_EMAIL) after N runs in a row with a "
        "layout alarm.",
    ),
]
HEALTH_STYLE = {"ok": "green", "alarm": "yellow", "failed": "red", "failing": "bold red", "never": "dim"}
# What the "30 days" column counts (aggregator/status.py: items_30_days). It said "announcements
# stored", which reads as the source's total or as what its crawls stored lately: after a first
# crawl an operator saw 0 for a source with 7 announcements, none of them published lately.
CAPTION = ("failed, alarmed: runs in a row · 30 days: announcements published\n"
           "in the last 30 days (undated ones: first seen then)")  # fmt: skip


def run(
    mirror: MirrorOption = None,
    db: DbOption = None,
    verbose: VerboseOption = False,
    failing_after: FailingAfterOption = FAILING_AFTER,
    alarming_after: AlarmingAfterOption = ALARMING_AFTER,
    scrapyd: Annotated[
        list[str] | None,
        typer.Option("--scrapyd", metavar="URL", help="Run the spiders on these Scrapyd servers (repeatable)."),
    ] = None,
    alarm_exit: AlarmExitOption = False,
) -> None:
    """The scheduled job: crawl every enabled source, then send the due digests (when
    ROPSFEED_SMTP_URL is set); exit 1 when any source or digest failed (with --alarm-exit, 3 when
    none did but a source raised a layout alarm)."""
    url = database_url(db)
    err = Console(stderr=True)
    # SIGTERM/SIGINT: the crawl stops gracefully (Scrapyd's jobs are cancelled and waited for) and
    # the steps after it are skipped (aggregator/stopping.py)
    with stopping.listening():
        code = crawl_then_send(url, err, mirror, verbose, failing_after, alarming_after, scrapyd, alarm_exit)
    if code:
        raise typer.Exit(code)


def crawl_then_send(url: str, err: Console, mirror: str | None, verbose: bool, failing_after: int,
                    alarming_after: int, scrapyd: list[str] | None, alarm_exit: bool) -> int:  # fmt: skip
    """`run`'s steps, each skipped once the run was asked to stop; its exit status."""
    from aggregator.alerts import report_problems
    from aggregator.crawl import run_crawl
    from aggregator.mail.settings import MailConfigError, check_mail_env
    from aggregator.report import EXIT_FAILED, exit_status, publish

    try:
        # the mail settings that are set, before the crawl: a malformed one was found only after
        # it, when a digest was due or an alert mailed (a MailConfigError is a ValueError: exit 2)
        check_mail_env()
        if scrapyd:
            reports = on_scrapyd([], url, scrapyd, mirror, False)
        else:
            reports = run_crawl([], url, mirror=mirror, log_level="INFO" if verbose else "WARNING")
    except ValueError as exc:
        tell(err, Notice(f"error: {exc}", "error", logging.ERROR))
        return 2
    publish(reports, "ropsfeed run", Console(), err, failed=True)
    if stopping.asked():  # the failing sources are reported, and the digests sent, by the next run
        for step in ("alerts", "digests"):
            stopping.say_skipped(step, err)
        return stopping.exit_status()
    with session_scope(url) as session:
        statuses = source_statuses(session, failing_after=failing_after)
    failing, alarming = report_problems(url, statuses, failing_after, alarming_after)
    name_them(err, failing, failing_after, alarming, alarming_after)
    from aggregator.mail.jobs import log_to_stderr, send_after_crawl  # jinja2: not at every CLI start

    log_to_stderr()
    if stopping.asked():  # during the alerts
        stopping.say_skipped("digests", err)
        return stopping.exit_status()
    try:
        digests = send_after_crawl(url, echo=lambda line: None, stop=stopping.asked)
    except MailConfigError as exc:
        tell(err, Notice(f"FAILED digests: {exc}", "failed", logging.ERROR))
        return EXIT_FAILED
    for error in digests.errors if digests else ():
        tell(err, Notice(f"FAILED digest {error}", "failed", logging.ERROR))
    if digests and digests.aborted:
        tell(err, Notice(f"FAILED digests: {digests.aborted}", "failed", logging.ERROR))
    if stopping.asked():  # during the digests: those not sent wait for the next run
        stopping.say_skipped("the rest of the digests", err)
        return stopping.exit_status()
    return EXIT_FAILED if digests and digests.failed else exit_status(reports, alarm_exit)


def status(
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per source, one per line.")] = False,
    failing_after: FailingAfterOption = FAILING_AFTER,
    alarming_after: AlarmingAfterOption = ALARMING_AFTER,
) -> None:
    """Per source: last success, last failure and why, announcements published in the last 30 days, alarms."""
    from aggregator.alerts import report_problems  # the alert mail (feedgen): not at every CLI start

    url = database_url(db)
    ensure_schema(url)
    with session_scope(url) as session:
        statuses = source_statuses(session, failing_after=failing_after)
    failing, alarming = report_problems(url, statuses, failing_after, alarming_after)
    if as_json:
        for s in statuses:
            typer.echo(json.dumps(s.as_json(), ensure_ascii=False))
        return
    # One row per source that fits 80 columns, ids, states and times whole (in 80 columns the old
    # table cut "rops-szczecin" and "rops-szczecin-es" both to "rops-szc…"); the last error or
    # alarm, a long line with a URL, goes below the table, one line per source that has one.
    table = Table(title="ropsfeed status", box=box.SIMPLE_HEAD, pad_edge=False, caption=CAPTION)
    table.add_column("source", no_wrap=True, min_width=max((len(s.source_id) for s in statuses), default=6))
    table.add_column("health", no_wrap=True)
    table.add_column("last success (UTC)", no_wrap=True)
    for column in ("failed", "alarmed", "30 days"):
        table.add_column(column, justify="right", no_wrap=True)
    notes = []
    for s in statuses:
        when = s.last_success.strftime("%Y-%m-%d %H:%M") if s.last_success else "never"
        style = HEALTH_STYLE[s.health]
        table.add_row(s.source_id, f"[{style}]{s.health}[/]", when, str(s.consecutive_failures),
                      str(s.consecutive_alarms), str(s.items_30_days))  # fmt: skip
        if s.health in ("failed", "failing") and s.last_error:
            notes.append(Text.assemble((s.source_id, "bold"), " last error: ", s.last_error))
        elif s.alarms:
            notes.append(Text.assemble((s.source_id, "bold"), " alarms: ", "; ".join(s.alarms)))
        # what the next crawl does about what earlier ones lost (docs/operations.md)
        if s.failed_pages:
            notes.append(Text(f"{s.source_id}: the next crawl asks again for {s.failed_pages} article(s) that failed"))
        if s.walk_listings:
            notes.append(Text(f"{s.source_id}: the next crawl walks every listing page: {s.walk_listings}"))
    out = Console()
    out.print(table)
    for note in notes:  # Text, not markup: an error may hold brackets
        out.print(note, soft_wrap=True, highlight=False)
    name_them(Console(stderr=True), failing, failing_after, alarming, alarming_after)


def name_them(
    err: Console,
    failing: Sequence[SourceStatus],
    failing_after: int,
    alarming: Sequence[SourceStatus],
    alarming_after: int,
) -> None:
    """One line naming every failing source, one naming every alarming one (docs/operations.md):
    after `status`'s table, and after `run`'s."""
    if failing:
        tell(err, Notice(f"{len(failing)} source(s) failed {failing_after}+ runs in a row: "
                         f"{', '.join(s.source_id for s in failing)}", "failing", logging.ERROR))  # fmt: skip
    if alarming:
        tell(err, Notice(f"{len(alarming)} source(s) raised a layout alarm {alarming_after}+ runs in a row: "
                         f"{', '.join(s.source_id for s in alarming)}", "alarming", logging.ERROR))  # fmt: skip


def register(app: typer.Typer) -> None:
    app.command()(run)
    app.command()(status)
