"""Rendering crawl reports for people (Rich tables) and scripts (JSON)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from aggregator.crawl import SourceReport


def crawl_table(reports: Sequence[SourceReport], title: str = "Crawl summary") -> Table:
    table = Table(title=title, caption="via: REST API, RSS feed or HTML listings · upd.: edited · same: unchanged")
    longest = max((len(r.source_id) for r in reports), default=6)
    table.add_column("source", no_wrap=True, min_width=max(6, longest))
    table.add_column("via", no_wrap=True)  # the strategy: wp-api, rss, html
    for column in ("pages", "new", "upd.", "same", "err."):  # short: the table must fit 80 columns
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("status", no_wrap=True)
    for r in reports:
        status = "[red]failed[/]" if r.failed else ("[yellow]skipped[/]" if r.skipped else "[green]ok[/]")
        table.add_row(r.source_id, r.strategy or "-", str(r.pages_fetched), str(r.new), str(r.updated),
                      str(r.unchanged), str(len(r.errors)), status)  # fmt: skip
    if len(reports) > 1:
        table.add_row("[b]total[/]", "", str(sum(r.pages_fetched for r in reports)), str(sum(r.new for r in reports)),
                      str(sum(r.updated for r in reports)), str(sum(r.unchanged for r in reports)),
                      str(sum(len(r.errors) for r in reports)), "")  # fmt: skip
    return table


def print_problems(console: Console, reports: Sequence[SourceReport]) -> None:
    """One line per error and alarm (and per source whose pages were deleted or came back), naming
    the source: what an operator greps for."""
    for r in reports:
        if r.deleted or r.restored:
            console.print(f"[yellow]deleted[/] {r.source_id}: {r.deleted} page(s) gone from the site (kept as "
                          f"tombstones), {r.restored} restored", highlight=False, soft_wrap=True)  # fmt: skip
        for error in r.errors:
            console.print(f"[red]error[/] {r.source_id}: {error}", highlight=False, soft_wrap=True)
        for alarm in r.alarms:
            if r.skipped:
                console.print(f"[yellow]skipped[/] {r.source_id}: {alarm.removeprefix('skipped: ')}",
                              highlight=False, soft_wrap=True)  # fmt: skip
            elif alarm not in r.errors:
                console.print(f"[yellow]alarm[/] {r.source_id}: {alarm}", highlight=False, soft_wrap=True)
