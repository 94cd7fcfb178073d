"""Digests sent through a real SMTP server: content, headers, multipart structure, filters, empty
periods, exactly-once delivery across failures and concurrent runs, header injection."""

from __future__ import annotations

import re
import threading
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from aggregator.mail.send import send_digests
from aggregator.mail.subscribers import DigestSettings, subscribe
from aggregator.mail.tokens import read_unsubscribe_token
from db.engine import session_scope
from db.models import Announcement, AnnouncementVersion, Delivery, Subscriber
from tests.aggregator.mail.conftest import NOW, SECRET, SmtpServer, add_story, mention


def subscribers(url: str, **people: DigestSettings) -> None:
    with session_scope(url, write=True) as session:
        for local, settings in people.items():
            subscribe(session, f"{local}@example.org", settings, confirmed=True)


def deliveries(url: str) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(Delivery)) or 0


def quiet(_: str) -> None:
    pass


def test_digest_content_headers_and_structure(database: str, smtp_server: SmtpServer, mail_settings) -> None:
    with session_scope(database, write=True) as session:
        add_story(
            session,
            source_id="mcps",
            title="Nabór ofert w konkursie „Mazowsze dla seniorów”",
            lead="Mazowieckie Centrum Polityki Społecznej ogłasza <b>otwarty</b> konkurs ofert & zaprasza.",
            attachments=2,
            also=("mazovia",),
            published=NOW - timedelta(hours=3),
            dates=((date(2026, 12, 20), None, "until"), (date(2027, 1, 12), date(2027, 1, 13), "range")),
        )
        add_story(
            session,
            source_id="rops-bialystok",
            title="Szkolenie dla asystentów rodziny",
            lead="Zapraszamy na szkolenie.",
            published=NOW - timedelta(hours=10),
        )
        add_story(session, source_id="mcps-es", title="Targi ekonomii społecznej", published=NOW - timedelta(hours=5))
    subscribers(database, anna=DigestSettings())
    report = send_digests(database, mail_settings, now=NOW, echo=quiet)
    assert (report.sent, report.stories, report.failed) == (1, 3, False)
    [message] = smtp_server.handler.parsed()
    assert smtp_server.handler.recipients() == ["anna@example.org"]
    assert message["Subject"] == "ropsfeed: 3 nowe ogłoszenia (6–7 grudnia 2026)"
    assert message["From"] == "ropsfeed <digest@ropsfeed.example.org>"
    assert message["Message-ID"].endswith("@ropsfeed.example.org>") and message["Date"]
    assert message["List-Id"] == "ropsfeed digest <digest.ropsfeed.example.org>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    web, mailto = (part.strip().strip("<>") for part in message["List-Unsubscribe"].split(","))
    assert web.startswith("https://ropsfeed.example.org/unsubscribe/")
    assert mailto.startswith("mailto:digest@ropsfeed.example.org?subject=unsubscribe%20")
    with session_scope(database) as session:
        anna = session.scalar(select(Subscriber))
        assert read_unsubscribe_token(SECRET, web.rsplit("/", 1)[1]) == (anna.id, "anna@example.org")
        assert anna.last_digest_at == NOW
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    # grouped by voivodeship in the order of their newest story, newest first inside a group
    assert text.index("Województwo mazowieckie") < text.index("Województwo podlaskie")
    assert text.index("Nabór ofert") < text.index("Targi ekonomii") < text.index("Szkolenie dla")
    flat = " ".join(text.split())  # as read: the text part is wrapped
    assert "Mazowieckie Centrum Polityki Społecznej, Urząd Marszałkowski Województwa Mazowieckiego" in flat
    assert "7 grudnia 2026 · 2 załączniki" in flat
    assert "Terminy: do 20 grudnia 2026; 12–13 stycznia 2027" in flat
    assert "ogłasza otwarty konkurs ofert & zaprasza." in flat, "markup stripped from the lead"
    assert "https://mcps.example.pl/" in text and web in text
    assert "ogłasza otwarty konkurs ofert &amp; zaprasza." in html and "<b>" not in html
    assert "„Mazowsze dla seniorów”" in html and "<style" not in html and 'style="' in html, "CSS inlined"
    assert f'href="{web}"' in html
    assert deliveries(database) == 3
    again = send_digests(database, mail_settings, now=NOW + timedelta(days=1), echo=quiet)
    assert (again.sent, again.empty) == (0, 1) and len(smtp_server.handler.messages) == 1, "nothing twice"


def test_filters_choose_the_stories(database: str, smtp_server: SmtpServer, mail_settings) -> None:
    with session_scope(database, write=True) as session:
        add_story(session, source_id="mcps", title="Dotacje dla organizacji pozarządowych")
        add_story(session, source_id="rops-bialystok", title="Łódzkie spotkanie? Nie: Białystok, ekonomia społeczna")
        fundacja = add_story(
            session,
            source_id="rops-krakow",
            title="Konkurs grantowy",
            lead="Fundacja Pomocy Wzajemnej „Barka” zaprasza.",
        )
        mention(session, fundacja, "fundacja-barka", "Fundacja Pomocy Wzajemnej „Barka”", "FPW")
    subscribers(
        database,
        podlasie=DigestSettings(voivodeships=("podlaskie",)),
        two_regions=DigestSettings(voivodeships=("podlaskie", "mazowieckie")),
        mcps=DigestSettings(sources=("mcps",)),
        keyword=DigestSettings(keywords=("EKONOMIA spoleczna", "nieistniejące słowo")),
        barka=DigestSettings(entities=("FPW",)),
        nothing=DigestSettings(voivodeships=("lubuskie",)),
        both=DigestSettings(voivodeships=("podlaskie",), keywords=("dotacje",)),
    )
    report = send_digests(database, mail_settings, now=NOW, echo=quiet)
    got = {}
    for message in smtp_server.handler.parsed():
        text = message.get_body(("plain",)).get_content()
        got[str(message["To"]).split("@")[0]] = sorted(
            t for t in ("Dotacje", "Białystok", "Konkurs grantowy") if t in text
        )
    assert got == {
        "podlasie": ["Białystok"],
        "two_regions": ["Białystok", "Dotacje"],
        "mcps": ["Dotacje"],
        "keyword": ["Białystok"],
        "barka": ["Konkurs grantowy"],
    }
    assert (report.sent, report.empty) == (5, 2), "no email when nothing matches (nor for AND-ed filters)"


def test_empty_period_old_news_and_backfill_send_nothing(database: str, smtp_server: SmtpServer,
                                                         mail_settings) -> None:  # fmt: skip
    with session_scope(database, write=True) as session:
        add_story(session, source_id="mcps", title="Seen two days ago", seen=NOW - timedelta(days=2))
        add_story(
            session, source_id="mcps", title="A 2019 page found today (backfill)", published=NOW - timedelta(days=2500)
        )
        add_story(session, source_id="mcps", title="Undated, from the first crawl", published=None)
    subscribers(database, ewa=DigestSettings())
    report = send_digests(database, mail_settings, now=NOW, echo=quiet)
    assert (report.sent, report.empty) == (0, 1) and smtp_server.handler.messages == []
    with session_scope(database) as session:
        assert session.scalar(select(Subscriber.last_digest_at)) == NOW, "the empty period counts as covered"
    assert send_digests(database, mail_settings, now=NOW + timedelta(hours=1), echo=quiet).empty == 0, "not due"


def test_weekly_subscribers_get_one_digest_on_their_day(database: str, smtp_server: SmtpServer,
                                                        mail_settings) -> None:  # fmt: skip
    with session_scope(database, write=True) as session:
        add_story(
            session,
            source_id="mcps",
            title="Ogłoszenie tygodnia",
            seen=NOW - timedelta(days=3),
            published=NOW - timedelta(days=3),
        )
    subscribers(database, tomasz=DigestSettings(frequency="weekly", weekday=0))
    monday = send_digests(database, mail_settings, now=NOW, echo=quiet)
    assert monday.sent == 1
    [message] = smtp_server.handler.parsed()
    assert message["Subject"] == "ropsfeed: 1 nowe ogłoszenie (30 listopada – 7 grudnia 2026)"
    assert "cotygodniowy (w poniedziałki)" in message.get_body(("plain",)).get_content()
    with session_scope(database, write=True) as session:
        add_story(
            session, source_id="mcps", title="Wtorkowe", seen=NOW + timedelta(days=1), published=NOW + timedelta(days=1)
        )
    for days in range(1, 7):  # Tuesday … Sunday: not due
        assert send_digests(database, mail_settings, now=NOW + timedelta(days=days), echo=quiet).sent == 0
    assert send_digests(database, mail_settings, now=NOW + timedelta(days=7), echo=quiet).sent == 1
    assert len(smtp_server.handler.messages) == 2


def test_restart_after_smtp_failure_half_way(database: str, smtp_server: SmtpServer, mail_settings) -> None:
    with session_scope(database, write=True) as session:
        add_story(session, source_id="mcps", title="Pierwsze")
        add_story(session, source_id="rops-bialystok", title="Drugie")
    subscribers(database, a=DigestSettings(), b=DigestSettings(), c=DigestSettings())
    smtp_server.handler.refuse_after = 1  # the server refuses (451) after the first message
    first = send_digests(database, mail_settings, now=NOW, echo=quiet)
    assert (first.sent, first.deferred, first.failed) == (1, 2, True)
    assert deliveries(database) == 2, "only the accepted message is recorded"
    with session_scope(database) as session:
        deferred = session.scalars(select(Subscriber).where(Subscriber.last_digest_at.is_(None))).all()
        assert len(deferred) == 2 and all("451" in (s.last_bounce or "") and s.bounce_count == 0 for s in deferred)
    smtp_server.handler.refuse_after = None
    second = send_digests(database, mail_settings, now=NOW + timedelta(minutes=30), echo=quiet)
    assert (second.sent, second.failed) == (2, False)
    assert sorted(smtp_server.handler.recipients()) == ["a@example.org", "b@example.org", "c@example.org"]
    assert deliveries(database) == 6
    assert send_digests(database, mail_settings, now=NOW + timedelta(hours=1), echo=quiet).sent == 0


def test_a_run_asked_to_stop_begins_no_other_digest(database: str, smtp_server: SmtpServer, mail_settings) -> None:
    """`run` stopped by SIGTERM during the digests (aggregator/stopping.py): the digest on its way is
    sent and recorded, no other is begun, and the next run sends the rest, none twice."""
    with session_scope(database, write=True) as session:
        add_story(session, source_id="mcps", title="Pierwsze")
    subscribers(database, a=DigestSettings(), b=DigestSettings(), c=DigestSettings())
    stopped = send_digests(database, mail_settings, now=NOW, echo=quiet,
                           stop=lambda: len(smtp_server.handler.messages) >= 1)  # fmt: skip
    assert (stopped.sent, stopped.failed) == (1, False) and deliveries(database) == 1
    rest = send_digests(database, mail_settings, now=NOW + timedelta(minutes=30), echo=quiet)
    assert rest.sent == 2 and deliveries(database) == 3
    assert sorted(smtp_server.handler.recipients()) == ["a@example.org", "b@example.org", "c@example.org"]


def test_permanent_refusals_are_recorded_and_stop_after_three(database: str, smtp_server: SmtpServer,
                                                              mail_settings) -> None:  # fmt: skip
    subscribers(database, gone=DigestSettings())
    smtp_server.handler.reject["gone@example.org"] = "550 5.1.1 No such user"
    for day in range(4):
        with session_scope(database, write=True) as session:
            add_story(
                session,
                source_id="mcps",
                title=f"Dzień {day}",
                seen=NOW + timedelta(days=day, hours=-1),
                published=NOW + timedelta(days=day, hours=-2),
            )
        report = send_digests(database, mail_settings, now=NOW + timedelta(days=day), echo=quiet)
        assert report.refused == (1 if day < 3 else 0)
    with session_scope(database) as session:
        gone = session.scalar(select(Subscriber))
        assert gone.bounce_count == 3 and "550 5.1.1 No such user" in (gone.last_bounce or "")
    assert smtp_server.handler.messages == [] and deliveries(database) == 0


def test_a_refused_sender_is_no_subscribers_bounce(database: str, smtp_server: SmtpServer, mail_settings) -> None:
    """A relay refusing our own sender address at MAIL FROM (a misconfigured ROPSFEED_MAIL_FROM)
    is no refusal of the subscribers' addresses: counted as their bounces, three nights of it
    ended every subscriber's digests for good. Deferred instead (exit 1), and sent once mended."""
    with session_scope(database, write=True) as session:
        add_story(session, source_id="mcps", title="Mazowieckie")
    subscribers(database, ala=DigestSettings(), ola=DigestSettings())
    smtp_server.handler.reject_sender = "553 5.7.1 Sender address rejected: not owned by user"
    for night in range(3):
        report = send_digests(database, mail_settings, now=NOW + timedelta(minutes=night), echo=quiet)
        assert (report.sent, report.deferred, report.refused, report.failed) == (0, 2, 0, True)
        assert all("ROPSFEED_MAIL_FROM" in error and "553" in error for error in report.errors)
    with session_scope(database) as session:
        assert [(s.bounce_count, s.last_digest_at, s.lease_owner) for s in session.scalars(select(Subscriber))] == [
            (0, None, None), (0, None, None)]  # fmt: skip
    smtp_server.handler.reject_sender = None
    report = send_digests(database, mail_settings, now=NOW + timedelta(minutes=5), echo=quiet)
    assert (report.sent, report.failed) == (2, False)


def test_server_gone_stops_the_run_and_loses_nothing(database: str, smtp_server: SmtpServer, mail_settings) -> None:
    with session_scope(database, write=True) as session:
        add_story(session, source_id="mcps", title="Pierwsze")
    subscribers(database, a=DigestSettings(), b=DigestSettings())
    from dataclasses import replace

    from aggregator.mail.settings import SmtpSettings
    from tests.aggregator.mail.conftest import free_port

    nowhere = replace(mail_settings, smtp=SmtpSettings.from_url(f"smtp://127.0.0.1:{free_port()}"))
    report = send_digests(database, nowhere, now=NOW, echo=quiet)
    assert report.aborted and report.failed and report.sent == 0 and deliveries(database) == 0
    with session_scope(database) as session:
        assert session.scalars(select(Subscriber.lease_owner)).all() == [None, None], "leases released"
    assert send_digests(database, mail_settings, now=NOW, echo=quiet).sent == 2


def test_concurrent_runs_do_not_both_send(database: str, smtp_server: SmtpServer, mail_settings) -> None:
    with session_scope(database, write=True) as session:
        add_story(session, source_id="mcps", title="Jedno")
        add_story(session, source_id="rops-bialystok", title="Drugie")
    subscribers(database, **{f"s{n}": DigestSettings() for n in range(12)})
    smtp_server.handler.delay = 0.01
    reports = []
    runs = [threading.Thread(target=lambda: reports.append(send_digests(database, mail_settings, now=NOW,
                                                                        echo=quiet))) for _ in range(2)]  # fmt: skip
    for run in runs:
        run.start()
    for run in runs:
        run.join(60)
    recipients = smtp_server.handler.recipients()
    assert len(recipients) == 12 and len(set(recipients)) == 12, "every subscriber exactly once"
    assert sum(r.sent for r in reports) == 12 and deliveries(database) == 24


def test_header_injection_in_scraped_titles(database: str, smtp_server: SmtpServer, mail_settings) -> None:
    with session_scope(database, write=True) as session:
        add_story(
            session,
            source_id="mcps",
            title="Nabór\r\nBcc: victim@example.com\r\nSubject: spam",
            lead="Treść\nX-Injected: yes",
        )
    subscribers(database, ola=DigestSettings())
    assert send_digests(database, mail_settings, now=NOW, echo=quiet).sent == 1
    [(_, recipients, raw)] = smtp_server.handler.messages
    [message] = smtp_server.handler.parsed()
    assert recipients == ["ola@example.org"]
    assert message["Bcc"] is None and message["X-Injected"] is None
    assert message["Subject"] == "ropsfeed: 1 nowe ogłoszenie (6–7 grudnia 2026)"
    assert b"\r\nBcc:" not in raw and b"\nX-Injected" not in raw
    assert "Nabór Bcc: victim@example.com Subject: spam" in message.get_body(("plain",)).get_content()


def test_an_internationalised_domain_is_sent_in_ascii(database: str, smtp_server: SmtpServer, mail_settings) -> None:
    with session_scope(database, write=True) as session:
        add_story(session, source_id="mcps", title="Dla żółwi")
    subscribers(database, **{"ola": DigestSettings()})
    with session_scope(database, write=True) as session:
        subscribe(session, "jan@żółw.pl", DigestSettings(), confirmed=True)
    assert send_digests(database, mail_settings, now=NOW, echo=quiet).sent == 2
    assert sorted(smtp_server.handler.recipients()) == ["jan@xn--w-uga1v8h.pl", "ola@example.org"]
    assert {str(m["To"]) for m in smtp_server.handler.parsed()} == {"jan@xn--w-uga1v8h.pl", "ola@example.org"}


def test_dry_run_sends_and_records_nothing(database: str, smtp_server: SmtpServer, mail_settings) -> None:
    with session_scope(database, write=True) as session:
        add_story(session, source_id="mcps", title="Tylko podgląd")
    subscribers(database, piotr=DigestSettings())
    lines: list[str] = []
    report = send_digests(database, mail_settings, now=NOW, dry_run=True, echo=lines.append)
    assert report.sent == 1 and smtp_server.handler.messages == [] and deliveries(database) == 0
    assert lines[0] == "piotr@example.org: ropsfeed: 1 nowe ogłoszenie (6–7 grudnia 2026)"
    assert "Tylko podgląd" in lines[1]
    with session_scope(database) as session:
        assert session.scalar(select(Subscriber.last_digest_at)) is None


def test_a_flood_lists_the_newest_and_counts_the_rest(database: str, smtp_server: SmtpServer, mail_settings,
                                                      monkeypatch) -> None:  # fmt: skip
    from aggregator.mail import digest

    monkeypatch.setattr(digest, "MAX_STORIES", 2)
    with session_scope(database, write=True) as session:
        for n in range(5):
            add_story(session, source_id="mcps", title=f"Ogłoszenie {n}", published=NOW - timedelta(hours=8 - n))
    subscribers(database, jan=DigestSettings())
    assert send_digests(database, mail_settings, now=NOW, echo=quiet).stories == 2
    [message] = smtp_server.handler.parsed()
    assert message["Subject"] == "ropsfeed: 5 nowych ogłoszeń (6–7 grudnia 2026)"
    text = message.get_body(("plain",)).get_content()
    assert "Ogłoszenie 4" in text and "Ogłoszenie 3" in text and "Ogłoszenie 2" not in text
    assert "Powyżej 2 najnowsze. Kolejne 3 ogłoszenia z tego okresu znajdziesz na stronie" in " ".join(text.split())
    assert "Kolejne 3 ogłoszenia" in message.get_body(("html",)).get_content()
    assert deliveries(database) == 2, "only what was listed counts as delivered"


def test_a_live_lease_is_respected_and_a_crashed_runs_lease_expires(database: str, smtp_server: SmtpServer,
                                                                    mail_settings) -> None:  # fmt: skip
    from datetime import UTC, datetime

    from sqlalchemy import update

    with session_scope(database, write=True) as session:
        add_story(session, source_id="mcps", title="Jedno")
    subscribers(database, ela=DigestSettings())
    held = datetime.now(UTC) + timedelta(minutes=5)
    with session_scope(database, write=True) as session:
        session.execute(update(Subscriber).values(lease_owner="another-run", lease_expires_at=held))
    report = send_digests(database, mail_settings, now=NOW, echo=quiet)
    assert (report.sent, report.locked) == (0, 1) and smtp_server.handler.messages == []
    with session_scope(database, write=True) as session:  # that run crashed long ago
        session.execute(update(Subscriber).values(lease_expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    assert send_digests(database, mail_settings, now=NOW, echo=quiet).sent == 1
    with session_scope(database) as session:
        assert session.scalar(select(Subscriber.lease_owner)) is None


def test_the_plain_text_part_is_wrapped_for_mail_clients(database: str, smtp_server: SmtpServer,
                                                         mail_settings) -> None:  # fmt: skip
    """Titles, the sources' line, the dates and the footer are wrapped like the lead (a reader of
    the text part gets lines of up to 76 characters, RFC 5322's advice), a title's continuation lines
    indented under it; only a link that is longer by itself stays one line, unbroken."""
    title = (
        "Dwudniowe spotkanie wyjazdowe Sieci Tematycznej ROPS i OWES pn.: „Współpraca na poziomie regionalnym "
        "pomiędzy ROPS i OWES w obszarze sektora ekonomii społecznej” w dniach 19-20 maja 2022 r."
    )
    with session_scope(database, write=True) as session:
        add_story(session, source_id="rops-olsztyn", title=title, also=("rops-kielce", "rops-gdansk"), attachments=3,
                  dates=tuple((date(2026, 12, d), date(2027, 1, d), "range") for d in range(10, 14)))  # fmt: skip
    subscribers(database, **{"bardzo.dlugi.adres.pracownika.socjalnego": DigestSettings(frequency="weekly", weekday=0)})
    assert send_digests(database, mail_settings, now=NOW, echo=quiet).sent == 1
    [message] = smtp_server.handler.parsed()
    text = message.get_body(("plain",)).get_content()
    too_long = [line for line in text.splitlines() if len(line) > 76 and not line.strip().startswith("https://")]
    assert too_long == []
    lines = text.splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith("* Dwudniowe"))
    assert lines[start + 1].startswith("  ") and not lines[start + 1].startswith("   "), "hanging indent"
    flat = " ".join(text.split())
    assert title in flat, "wrapping moves no word"
    assert ("Regionalny Ośrodek Polityki Społecznej Urzędu Marszałkowskiego Województwa Warmińsko-Mazurskiego "
            "w Olsztynie, Regionalny Ośrodek Polityki Społecznej Urzędu Marszałkowskiego Województwa "
            "Świętokrzyskiego") in flat  # fmt: skip
    assert "Terminy: 10 grudnia 2026 – 10 stycznia 2027; 11 grudnia 2026 – 11 stycznia 2027;" in flat
    assert "-- " in lines, "the signature separator keeps its trailing space"


def test_a_weekly_subscribers_first_digest_waits_for_their_day(database: str, smtp_server: SmtpServer,
                                                               mail_settings) -> None:  # fmt: skip
    """Subscribed on a Monday (NOW) for Fridays: no digest that Monday, then one on Friday with the
    week's news, and the next a week later; one who subscribed for Fridays before a Friday that no
    run saw (the machine was off) gets the first digest at the next run, not a week late."""
    from sqlalchemy import update

    with session_scope(database, write=True) as session:
        add_story(session, source_id="mcps", title="Poniedziałkowe", seen=NOW - timedelta(hours=6))
    subscribers(database, piatek=DigestSettings(frequency="weekly", weekday=4))
    with session_scope(database, write=True) as session:  # confirmed that Monday (whatever the test's clock)
        session.execute(update(Subscriber).values(confirmed_at=NOW - timedelta(hours=1)))
    for days in range(4):  # Monday … Thursday
        assert send_digests(database, mail_settings, now=NOW + timedelta(days=days), echo=quiet).sent == 0
    assert send_digests(database, mail_settings, now=NOW + timedelta(days=4), echo=quiet).sent == 1
    [message] = smtp_server.handler.parsed()
    assert "Poniedziałkowe" in message.get_body(("plain",)).get_content()
    assert "cotygodniowy (w piątki)" in message.get_body(("plain",)).get_content()
    for days in range(5, 11):  # Saturday … Thursday
        assert send_digests(database, mail_settings, now=NOW + timedelta(days=days), echo=quiet).sent == 0

    subscribers(database, spoznialski=DigestSettings(frequency="weekly", weekday=4))
    with session_scope(database, write=True) as session:
        session.execute(update(Subscriber).where(Subscriber.email == "spoznialski@example.org")
                        .values(confirmed_at=NOW - timedelta(hours=1)))  # fmt: skip
        add_story(session, source_id="mcps", title="Sobotnie", seen=NOW + timedelta(days=5),
                  published=NOW + timedelta(days=5))  # fmt: skip
    saturday = send_digests(database, mail_settings, now=NOW + timedelta(days=5, hours=2), echo=quiet)
    assert saturday.sent == 1 and smtp_server.handler.recipients()[-1] == "spoznialski@example.org"


def test_a_source_taken_out_of_the_registry_stops_nobodys_digest(database: str, smtp_server: SmtpServer,
                                                                 mail_settings, monkeypatch) -> None:  # fmt: skip
    """The registry is the operator's to edit; a subscriber who chose a source since taken out of it
    keeps their settings (its stored announcements still match), and the run goes on for everyone.
    The check against the registry is for what a form or an operator asks for now."""
    import pytest

    from aggregator.mail import subscribers as subscribers_module
    from aggregator.mail.subscribers import SubscriberError

    with session_scope(database, write=True) as session:
        add_story(session, source_id="mcps", title="Mazowieckie")
        add_story(session, source_id="rops-bialystok", title="Podlaskie")
    subscribers(database, ala=DigestSettings(sources=("rops-bialystok", "mcps")), ola=DigestSettings())
    known = subscribers_module._known_sources() - {"rops-bialystok"}
    monkeypatch.setattr(subscribers_module, "_known_sources", lambda: known)
    report = send_digests(database, mail_settings, now=NOW, echo=quiet)
    assert (report.sent, report.stories) == (2, 4)
    ala = next(m for m in smtp_server.handler.parsed() if m["To"] == "ala@example.org")
    assert "Podlaskie" in ala.get_body(("plain",)).get_content()
    with pytest.raises(SubscriberError, match="unknown source 'rops-bialystok'"):
        DigestSettings(sources=("rops-bialystok",))


def test_a_story_on_several_sites_is_listed_once_with_every_site(database: str, smtp_server: SmtpServer,
                                                                 mail_settings) -> None:  # fmt: skip
    """MCPS posts the same call on mcps.com.pl and es.mcps-efs.pl: one entry, its institution named
    once, and a link to each site's page in both parts (the title links the first)."""
    with session_scope(database, write=True) as session:
        key = add_story(session, source_id="mcps", title="Konkurs „Mazowiecka Marka Ekonomii Społecznej”",
                        also=("mcps-es", "mazovia"))  # fmt: skip
    subscribers(database, ala=DigestSettings())
    assert send_digests(database, mail_settings, now=NOW, echo=quiet).stories == 1
    [message] = smtp_server.handler.parsed()
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    first, second, third = (f"https://{source}.example.pl/{key}/{n}" for n, source in
                            enumerate(("mcps", "mcps-es", "mazovia")))  # fmt: skip
    assert text.count("Konkurs „Mazowiecka Marka") == 1 and html.count("Konkurs „Mazowiecka Marka") == 1
    assert "Mazowieckie Centrum Polityki Społecznej, Urząd Marszałkowski" in " ".join(text.split())
    assert f"  {first}\r\n  Także: {second}\r\n  Także: {third}\r\n" in text
    assert f'href="{first}"' in html
    also = re.search(r'<p class="also"[^>]*>(.*?)</p>', html).group(1)
    assert re.sub(r" style=\"[^\"]*\"", "", also) == (
        f'Także: <a href="{second}">mcps-es.example.pl</a>, <a href="{third}">mazovia.example.pl</a>'
    )


def test_keywords_typed_with_or_without_diacritics_find_every_form(database: str, smtp_server: SmtpServer,
                                                                   mail_settings) -> None:  # fmt: skip
    """A social worker types "ekonomia spoleczna" (no Polish letters, the nominative) and must get
    the news about „ekonomii społecznej”, as one who types "Ekonomii Społecznej" does; a keyword
    matches only what contains it."""
    with session_scope(database, write=True) as session:
        add_story(session, source_id="mcps", title="Posiedzenie Komitetu Rozwoju Ekonomii Społecznej")
        add_story(
            session,
            source_id="rops-bialystok",
            title="Dzień otwarty",
            lead="Zapraszamy do spółdzielni socjalnej.",
        )
        add_story(session, source_id="rops-krakow", title="Szkolenie dla asystentów rodziny")
    subscribers(
        database,
        bez=DigestSettings(keywords=("ekonomia spoleczna",)),
        z=DigestSettings(keywords=("Ekonomii Społecznej",)),
        spoldzielnie=DigestSettings(keywords=("spoldzielnie socjalne",)),
        lodzkie=DigestSettings(keywords=("seniorzy", "lodzkie")),
    )
    report = send_digests(database, mail_settings, now=NOW, echo=quiet)
    got = {
        str(m["To"]).split("@")[0]: sorted(
            t for t in ("Ekonomii", "Dzień otwarty", "Szkolenie") if t in m.get_body(("plain",)).get_content()
        )
        for m in smtp_server.handler.parsed()
    }
    assert got == {"bez": ["Ekonomii"], "z": ["Ekonomii"], "spoldzielnie": ["Dzień otwarty"]}
    assert report.empty == 1


def test_subscribing_again_after_unsubscribing_starts_afresh(database: str, smtp_server: SmtpServer,
                                                             mail_settings) -> None:  # fmt: skip
    """Ewa unsubscribed in December and subscribes again in February: her first digest brings the
    last day's news, not the two months she asked not to be mailed (up to 100 stories and a count)."""
    from aggregator.mail.subscribers import unsubscribe

    with session_scope(database, write=True) as session:
        add_story(session, source_id="mcps", title="Grudniowe")
    subscribers(database, ewa=DigestSettings())
    assert send_digests(database, mail_settings, now=NOW, echo=quiet).sent == 1
    with session_scope(database, write=True) as session:
        ewa = session.scalar(select(Subscriber))
        unsubscribe(session, ewa.id, ewa.email)
        add_story(session, source_id="mcps", title="Styczniowe", seen=NOW + timedelta(days=30),
                  published=NOW + timedelta(days=30))  # fmt: skip
        add_story(session, source_id="mcps", title="Lutowe", seen=NOW + timedelta(days=60, hours=-2),
                  published=NOW + timedelta(days=60, hours=-3))  # fmt: skip
    subscribers(database, ewa=DigestSettings())  # confirmed again
    assert send_digests(database, mail_settings, now=NOW + timedelta(days=60), echo=quiet).sent == 1
    text = smtp_server.handler.parsed()[-1].get_body(("plain",)).get_content()
    assert "Lutowe" in text and "Styczniowe" not in text


def test_one_subscribers_failing_digest_stops_nobody_elses(database: str, smtp_server: SmtpServer,
                                                           mail_settings, caplog) -> None:  # fmt: skip
    """A row no code expects (a frequency edited by hand into one there is not) fails that subscriber's digest
    alone: one line names them and why, the others are sent, the run is failed (exit 1), nothing is
    recorded for them, and once the row is mended the next run sends theirs."""
    import logging

    from sqlalchemy import update

    with session_scope(database, write=True) as session:
        add_story(session, source_id="mcps", title="Mazowieckie")
    subscribers(database, ala=DigestSettings(), bad=DigestSettings(), ola=DigestSettings())
    with session_scope(database, write=True) as session:
        session.execute(update(Subscriber).where(Subscriber.email == "bad@example.org").values(frequency="monthly"))
        bad = session.scalar(select(Subscriber.id).where(Subscriber.email == "bad@example.org"))
    with caplog.at_level(logging.ERROR, logger="aggregator.mail.send"):
        report = send_digests(database, mail_settings, now=NOW, echo=quiet)
    assert (report.sent, report.crashed, report.failed) == (2, 1, True)
    assert sorted(smtp_server.handler.recipients()) == ["ala@example.org", "ola@example.org"]
    [error] = report.errors
    assert error.startswith(f"subscriber {bad}: ") and "\n" not in error
    [line] = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert line.startswith(f"digest for subscriber {bad} failed, the next run tries it again") and "\n" not in line
    assert "failed" in report.summary()
    with session_scope(database) as session:
        row = session.get_one(Subscriber, bad)
        assert row.last_digest_at is None and row.lease_owner is None  # left for the next run, not leased
    with session_scope(database, write=True) as session:
        session.execute(update(Subscriber).where(Subscriber.id == bad).values(frequency="daily"))
    again = send_digests(database, mail_settings, now=NOW + timedelta(minutes=30), echo=quiet)
    assert (again.sent, again.failed) == (1, False)
    assert smtp_server.handler.recipients()[-1] == "bad@example.org"


def edit(database: str, key: str, **changes: str) -> None:
    """The site edits the story's page: its text kept as a version, the new one stored."""
    with session_scope(database, write=True) as session:
        row = session.scalars(select(Announcement).where(Announcement.story_key == key)).one()
        session.add(AnnouncementVersion(announcement_id=row.id, title=row.title, body_text=row.body_text,
                                        body_html=row.body_html, content_hash=row.content_hash,
                                        replaced_at=datetime.now(UTC)))  # fmt: skip
        for name, value in changes.items():
            setattr(row, name, value)


def test_a_story_edited_after_it_was_mailed_is_said_once(database: str, smtp_server: SmtpServer,
                                                         mail_settings) -> None:  # fmt: skip
    """A deadline extended after the digest went out: the subscriber who read the first text hears
    of the new one in their next digest, and only once."""
    with session_scope(database, write=True) as session:
        key = add_story(session, source_id="mcps", title="Nabór wniosków trwa do 15 grudnia",
                        lead="Oferty można składać do 15 grudnia 2026 r.")  # fmt: skip
    subscribers(database, ola=DigestSettings())
    assert send_digests(database, mail_settings, now=NOW, echo=quiet).sent == 1
    extended = "PRZEDŁUŻAMY TERMIN: oferty można składać do 22 grudnia 2026 r."
    edit(database, key, lead=extended, body_text=extended)
    with session_scope(database, write=True) as session:  # a story nobody edited is not said again
        add_story(session, source_id="mcps-es", title="Targi ekonomii społecznej", seen=NOW + timedelta(hours=1),
                  published=NOW + timedelta(hours=1))  # fmt: skip
    report = send_digests(database, mail_settings, now=NOW + timedelta(days=1), echo=quiet)
    assert (report.sent, report.stories) == (1, 1)
    edited = smtp_server.handler.parsed()[-1]
    assert edited["Subject"] == "ropsfeed: 1 nowe ogłoszenie i 1 zmienione (7–8 grudnia 2026)"
    text = edited.get_body(("plain",)).get_content()
    assert "== Zmienione od ostatniego przeglądu ==" in text and "PRZEDŁUŻAMY TERMIN" in text
    assert text.index("Targi ekonomii społecznej") < text.index("Zmienione od ostatniego przeglądu")
    assert "Zmienione od ostatniego przeglądu" in edited.get_body(("html",)).get_content()
    assert deliveries(database) == 2, "the edited story keeps its one delivery row"
    assert send_digests(database, mail_settings, now=NOW + timedelta(days=2), echo=quiet).empty == 1, "said once"

    edit(database, key, title="Nabór wniosków trwa do 15 grudnia – przedłużony")
    assert send_digests(database, mail_settings, now=NOW + timedelta(days=3), echo=quiet).sent == 1, (
        "a word added to the title is said"
    )
    edit(database, key, title="Nabór wniosków trwa do 15 grudnia — Przedłużony")  # a dash and a capital fixed
    assert send_digests(database, mail_settings, now=NOW + timedelta(days=4), echo=quiet).empty == 1, (
        "punctuation and letter case alone: the subscriber could not tell what changed"
    )


def test_a_story_whose_files_changed_after_it_was_mailed_is_said_once_with_what_changed(
    database: str, smtp_server: SmtpServer, mail_settings
) -> None:
    """A regulation replaced under the same link, the page's text the same (the crawl sets
    `files_changed_at`): the subscriber who downloaded the first file hears that the story's files
    changed, once; the „Zmieniono:” line says whether the text, the files or both did."""
    with session_scope(database, write=True) as session:
        key = add_story(session, source_id="mcps", title="Konkurs „Mazowiecka Marka Ekonomii Społecznej” – regulamin",
                        attachments=1)  # fmt: skip
    subscribers(database, ola=DigestSettings())
    assert send_digests(database, mail_settings, now=NOW, echo=quiet).sent == 1
    assert "Zmieniono" not in smtp_server.handler.parsed()[-1].get_body(("plain",)).get_content()

    def files_changed() -> None:
        with session_scope(database, write=True) as session:
            row = session.scalars(select(Announcement).where(Announcement.story_key == key)).one()
            row.files_changed_at = datetime.now(UTC)

    files_changed()
    assert send_digests(database, mail_settings, now=NOW + timedelta(days=1), echo=quiet).sent == 1
    mail = smtp_server.handler.parsed()[-1]
    assert mail["Subject"] == "ropsfeed: 1 zmienione ogłoszenie (7–8 grudnia 2026)"
    text = mail.get_body(("plain",)).get_content()
    assert "== Zmienione od ostatniego przeglądu ==" in text and "  Zmieniono: załączniki" in text.splitlines()
    assert ">Zmieniono: załączniki</p>" in mail.get_body(("html",)).get_content()
    assert send_digests(database, mail_settings, now=NOW + timedelta(days=2), echo=quiet).empty == 1, "said once"

    edit(database, key, body_text="Termin składania wniosków przedłużono do 22 grudnia 2026 r.")
    files_changed()
    assert send_digests(database, mail_settings, now=NOW + timedelta(days=3), echo=quiet).sent == 1
    text = smtp_server.handler.parsed()[-1].get_body(("plain",)).get_content()
    assert "  Zmieniono: treść i załączniki" in text.splitlines()
    assert deliveries(database) == 1
