"""Rendering crawl reports for people (Rich tables) and scripts (JSON)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from aggregator.crawl import SourceReport


def crawl_table(reports: Sequence[SourceReport], title: str = "Crawl summary") -> Table:
    table = Table(title=title)
    for column, justify in (("source", "left"), ("strategy", "left"), ("pages fetched", "right"),
                            ("new", "right"), ("updated", "right"), ("unchanged", "right"),
                            ("errors", "right"), ("status", "left")):  # fmt: skip
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for r in reports:
        status = "[green]ok[/]" if not r.failed else "[red]failed[/]"
        table.add_row(r.source_id, r.strategy or "-", str(r.pages_fetched), str(r.new), str(r.updated),
                      str(r.unchanged), str(len(r.errors)), status)  # fmt: skip
    if len(reports) > 1:
        table.add_row("[b]total[/]", "", str(sum(r.pages_fetched for r in reports)), str(sum(r.new for r in reports)),
                      str(sum(r.updated for r in reports)), str(sum(r.unchanged for r in reports)),
                      str(sum(len(r.errors) for r in reports)), "")  # fmt: skip
    return table


def print_problems(console: Console, reports: Sequence[SourceReport]) -> None:
    """One line per error and alarm, naming the source: what an operator greps for."""
    for r in reports:
        for error in r.errors:
            console.print(f"[red]error[/] {r.source_id}: {error}", highlight=False, soft_wrap=True)
        for alarm in r.alarms:
            if alarm not in r.errors:
                console.print(f"[yellow]alarm[/] {r.source_id}: {alarm}", highlight=False, soft_wrap=True)
