"""`ropsfeed sources`: the registry with each source's last run."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from aggregator.options import DbOption
from db.engine import database_url, session_scope
from db.migrate import ensure_schema
from db.models import CrawlRun
from scrapers.registry import load_sources


def sources(
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")] = False,
) -> None:
    """List the sources: id, institution, voivodeship, platform, last run."""
    url = database_url(db)
    ensure_schema(url)
    with session_scope(url) as session:
        latest = select(CrawlRun.source_id, func.max(CrawlRun.id).label("id")).group_by(CrawlRun.source_id).subquery()
        runs = {r.source_id: r for r in session.scalars(select(CrawlRun).join(latest, CrawlRun.id == latest.c.id))}
    rows = []
    for s in load_sources():
        run = runs.get(s.id)
        rows.append({
            "id": s.id, "institution": s.institution, "voivodeship": s.voivodeship, "platform": s.platform,
            "base_url": s.base_url, "verified": s.verified, "enabled": s.enabled,
            "last_run": run.finished_at.isoformat() if run and run.finished_at else None,
            "last_status": run.status if run else None,
        })  # fmt: skip
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row, ensure_ascii=False))
        return
    # ids, voivodeships and platforms whole (in 80 columns "rops-rzeszo…" was either of two sources);
    # the institution's name and the last run wrap between words. Piped or mailed (no terminal to
    # ask), the table takes 120 columns, not Rich's default of 80, which cannot hold it.
    table = Table(title="ropsfeed sources", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("id", no_wrap=True, min_width=max((len(row["id"]) for row in rows), default=2))
    table.add_column("institution", min_width=12)
    for column in ("voivodeship", "platform", "verified"):
        table.add_column(column, no_wrap=True)
    table.add_column("last run (UTC)")
    for row in rows:
        last = f"{row['last_run'][:16].replace('T', ' ')} {row['last_status']}" if row["last_run"] else "never"
        table.add_row(row["id"], row["institution"], row["voivodeship"], row["platform"],
                      "yes" if row["verified"] else "no", last)  # fmt: skip
    console = Console()
    if not console.is_terminal:
        console.width = 120
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command()(sources)
