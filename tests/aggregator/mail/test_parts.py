"""The pieces of the mail package without a server: Polish wording, settings, tokens, subscribers."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from aggregator import polish
from aggregator.mail.settings import MailConfigError, SmtpSettings, mail_settings, parse_base_url, parse_sender
from aggregator.mail.subscribers import DigestSettings, SubscriberError, normalise_email, parse_weekday, subscribe
from aggregator.mail.tokens import (
    InvalidToken,
    confirm_token,
    read_confirm_token,
    read_unsubscribe_token,
    unsubscribe_token,
)
from db.engine import session_scope
from db.migrate import upgrade
from db.models import Subscriber


@pytest.mark.parametrize(
    ("n", "expected"),
    [(1, "1 nowe ogłoszenie"), (2, "2 nowe ogłoszenia"), (4, "4 nowe ogłoszenia"), (5, "5 nowych ogłoszeń"),
     (11, "11 nowych ogłoszeń"), (12, "12 nowych ogłoszeń"), (14, "14 nowych ogłoszeń"), (21, "21 nowych ogłoszeń"),
     (22, "22 nowe ogłoszenia"), (112, "112 nowych ogłoszeń"), (124, "124 nowe ogłoszenia")],
)  # fmt: skip
def test_story_count_plural(n: int, expected: str) -> None:
    assert polish.stories_count(n) == expected


def test_periods_and_dates() -> None:
    assert polish.period(date(2026, 12, 6), date(2026, 12, 7)) == "6–7 grudnia 2026"
    assert polish.period(date(2026, 11, 30), date(2026, 12, 7)) == "30 listopada – 7 grudnia 2026"
    assert polish.period(date(2025, 12, 29), date(2026, 1, 5)) == "29 grudnia 2025 – 5 stycznia 2026"
    assert polish.period(date(2026, 12, 7), date(2026, 12, 7)) == "7 grudnia 2026"
    assert polish.date_span(date(2024, 3, 15), None, "until") == "do 15 marca 2024"
    assert polish.date_span(date(2024, 3, 1), None, "from") == "od 1 marca 2024"


def test_smtp_urls_and_the_password_never_shows() -> None:
    plain = SmtpSettings.from_url("smtp://127.0.0.1:2525")
    assert (plain.security, plain.host, plain.port, plain.username) == ("plain", "127.0.0.1", 2525, None)
    tls = SmtpSettings.from_url("smtp+starttls://jan%40example.org:s3cr%3At@mail.example.org")
    assert (tls.security, tls.port, tls.username, tls.password) == ("starttls", 587, "jan@example.org", "s3cr:t")
    ssl = SmtpSettings.from_url("smtps://u:hunter2@mail.example.org")
    assert (ssl.security, ssl.port) == ("ssl", 465)
    assert "hunter2" not in repr(ssl) and "hunter2" not in ssl.describe()
    with pytest.raises(MailConfigError, match="scheme") as error:
        SmtpSettings.from_url("http://u:hunter2@mail.example.org")
    assert "hunter2" not in str(error.value)
    with pytest.raises(MailConfigError) as error:
        SmtpSettings.from_url("smtp://u:hunter2@mail.example.org:notaport")
    assert "hunter2" not in str(error.value)


def test_malformed_smtp_urls_are_refused_without_the_password() -> None:
    """A host that is no host name was taken (and failed to resolve when a digest was due), port 0
    was the scheme's default, and an unclosed IPv6 bracket raised a bare ValueError from the error
    message's own redaction."""
    for url, problem in [
        ("smtps://u:hunter2@mail example.org", "has no valid host name: smtps://u:\\*\\*\\*@mail example.org"),
        ("smtp://u:hunter2@mail.example.org:0", "port must be 1-65535"),
        ("smtp://u:hunter2@[::1", "is not a valid URL: smtp://\\*\\*\\*@\\[::1$"),
    ]:
        with pytest.raises(MailConfigError, match=problem) as error:
            SmtpSettings.from_url(url)
        assert "hunter2" not in str(error.value)
    assert SmtpSettings.from_url("smtp://[2001:db8::25]:2525").host == "2001:db8::25"
    assert SmtpSettings.from_url("smtp://poczta.przykład.pl").host == "poczta.przykład.pl"


@pytest.mark.parametrize(
    "value",
    ["@example.org", "biuletyn@", "ropsfeed biuletyn@example.org", "biuletyn@exa mple.org",
     "ropsfeed <biuletyn@example.org", "ropsfeed <a@example.org> x", "a@example.org, b@example.org",
     "Kowalski, Jan <j@example.org>", '"a b"@example.org'],
)  # fmt: skip
def test_a_sender_must_stand_as_written(value: str) -> None:
    """parseaddr made something of each (an empty user, the user "ropsfeed biuletyn", the space
    dropped, the first of two), sent as what the operator did not write or refused when due."""
    with pytest.raises(MailConfigError, match="ROPSFEED_MAIL_FROM is not an email address"):
        parse_sender(value)


def test_senders_as_operators_write_them() -> None:
    for value, written in [
        ("ropsfeed <biuletyn@example.org>", "ropsfeed <biuletyn@example.org>"),
        ("biuletyn@example.org", "ropsfeed <biuletyn@example.org>"),
        (' "Kowalski, Jan" <j@example.org> ', '"Kowalski, Jan" <j@example.org>'),
        ("ROPS Kraków <ola@żółw.pl>", "ROPS Kraków <ola@żółw.pl>"),
        ("ropsfeed@localhost", "ropsfeed <ropsfeed@localhost>"),
    ]:
        assert str(parse_sender(value)) == written


def test_the_base_url_is_an_http_url_links_can_follow() -> None:
    assert parse_base_url("https://ropsfeed.example.org/biuletyn") == "https://ropsfeed.example.org/biuletyn/"
    assert parse_base_url("http://[::1]:8000/") == "http://[::1]:8000/"
    bad_urls = ("ropsfeed.example.org", "ftp://ropsfeed.example.org/", "https:///ropsfeed", "https://x.org/?a=1",
                "https://x.org/#top", "https://x.org:99999/", "https://rops feed.org/", "http://::1:8000/")  # fmt: skip
    for bad in bad_urls:
        with pytest.raises(MailConfigError, match="ROPSFEED_BASE_URL must be the public http"):
            parse_base_url(bad)


def test_mail_settings_refuse_a_malformed_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """What `run` refuses before it crawls, the digests refuse too: it was written into every link."""
    monkeypatch.setenv("ROPSFEED_SMTP_URL", "smtp://127.0.0.1:2525")
    monkeypatch.setenv("ROPSFEED_MAIL_FROM", "biuletyn@example.org")
    monkeypatch.setenv("ROPSFEED_SECRET_KEY", "k")
    monkeypatch.setenv("ROPSFEED_BASE_URL", "ropsfeed.example.org")
    with pytest.raises(MailConfigError, match="ROPSFEED_BASE_URL"):
        mail_settings()


def test_mail_settings_need_a_sender_and_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROPSFEED_SMTP_URL", "smtp://127.0.0.1:2525")
    monkeypatch.delenv("ROPSFEED_MAIL_FROM", raising=False)
    monkeypatch.setenv("ROPSFEED_SECRET_KEY", "k")
    with pytest.raises(MailConfigError, match="ROPSFEED_MAIL_FROM"):
        mail_settings()
    monkeypatch.setenv("ROPSFEED_MAIL_FROM", "Biuletyn <biuletyn@example.org>")
    monkeypatch.delenv("ROPSFEED_SECRET_KEY")
    with pytest.raises(MailConfigError, match="ROPSFEED_SECRET_KEY"):
        mail_settings()
    monkeypatch.setenv("ROPSFEED_SECRET_KEY", "k")
    monkeypatch.delenv("ROPSFEED_BASE_URL", raising=False)
    with pytest.raises(MailConfigError, match="ROPSFEED_BASE_URL"):
        mail_settings()
    monkeypatch.setenv("ROPSFEED_BASE_URL", "https://ropsfeed.example.org")
    settings = mail_settings()
    assert settings.base_url == "https://ropsfeed.example.org/"
    assert settings.sender.addr_spec == "biuletyn@example.org" and settings.list_id.endswith("<digest.example.org>")
    monkeypatch.delenv("ROPSFEED_MAIL_FROM")
    monkeypatch.delenv("ROPSFEED_BASE_URL")
    assert mail_settings(preview=True).smtp is not None, "a preview or a dry run needs neither"


def test_tokens_tampered_expired_or_of_the_other_kind_are_refused() -> None:
    token = unsubscribe_token("key", 7, "a@example.org")
    assert read_unsubscribe_token("key", token) == (7, "a@example.org")
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in (tampered, token + "x", "garbage", ""):
        with pytest.raises(InvalidToken):
            read_unsubscribe_token("key", bad)
    with pytest.raises(InvalidToken):
        read_unsubscribe_token("another key", token)
    confirm = confirm_token("key", "a@example.org", {"frequency": "daily"})
    assert read_confirm_token("key", confirm) == ("a@example.org", {"frequency": "daily"})
    with pytest.raises(InvalidToken):
        read_unsubscribe_token("key", confirm)
    with pytest.raises(InvalidToken):
        read_confirm_token("key", token)
    with pytest.raises(InvalidToken):
        read_confirm_token("key", confirm, max_age=-1)  # expired


def test_addresses_are_validated_and_normalised() -> None:
    assert normalise_email("  Jan.Kowalski@EXAMPLE.org ") == "jan.kowalski@example.org"
    assert normalise_email("ola@żółw.pl") == "ola@żółw.pl"
    for bad in ("jan", "jan@", "@example.org", "jan@example", "a b@example.org", "jan@example.org\r\nBcc: x@y.pl"):
        with pytest.raises(SubscriberError, match="not a valid email address"):
            normalise_email(bad)


def test_settings_validation_and_weekdays() -> None:
    assert parse_weekday("friday") == parse_weekday("piątek") == parse_weekday("piatek") == parse_weekday("5") == 4
    assert DigestSettings(frequency="weekly").weekday == 0
    assert DigestSettings(keywords=("  dotacje  ", "dotacje", "")).keywords == ("dotacje",)
    with pytest.raises(SubscriberError, match="unknown voivodeship"):
        DigestSettings(voivodeships=("mazowsze",))
    typed = DigestSettings(voivodeships=("slaskie", "Łódzkie", "śląskie"))
    assert typed.voivodeships == ("śląskie", "łódzkie"), "as the feed's --voivodeship reads them"
    with pytest.raises(SubscriberError, match="unknown source"):
        DigestSettings(sources=("nope",))
    with pytest.raises(SubscriberError, match="frequency"):
        DigestSettings(frequency="hourly")
    with pytest.raises(SubscriberError, match="weekday"):
        parse_weekday("someday")
    with pytest.raises(SubscriberError, match="weekday"):
        parse_weekday("²")  # isdigit() takes it, int() raised: a traceback of `subscribers add --weekday`


def test_a_second_subscription_updates_the_same_row(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    with session_scope(sqlite_url, write=True) as session:
        _, created = subscribe(session, "Ola@Example.org", DigestSettings(), confirmed=False)
        assert created
        _, created = subscribe(session, "ola@example.org", DigestSettings(keywords=("seniorzy",)), confirmed=False)
        assert not created
        row = session.scalar(select(Subscriber))
        assert row.keywords == [] and row.confirmed_at is None, "an unconfirmed request changes nothing"
        subscribe(session, "OLA@example.org", DigestSettings(frequency="weekly", weekday=2), confirmed=True)
    with session_scope(sqlite_url) as session:
        assert session.scalar(select(func.count()).select_from(Subscriber)) == 1
        row = session.scalar(select(Subscriber))
        assert (row.email, row.frequency, row.weekday) == ("ola@example.org", "weekly", 2) and row.confirmed_at


def test_a_story_whose_site_gives_no_date_says_so_in_both_parts() -> None:
    from datetime import UTC, date, datetime

    from aggregator.mail.digest import Digest, DigestStory
    from aggregator.mail.render import render_digest

    def story(key: str, published: date | None) -> DigestStory:
        return DigestStory(key=key, title=f"Ogłoszenie {key}", url=f"https://www.es.umws.pl/aktualnosci/item/{key}",
                           voivodeship="świętokrzyskie", sources=("Regionalny Ośrodek Polityki Społecznej w Kielcach",),
                           published=published, lead="Obradował Regionalny Komitet Rozwoju Ekonomii Społecznej.",
                           attachments=0, dates=())  # fmt: skip

    stories = [story("416", None), story("417", date(2026, 12, 4))]
    digest = Digest(subscriber_id=1, email="analityk@example.org", since=datetime(2026, 11, 30, tzinfo=UTC),
                    until=datetime(2026, 12, 7, tzinfo=UTC), stories=stories)  # fmt: skip
    rendered = render_digest(digest, unsubscribe_url="https://x/u", home_url="https://x/", frequency="weekly",
                             weekday=0)  # fmt: skip
    for part in (rendered.text, rendered.html.replace("&nbsp;", " ")):
        assert "w Kielcach · bez daty" in part and "w Kielcach · 4 grudnia 2026" in part
    # the HTML part keeps a date and a one-letter word with the next word (no-break spaces), as the
    # text part's wrapping does; the text part itself holds plain spaces only
    assert "w&nbsp;Kielcach · 4&nbsp;grudnia&nbsp;2026" in rendered.html and "\xa0" not in rendered.text
    assert "Regionalny Komitet Rozwoju" in rendered.html, "other spaces stay breakable"


def test_wrapping_keeps_dates_whole_and_no_one_letter_word_at_a_line_end() -> None:
    """Polish typesetting, in the text part too: "9 października 2018" is not cut, and a one-letter
    word ("w", "z", "i") goes to the next line with the word it belongs to; only spaces change."""
    from aggregator.mail.render import wrap_text

    text = (
        "  Terminy: do 31 grudnia 2030; 1 stycznia – 31 grudnia 2018; 9 października 2018\n"
        "  II Podkarpackie Forum Ekonomii Społecznej odbyło się 9 października br. w Hotelu Hilton Garden Inn, "
        "w Rzeszowie i w Krośnie.\n"
        "* Dnia 20 marca 2024 r. w siedzibie Regionalnego Ośrodka Polityki Społecznej odbyło się spotkanie"
    )
    assert wrap_text(text).split("\n") == [
        "  Terminy: do 31 grudnia 2030; 1 stycznia – 31 grudnia 2018;",
        "  9 października 2018",
        "  II Podkarpackie Forum Ekonomii Społecznej odbyło się 9 października br.",
        "  w Hotelu Hilton Garden Inn, w Rzeszowie i w Krośnie.",
        "* Dnia 20 marca 2024 r. w siedzibie Regionalnego Ośrodka Polityki Społecznej",
        "  odbyło się spotkanie",
    ]


def test_one_date_is_a_termin_several_are_terminy() -> None:
    import re
    from datetime import UTC, datetime

    from aggregator.mail.digest import Digest, DigestStory
    from aggregator.mail.render import render_digest

    def story(key: str, dates: tuple[str, ...]) -> DigestStory:
        return DigestStory(key=key, title=f"Nabór {key}", url=f"https://mcps.com.pl/{key}/", voivodeship="mazowieckie",
                           sources=("Mazowieckie Centrum Polityki Społecznej",), published=date(2026, 12, 4),
                           lead="", attachments=0, dates=dates)  # fmt: skip

    stories = [story("1", ("do 15 marca 2027",)), story("2", ("do 15 marca 2027", "od 1 kwietnia 2027"))]
    digest = Digest(subscriber_id=1, email="ola@example.org", since=datetime(2026, 12, 6, tzinfo=UTC),
                    until=datetime(2026, 12, 7, tzinfo=UTC), stories=stories)  # fmt: skip
    rendered = render_digest(digest, unsubscribe_url="https://x/u", home_url="https://x/", frequency="daily",
                             weekday=None)  # fmt: skip
    for part in (rendered.text, rendered.html.replace("&nbsp;", " ")):
        assert re.search(r"\bTermin: do 15 marca 2027\b(?!;)", part)
        assert "Terminy: do 15 marca 2027; od 1 kwietnia 2027" in part
