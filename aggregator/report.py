"""Rendering crawl reports for people (Rich tables, one line per problem) and for JSON-lines logs,
and the exit status they give `crawl` and `run`."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from aggregator.crawl import SourceReport
from aggregator.logs import json_lines
from aggregator.notices import Notice, log, tell

EXIT_FAILED = 1  # a source failed (or, for `run`, a digest)
EXIT_ALARMS = 3  # no source failed, but one raised a layout alarm: its data may be missing


def exit_status(reports: Sequence[SourceReport], alarm_exit: bool = False) -> int:
    """0, EXIT_FAILED, or with `alarm_exit` (`--alarm-exit`) EXIT_ALARMS (docs/operations.md). A
    failure outranks an alarm; a source skipped because another run crawls it is neither.

    Alarms alone exit 0 unless asked: DESIGN.md §8 promises a non-zero status when a source
    failed, and scripts and units built on it would count every alarm night (a feed the registry
    names that the site dropped, a purge the tombstone guard holds back) as a failed run. The
    alarms reach the operator anyway: `status` and the alert mail once they repeat."""
    if any(r.failed for r in reports):
        return EXIT_FAILED
    return EXIT_ALARMS if alarm_exit and any(r.alarmed for r in reports) else 0


def crawl_table(reports: Sequence[SourceReport], title: str = "Crawl summary") -> Table:
    table = Table(title=title, caption="via: REST API, RSS feed or HTML listings · upd.: edited · same: unchanged")
    longest = max((len(r.source_id) for r in reports), default=6)
    table.add_column("source", no_wrap=True, min_width=max(6, longest))
    table.add_column("via", no_wrap=True)  # the strategy: wp-api, rss, html
    for column in ("pages", "new", "upd.", "same", "err."):  # short: the table must fit 80 columns
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("status", no_wrap=True)
    for r in reports:
        status = "[red]failed[/]" if r.failed else (f"[yellow]{r.status}[/]" if r.skipped or r.stopped else
                                                    "[yellow]alarm[/]" if r.alarmed else "[green]ok[/]")  # fmt: skip
        table.add_row(r.source_id, r.strategy or "-", str(r.pages_fetched), str(r.new), str(r.updated),
                      str(r.unchanged), str(len(r.errors)), status)  # fmt: skip
    if len(reports) > 1:
        table.add_row("[b]total[/]", "", str(sum(r.pages_fetched for r in reports)), str(sum(r.new for r in reports)),
                      str(sum(r.updated for r in reports)), str(sum(r.unchanged for r in reports)),
                      str(sum(len(r.errors) for r in reports)), "")  # fmt: skip
    return table


def problems(reports: Sequence[SourceReport]) -> list[Notice]:
    """One line per error and alarm (and per source whose pages were deleted or came back), naming
    the source: what an operator greps for."""
    found = []
    for r in reports:
        if r.deleted or r.restored:
            found.append(Notice(f"deleted {r.source_id}: {r.deleted} page(s) gone from the site (kept as tombstones), "
                                f"{r.restored} restored", "deleted", source=r.source_id))  # fmt: skip
        if r.stopped:  # its one "error" is why it ended early: not the site's
            found += [Notice(f"stopped {r.source_id}: {error}", "stopped", source=r.source_id) for error in r.errors]
        else:
            found += [Notice(f"error {r.source_id}: {e}", "error", logging.ERROR, r.source_id) for e in r.errors]
        for alarm in r.alarms:
            if r.skipped:
                found.append(Notice(f"skipped {r.source_id}: {alarm.removeprefix('skipped: ')}", "skipped",
                                    source=r.source_id))  # fmt: skip
            elif alarm not in r.errors:
                found.append(Notice(f"alarm {r.source_id}: {alarm}", "alarm", source=r.source_id))
    return found


def failures(reports: Sequence[SourceReport]) -> list[Notice]:
    """`run`'s contract: one `FAILED <source>: <first error>` line per failed source."""
    found = []
    for r in reports:
        if r.failed:
            first = r.errors[0] if r.errors else "failed"
            more = f" (+{len(r.errors) - 1} more)" if len(r.errors) > 1 else ""
            found.append(Notice(f"FAILED {r.source_id}: {first}{more}", "failed", logging.ERROR, r.source_id))
    return found


def publish(reports: Sequence[SourceReport], title: str, out: Console, err: Console, *, failed: bool = False) -> None:
    """A crawl's outcome: the summary table on `out` and one line per problem on `err` (then, with
    `failed`, one FAILED line per failed source). With JSON-lines logging the table is one INFO
    record per source instead (`event` "crawled", its numbers in `crawl`), and stdout stays empty:
    the crontab sends stdout and stderr to the same JSON-lines file."""
    if json_lines():
        for r in reports:
            log.info("%s: %s via %s: %d pages, %d new, %d updated, %d unchanged, %d errors, %d alarms", r.source_id,
                     "skipped" if r.skipped else r.status, r.strategy or "-", r.pages_fetched, r.new, r.updated,
                     r.unchanged, len(r.errors), len(r.alarms),
                     extra={"source": r.source_id, "event": "crawled", "crawl": crawl_numbers(r)})  # fmt: skip
    else:
        out.print(crawl_table(reports, title=title))
    for notice in [*problems(reports), *(failures(reports) if failed else [])]:
        tell(err, notice)


def crawl_numbers(r: SourceReport) -> dict[str, object]:
    return {"status": r.status, "via": r.strategy, "requests": r.requests, "pages": r.pages_fetched, "new": r.new,
            "updated": r.updated, "unchanged": r.unchanged, "deleted": r.deleted, "restored": r.restored,
            "errors": len(r.errors), "alarms": len(r.alarms)}  # fmt: skip
