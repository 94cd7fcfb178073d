"""`ropsfeed subscribers add|list|remove` and `ropsfeed digest send` (DESIGN.md §8)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from aggregator.choices import FREQUENCIES, WEEKDAYS
from aggregator.notices import say_error
from aggregator.options import DbOption
from db.engine import database_url, session_scope
from db.migrate import ensure_schema

subscribers_app = typer.Typer(help="Digest subscribers (an operator's add is confirmed at once).",
                              no_args_is_help=True)  # fmt: skip
digest_app = typer.Typer(help="Email digests.", no_args_is_help=True)
# aggregator.mail's modules (email_validator; settings: the feed's feedgen; send and jobs: the templates,
# jinja2) are imported by the commands that use them: every `ropsfeed` start, a crawl's too, would pay for them


def _fail(message: str, code: int = 2) -> typer.Exit:
    say_error(message)
    return typer.Exit(code)


@subscribers_app.command("add")
def add(
    email: Annotated[str, typer.Argument(help="The subscriber's address.")],
    frequency: Annotated[str, typer.Option(help=f"One of: {', '.join(FREQUENCIES)}.")] = "daily",
    weekday: Annotated[
        str | None, typer.Option(help=f"For weekly digests: {', '.join(WEEKDAYS)} (default monday).")
    ] = None,
    voivodeship: Annotated[list[str] | None, typer.Option(help="Repeatable: mazowieckie, podlaskie, …")] = None,
    source: Annotated[list[str] | None, typer.Option(help="Repeatable source id (see `ropsfeed sources`).")] = None,
    entity: Annotated[
        list[str] | None,
        typer.Option(help="Repeatable institution: entity key, acronym or name (any case, diacritics, inflection)."),
    ] = None,
    keyword: Annotated[
        list[str] | None, typer.Option(help="Repeatable; a story matches any keyword whose words all occur.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Add a subscriber, or update the settings of an existing address; confirmed at once."""
    from aggregator.mail.subscribers import DigestSettings, SubscriberError, parse_weekday, subscribe

    try:
        settings = DigestSettings(
            frequency=frequency,
            weekday=parse_weekday(weekday) if weekday is not None else None,
            voivodeships=tuple(voivodeship or ()),
            sources=tuple(source or ()),
            entities=tuple(entity or ()),
            keywords=tuple(keyword or ()),
        )
        if weekday is not None and frequency != "weekly":
            raise SubscriberError("--weekday only applies to --frequency weekly")
        url = database_url(db)
        ensure_schema(url)
        with session_scope(url, write=True) as session:
            subscriber, created = subscribe(session, email, settings, confirmed=True)
            address = subscriber.email
    except SubscriberError as exc:
        raise _fail(str(exc)) from exc
    typer.echo(f"{'added' if created else 'updated'} {address}")


@subscribers_app.command("list")
def list_subscribers(
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per subscriber, one per line.")] = False,
) -> None:
    """Every subscriber with their state, frequency and filters."""
    from aggregator.mail.send import MAX_BOUNCES
    from aggregator.mail.subscribers import DigestSettings, all_subscribers, state

    url = database_url(db)
    ensure_schema(url)
    with session_scope(url) as session:
        rows = all_subscribers(session)
    for s in rows:
        record = {
            "email": s.email,
            "state": state(s, MAX_BOUNCES),
            **DigestSettings.of(s).as_json(),
            "created_at": s.created_at.isoformat(),
            "confirmed_at": s.confirmed_at.isoformat() if s.confirmed_at else None,
            "unsubscribed_at": s.unsubscribed_at.isoformat() if s.unsubscribed_at else None,
            "last_digest_at": s.last_digest_at.isoformat() if s.last_digest_at else None,
            "bounce_count": s.bounce_count,
            "last_bounce": s.last_bounce,
        }
        if as_json:
            typer.echo(json.dumps(record, ensure_ascii=False))
            continue
        filters = "; ".join(f"{k}: {', '.join(v)}" for k in ("voivodeships", "sources", "entities", "keywords")
                            if (v := record[k]))  # fmt: skip
        when = f" {WEEKDAYS[s.weekday]}" if s.frequency == "weekly" and s.weekday is not None else ""
        typer.echo(f"{s.email}\t{record['state']}\t{s.frequency}{when}\t{filters or 'everything'}")
    if not rows and not as_json:
        typer.echo("no subscribers")


@subscribers_app.command("remove")
def remove_subscriber(email: Annotated[str, typer.Argument()], db: DbOption = None) -> None:
    """Delete a subscriber and the record of what they were sent."""
    from aggregator.mail.subscribers import SubscriberError, remove

    url = database_url(db)
    ensure_schema(url)
    try:
        with session_scope(url, write=True) as session:
            removed = remove(session, email)
    except SubscriberError as exc:
        raise _fail(str(exc)) from exc
    if not removed:
        raise _fail(f"no subscriber {email!r}", 1)
    typer.echo(f"removed {email}")


@digest_app.command("send")
def send(
    frequency: Annotated[str | None, typer.Option(help=f"Only {' or '.join(FREQUENCIES)} subscribers.")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would be sent; send and record nothing.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Send each due subscriber one digest of the stories they have not received (exit 1 on failures)."""
    if frequency is not None and frequency not in FREQUENCIES:
        raise _fail(f"frequency must be one of {', '.join(FREQUENCIES)}")
    from aggregator import stopping
    from aggregator.mail.jobs import log_to_stderr
    from aggregator.mail.send import send_digests
    from aggregator.mail.settings import MailConfigError, mail_settings

    log_to_stderr()
    try:
        settings = mail_settings(
            require_secret=not dry_run, secret_fallback="dry-run" if dry_run else None, preview=dry_run
        )
        # SIGTERM/Ctrl+C, as in `run`: the digest on its way is sent and recorded, no other begun (the
        # signal's default ended the process mid-send: a digest the relay took but not recorded as
        # delivered went out again the next time)
        with stopping.listening():
            report = send_digests(database_url(db), settings, frequency=frequency, dry_run=dry_run,
                                  echo=typer.echo, stop=stopping.asked)  # fmt: skip
            stopped, why = stopping.exit_status(), stopping.reason()
    except MailConfigError as exc:
        raise _fail(str(exc)) from exc
    if dry_run:
        typer.echo(f"dry run: {report.sent} digest(s) with {report.stories} story(ies) would be sent, "
                   f"{report.empty} subscriber(s) have nothing new; nothing sent or recorded", err=True)  # fmt: skip
    else:
        typer.echo(report.summary(), err=True)
    for error in report.errors:
        typer.echo(f"FAILED {error}", err=True)
    if stopped:
        typer.echo(f"skipped the rest of the digests: {why}", err=True)
        raise typer.Exit(stopped)
    if report.failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(subscribers_app, name="subscribers")
    app.add_typer(digest_app, name="digest")
