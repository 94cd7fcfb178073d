"""The `ropsfeed` command line (DESIGN.md §8 is its contract: keep names, flags and JSON stable)."""

from __future__ import annotations

from scrapers.heap import startup_heap

# every command's start: the imports build what lives as long as the process and leave no garbage
# for the collector to look for (scrapers/heap.py)
with startup_heap():
    import atexit
    import contextlib
    import inspect
    import os
    import sys
    import threading
    from enum import StrEnum
    from typing import Annotated, NoReturn

    import typer
    from sqlalchemy.exc import InterfaceError, OperationalError

    try:  # newer Typer carries its own copy of click's exceptions; older ones raise click's own
        from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
    except ImportError:  # pragma: no cover
        from click.exceptions import ClickException, NoArgsIsHelpError, UsageError  # type: ignore[no-redef]

    from aggregator.commands import (
        crawling,
        database,
        dates,
        dedup,
        digests,
        distributed,
        entities,
        export,
        feed,
        maintenance,
        mirror,
        operations,
        sources,
        web,
    )
    from aggregator.logs import configure_logging, redact
    from aggregator.notices import say_error
    from db.engine import DatabaseUnavailable, DatabaseUrlError, database_reason
    from scrapers.registry import RegistryError

app = typer.Typer(
    name="ropsfeed",
    help="Scrape, deduplicate and publish announcements of the Polish regional social-policy centres.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


class LogFormat(StrEnum):
    text = "text"
    json = "json"


def foreign_python(prefix: str | None = None) -> str | None:
    """Why this virtualenv runs with a Python it was not made with, or None.

    A venv names the Python it was made with (`home` in its pyvenv.cfg). When the user running it
    cannot read that Python — a venv made by root with root's pyenv under /root/, run by cron or
    systemd as the `ropsfeed` user — the interpreter does not stop: it takes the standard library
    of whatever Python it finds at its compiled-in prefix (the system's /usr/lib/python3.x), and the
    venv's packages run on another Python. On Debian 12 every CSS selector then failed to compile
    (soupsieve needs Python 3.11.5's re module, the system has 3.11.2): every article page of every
    source failed. Said before any command runs, it is one line about the installation."""
    prefix = prefix or sys.prefix
    try:
        with open(os.path.join(prefix, "pyvenv.cfg"), encoding="utf-8") as handle:
            settings = dict(line.partition("=")[::2] for line in handle if "=" in line)
    except OSError:
        return None  # not a venv
    home = next((v.strip() for k, v in settings.items() if k.strip() == "home"), "")
    if not home or os.access(home, os.X_OK):
        return None
    running = ".".join(map(str, sys.version_info[:3]))
    return (f"this virtualenv ({prefix}) was made with the Python in {home}, which this user cannot read: "
            f"it runs on another Python ({running}, {sys.base_prefix}) and fails; make it with a Python "
            "every user that runs ropsfeed can read (docs/operations.md, Installing)")  # fmt: skip


@app.callback()
def global_options(
    log_format: Annotated[
        LogFormat,
        typer.Option(
            "--log-format",
            envvar="ROPSFEED_LOG_FORMAT",
            help="Log lines on stderr: 'text' (for people) or 'json' (one object per line, for collectors).",
        ),
    ] = LogFormat.text,
) -> None:
    """Options that apply to every command (given before the command's name)."""
    try:
        configure_logging(log_format.value)
    except ValueError as exc:  # ROPSFEED_LOG_LEVEL
        say_error(str(exc))
        raise typer.Exit(2) from exc
    if problem := foreign_python():  # before any command runs; a JSON record with --log-format json
        say_error(problem)
        raise typer.Exit(2)


for module in (crawling, operations, distributed, mirror, sources, feed, export, database, maintenance, dates,
               entities, dedup, web, digests):  # fmt: skip
    module.register(app)


def one_line_summaries(group: typer.Typer) -> None:
    """Each command's help with its first paragraph on one line. Typer draws the command list in
    rich mode from the docstring's first paragraph with its line breaks kept (the command's own
    --help joins them), so `ropsfeed --help` listed "(with --alarm-exit," alone on a line, cut
    where the docstring's source line ended."""
    for info in group.registered_commands:
        doc = info.help or (inspect.getdoc(info.callback) if info.callback else None)
        if doc:
            first, *rest = doc.split("\n\n")
            info.help = "\n\n".join([" ".join(first.split()), *rest])
    for sub in group.registered_groups:
        if sub.typer_instance is not None:
            one_line_summaries(sub.typer_instance)


one_line_summaries(app)


def main() -> None:
    """The entry point: a database that is away, or a database URL that is none, is one clear line
    and exit status 2 (docs/operations.md), not a traceback."""
    try:
        # not standalone: click's own errors come back here, to be said like every other refusal
        status = app(standalone_mode=False)
    except NoArgsIsHelpError as exc:  # `ropsfeed` alone: the help, as before
        exc.show()
        sys.exit(exc.exit_code)
    except ClickException as exc:
        # "Invalid value for '--limit': 'abc' is not a valid integer." as one `error:` line (Typer
        # drew a box of several lines around it, wrapped at 80 columns), exit status 2
        hint = f" (see `{exc.ctx.command_path} --help`)" if isinstance(exc, UsageError) and exc.ctx else ""
        say_error(exc.format_message() + hint)
        sys.exit(exc.exit_code)
    except typer.Abort:  # Ctrl+C at a prompt
        sys.exit(1)
    except DatabaseUrlError as exc:
        say_error(redact(str(exc)))
        sys.exit(2)
    except RegistryError as exc:  # ROPSFEED_SOURCES names no file, or a broken one
        say_error(str(exc))
        sys.exit(2)
    except (DatabaseUnavailable, OperationalError, InterfaceError) as exc:
        say_error(f"database unavailable: {redact(database_reason(exc))}")
        sys.exit(2)
    sys.exit(status if type(status) is int else 0)  # a command's typer.Exit(N) comes back as N


def run() -> None:
    """The process's entry point (`ropsfeed`, `python -m aggregator.cli`): `main`, then a quick exit.

    Once a command has finished, the other threads are done and the exit handlers have run (logs
    flushed, the worker pool shut down), the interpreter would still free the whole heap object by
    object before the process ends: 0.6 s after a 5,000-page crawl (benchmarks/bench_crawl.py),
    which an operator's cron job waits for and nobody needs. This does what the interpreter's exit
    does up to that point, then ends the process. An exception other than SystemExit (a crash,
    Ctrl+C) takes the normal way out, traceback and all.
    """
    try:
        main()
        status: object = 0
    except SystemExit as exc:
        status = exc.code
    quick_exit(status)


def quick_exit(status: object) -> NoReturn:
    """`sys.exit(status)` without the interpreter's teardown (see `run`); the usual exit where this
    Python lacks the steps it repeats."""
    shutdown_threads = getattr(threading, "_shutdown", None)  # what the interpreter calls first
    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    if shutdown_threads is None or run_exit_handlers is None:
        sys.exit(status)
    if status is None:
        code = 0
    elif isinstance(status, int):
        code = status
    else:  # sys.exit("message"): printed, status 1, as the interpreter does
        print(status, file=sys.stderr)
        code = 1
    shutdown_threads()  # joins the threads that are not daemons (and the worker pool's manager)
    run_exit_handlers()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed pipe: nothing more to say anyway
            stream.flush()
    os._exit(code & 0xFF)


if __name__ == "__main__":
    run()
