"""`ropsfeed db upgrade`."""

from __future__ import annotations

import typer

from aggregator.options import DbOption
from db.engine import database_url
from db.migrate import upgrade as alembic_upgrade

db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)


@db_app.command()
def upgrade(db: DbOption = None) -> None:
    """Bring the database schema to the newest revision (every command also does this by itself)."""
    url = database_url(db)
    revision = alembic_upgrade(url)
    typer.echo(f"{url}: schema at revision {revision}")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
