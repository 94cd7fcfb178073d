"""`ropsfeed deploy --scrapyd URL…`: the project egg uploaded to Scrapyd servers."""

from __future__ import annotations

from configparser import ConfigParser
from typing import Annotated

import typer

from aggregator.notices import say_error
from aggregator.scrapyd.egg import ROOT, EggBuildError, build_egg, default_version, project_name

ScrapydOption = Annotated[
    list[str] | None,
    typer.Option(
        "--scrapyd",
        metavar="URL",
        # escaped: Rich would read [deploy] as a style and --help said "the url of scrapy.cfg's ."
        help="A Scrapyd server (repeat the option for several); default: the url of scrapy.cfg's \\[deploy].",
    ),
]


def configured_targets() -> list[str]:
    config = ConfigParser()
    config.read(ROOT / "scrapy.cfg")
    return [config.get(section, "url") for section in config.sections()
            if section.split(":")[0] == "deploy" and config.has_option(section, "url")]  # fmt: skip


def deploy(
    scrapyd: ScrapydOption = None,
    version: Annotated[str | None, typer.Option(help="Egg version (default: the UTC time, YYYYMMDDHHMMSS).")] = None,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Accepted like on every command; the spiders get theirs from `crawl`/`run`."),
    ] = None,
) -> None:
    """Build the project egg and upload it to every Scrapyd server (addversion.json)."""
    del db  # DESIGN.md §8: every command accepts --db; deploying the code needs none
    from aggregator.scrapyd.client import Scrapyd, ScrapydError  # requests: only here, not at every CLI start

    servers = scrapyd or configured_targets()
    if not servers:
        say_error("no Scrapyd server: give --scrapyd URL or a [deploy] url in scrapy.cfg")
        raise typer.Exit(2)
    version = version or default_version()
    project = project_name()
    try:
        egg = build_egg(version, project)
    except EggBuildError as exc:
        say_error(str(exc))
        raise typer.Exit(2) from exc
    failed = False
    for url in servers:
        try:
            client = Scrapyd(url)
            spiders = client.add_version(project, version, egg)
        except ScrapydError as exc:
            typer.echo(f"FAILED {url}: {exc}", err=True)
            failed = True
            continue
        typer.echo(f"{client}: {project} {version} deployed ({spiders} spiders, {len(egg) // 1024} KiB egg)")
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(deploy)
