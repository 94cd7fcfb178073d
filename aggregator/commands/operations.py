"""`ropsfeed run` (the scheduled job) and `ropsfeed status` (per-source health)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from aggregator.commands.crawling import on_scrapyd
from aggregator.options import DbOption, VerboseOption
from aggregator.status import FAILING_AFTER, source_statuses
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
HEALTH_STYLE = {"ok": "green", "alarm": "yellow", "failed": "red", "failing": "bold red", "never": "dim"}


def run(
    mirror: Annotated[str | None, typer.Option(help="Crawl this mirror instead of the live sites.")] = None,
    db: DbOption = None,
    verbose: VerboseOption = False,
    failing_after: FailingAfterOption = FAILING_AFTER,
    scrapyd: Annotated[
        list[str] | None,
        typer.Option("--scrapyd", metavar="URL", help="Run the spiders on these Scrapyd servers (repeatable)."),
    ] = None,
) -> None:
    """The scheduled job: crawl every enabled source, then send the due digests (when
    ROPSFEED_SMTP_URL is set); exit 1 when any source or digest failed."""
    # Imported when the command runs (Scrapy, numpy; the alert mail's feedgen): every other command starts without them.
    from aggregator.alerts import report_failing
    from aggregator.crawl import run_crawl
    from aggregator.mail.settings import MailConfigError
    from aggregator.report import crawl_table, print_problems

    url = database_url(db)
    try:
        if scrapyd:
            reports = on_scrapyd([], url, scrapyd, mirror, False)
        else:
            reports = run_crawl([], url, mirror=mirror, log_level="INFO" if verbose else "WARNING")
    except ValueError as exc:
        Console(stderr=True).print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from exc
    Console().print(crawl_table(reports, title="ropsfeed run"))
    failed = [r for r in reports if r.failed]
    err = Console(stderr=True)
    print_problems(err, reports)
    for report in failed:
        first = report.errors[0] if report.errors else "failed"
        typer.echo(
            f"FAILED {report.source_id}: {first}"
            + (f" (+{len(report.errors) - 1} more)" if len(report.errors) > 1 else ""),
            err=True,
        )
    with session_scope(url) as session:
        statuses = source_statuses(session, failing_after=failing_after)
    report_failing(url, statuses, failing_after)
    from aggregator.mail.jobs import log_to_stderr, send_after_crawl  # jinja2: not at every CLI start

    log_to_stderr()
    try:
        digests = send_after_crawl(url, echo=lambda line: None)
    except MailConfigError as exc:
        typer.echo(f"FAILED digests: {exc}", err=True)
        raise typer.Exit(1) from exc
    for error in digests.errors if digests else ():
        typer.echo(f"FAILED digest {error}", err=True)
    if digests and digests.aborted:
        typer.echo(f"FAILED digests: {digests.aborted}", err=True)
    if failed or (digests and digests.failed):
        raise typer.Exit(1)


def status(
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per source, one per line.")] = False,
    failing_after: FailingAfterOption = FAILING_AFTER,
) -> None:
    """Per source: last success, last failure and why, items in the last 30 days, alarms."""
    from aggregator.alerts import report_failing  # the alert mail (feedgen): not at every CLI start

    url = database_url(db)
    ensure_schema(url)
    with session_scope(url) as session:
        statuses = source_statuses(session, failing_after=failing_after)
    report_failing(url, statuses, failing_after)
    if as_json:
        for s in statuses:
            typer.echo(json.dumps(s.as_json(), ensure_ascii=False))
        return
    table = Table(title="ropsfeed status")
    for column in ("source", "health", "last success", "failures in a row", "items (30 days)", "last error / alarm"):
        table.add_column(column)
    for s in statuses:
        when = s.last_success.strftime("%Y-%m-%d %H:%M UTC") if s.last_success else "never"
        note = s.last_error if s.consecutive_failures else ("; ".join(s.alarms) or "")
        style = HEALTH_STYLE[s.health]
        table.add_row(s.source_id, f"[{style}]{s.health}[/]", when, str(s.consecutive_failures),
                      str(s.items_30_days), note or "")  # fmt: skip
    Console().print(table)
    failing = [s.source_id for s in statuses if s.health == "failing"]
    if failing:
        typer.echo(f"{len(failing)} source(s) failed {failing_after}+ runs in a row: {', '.join(failing)}", err=True)


def register(app: typer.Typer) -> None:
    app.command()(run)
    app.command()(status)
