"""Double opt-in subscription and one-click unsubscribe through the web app, with the
confirmation and digest emails going through a real SMTP server."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from aggregator.feeds import WARSAW
from aggregator.mail.send import send_digests
from aggregator.mail.settings import mail_settings
from aggregator.web.app import create_app
from db.engine import session_scope
from db.models import Subscriber
from tests.aggregator.mail.conftest import SmtpServer, add_story, free_port, mention
from tests.aggregator.mail.conftest import smtp_server as smtp_server


@pytest.fixture
def client(database: str, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("ROPSFEED_SMTP_URL", smtp_server.url)
    monkeypatch.setenv("ROPSFEED_MAIL_FROM", "ropsfeed <digest@ropsfeed.example.org>")
    monkeypatch.setenv("ROPSFEED_SECRET_KEY", "web-test-key")
    monkeypatch.setenv("ROPSFEED_BASE_URL", "https://ropsfeed.example.org/")
    with TestClient(create_app(database)) as test_client:
        yield test_client


def subscriber(database: str) -> Subscriber | None:
    with session_scope(database) as session:
        return session.scalar(select(Subscriber))


def count(database: str) -> int:
    with session_scope(database) as session:
        return session.scalar(select(func.count()).select_from(Subscriber)) or 0


def path_of(url: str) -> str:
    return url.removeprefix("https://ropsfeed.example.org")


FORM = {"email": "Ola.Nowak@Example.org", "frequency": "weekly", "weekday": "4", "voivodeship": ["podlaskie"],
        "keywords": "seniorzy, spółdzielnia socjalna"}  # fmt: skip


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_subscribe_confirm_receive_and_unsubscribe(client: TestClient, database: str,
                                                   smtp_server: SmtpServer) -> None:  # fmt: skip
    form = client.get("/subscribe")
    assert form.status_code == 200 and "Przegląd ogłoszeń e-mailem" in form.text
    assert 'href="/subscribe" aria-current="page">Subskrypcja</a>' in form.text, "the layout's menu links the form"
    assert 'value="świętokrzyskie"' in form.text

    bad = client.post("/subscribe", data={**FORM, "email": "ola@"})
    assert bad.status_code == 400 and "Podaj poprawny adres e-mail." in bad.text and count(database) == 0
    bad = client.post("/subscribe", data={**FORM, "voivodeship": ["mazowsze"]})
    assert bad.status_code == 400 and "Wybrane filtry są nieprawidłowe." in bad.text and count(database) == 0

    sent = client.post("/subscribe", data=FORM)
    assert sent.status_code == 200 and "Sprawdź skrzynkę" in sent.text and "ola.nowak@example.org" in sent.text
    [confirmation] = smtp_server.handler.parsed()
    assert confirmation["To"] == "ola.nowak@example.org"
    assert confirmation["Subject"] == "Potwierdź zapis na przegląd ogłoszeń ropsfeed"
    assert confirmation["List-Unsubscribe"] is None, "not a list message yet"
    text = confirmation.get_body(("plain",)).get_content()
    assert "cotygodniowy (w piątki) przegląd" in " ".join(text.split())
    assert [line for line in text.splitlines() if len(line) > 76 and not line.startswith("https://")] == []
    link = re.search(r"https://ropsfeed\.example\.org/confirm/\S+", text).group(0)
    assert f'href="{link}"' in confirmation.get_body(("html",)).get_content()
    row = subscriber(database)
    assert row.confirmed_at is None and row.email == "ola.nowak@example.org"

    page = client.get(path_of(link))
    assert page.status_code == 200 and "Potwierdź zapis" in page.text
    assert "(województwo: podlaskie; słowa kluczowe: seniorzy, spółdzielnia socjalna)" in page.text
    assert subscriber(database).confirmed_at is None, "a link scanner's GET confirms nothing"
    tampered = client.post(path_of(link)[:-3] + "xyz")
    assert tampered.status_code == 400 and "nieprawidłowy albo wygasł" in tampered.text
    done = client.post(path_of(link))
    assert done.status_code == 200 and "Zapis potwierdzony" in done.text
    row = subscriber(database)
    assert row.confirmed_at and (row.frequency, row.weekday) == ("weekly", 4)
    assert (row.voivodeships, row.keywords) == (["podlaskie"], ["seniorzy", "spółdzielnia socjalna"])

    again = client.post("/subscribe", data={**FORM, "email": "ola.nowak@example.org", "frequency": "daily"})
    assert again.status_code == 200 and count(database) == 1, "a second subscription never duplicates"
    assert subscriber(database).frequency == "weekly", "nor changes anything before it is confirmed"

    now = datetime.now(UTC)
    with session_scope(database, write=True) as session:
        add_story(session, source_id="rops-bialystok", title="Seniorzy w klubie", seen=now - timedelta(hours=1),
                  published=now - timedelta(hours=2))  # fmt: skip
    weekday = now.astimezone(WARSAW).weekday()
    assert send_digests(database, mail_settings(), now=now, echo=lambda _: None).sent == (weekday == 4)
    friday = now + timedelta(days=(4 - weekday) % 7)  # the day Ola chose for her first digest
    report = send_digests(database, mail_settings(), now=friday, echo=lambda _: None)
    assert report.sent == 1
    digest = smtp_server.handler.parsed()[-1]
    unsubscribe = path_of(digest["List-Unsubscribe"].split(",")[0].strip("<> "))

    for broken in (unsubscribe[:-2] + "zz", "/unsubscribe/abc"):
        assert client.get(broken).status_code == 400
        assert client.post(broken, data={"List-Unsubscribe": "One-Click"}).status_code == 400
    assert subscriber(database).unsubscribed_at is None, "a tampered token changes nothing"
    ask = client.get(unsubscribe)
    assert ask.status_code == 200 and "Wypisać się z przeglądu?" in ask.text
    assert subscriber(database).unsubscribed_at is None, "GET only asks"
    one_click = client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"})  # RFC 8058, as a provider sends it
    assert one_click.status_code == 200 and "Wypisano" in one_click.text
    assert subscriber(database).unsubscribed_at is not None
    assert client.post(unsubscribe).status_code == 200, "repeating it is harmless"
    assert "Wypisano" in client.get(unsubscribe).text
    with session_scope(database, write=True) as session:
        add_story(session, source_id="rops-bialystok", title="Seniorzy znowu", seen=now, published=now)
    assert send_digests(database, mail_settings(), now=now + timedelta(days=8), echo=lambda _: None).sent == 0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_subscriptions_without_smtp_are_unavailable_not_broken(client: TestClient, database: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.delenv("ROPSFEED_SMTP_URL")
    response = client.post("/subscribe", data=FORM)
    assert response.status_code == 503 and "chwilowo niedostępna" in response.text and count(database) == 0


def test_a_weekday_that_is_no_number_is_asked_again(client: TestClient, database: str) -> None:
    """ "²" passed str.isdigit() and int() raised: a 500 instead of the form asking for a weekday."""
    for weekday in ("²", "٤", "8", "x"):
        response = client.post("/subscribe", data={**FORM, "weekday": weekday})
        assert response.status_code == 400 and "Wybierz dzień tygodnia." in response.text, weekday
    assert count(database) == 0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_confirm_page_names_what_was_chosen(client: TestClient, database: str,
                                                smtp_server: SmtpServer) -> None:  # fmt: skip
    """The form offers institutions with their sites; the page that confirms the choice names them
    the same way, not by the ids the form posts ("rops-bialystok", "fundacja-barka")."""
    with session_scope(database, write=True) as session:
        key = add_story(session, source_id="mcps", title="Konkurs grantowy", also=("rops-bialystok",))
        mention(session, key, "fundacja-barka", "Fundacja Pomocy Wzajemnej „Barka”", "FPW")
    form = client.get("/subscribe").text
    assert "Regionalny Ośrodek Polityki Społecznej w Białymstoku (rops-bialystok.pl)" in form
    assert "Fundacja Pomocy Wzajemnej „Barka” (FPW)" in form
    sent = client.post("/subscribe", data={"email": "ewa@example.org", "source": ["rops-bialystok", "mcps"],
                                           "entity": "fundacja-barka", "voivodeship": "podlaskie"})  # fmt: skip
    assert sent.status_code == 200
    text = smtp_server.handler.parsed()[-1].get_body(("plain",)).get_content()
    link = re.search(r"https://ropsfeed\.example\.org/confirm/\S+", text).group(0)
    page = client.get(path_of(link))
    assert page.status_code == 200
    said = " ".join(page.text.split())
    assert ("(województwo: podlaskie; źródła: Regionalny Ośrodek Polityki Społecznej w Białymstoku "
            "(rops-bialystok.pl), Mazowieckie Centrum Polityki Społecznej (mcps.com.pl); instytucja: "
            "Fundacja Pomocy Wzajemnej „Barka” (FPW))") in said  # fmt: skip


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_form_size_limit_holds_without_a_content_length(client: TestClient, database: str,
                                                            smtp_server: SmtpServer) -> None:  # fmt: skip
    """MAX_FORM_BYTES is counted on what arrives: a chunked body (no Content-Length) is cut off as
    soon as it passes it, and Starlette's own refusals come out in Polish."""
    from aggregator.web.subscriptions import MAX_FORM_BYTES

    def chunks(size: int) -> Iterator[bytes]:
        yield b"email=ola%40example.org&frequency=daily&x="
        for _ in range(size // 1000 + 1):
            yield b"a" * 1000

    urlencoded = {"content-type": "application/x-www-form-urlencoded"}
    for size in (MAX_FORM_BYTES, 1_100_000):  # over the limit; over Starlette's own (1 MB a field)
        big = client.post("/subscribe", content=chunks(size), headers=urlencoded)
        assert big.status_code == 400 and "Formularz jest za duży." in big.text and "exceeded" not in big.text
    a_file = client.post("/subscribe", data={"email": "ola@example.org"}, files={"plik": ("a.txt", b"x")})
    assert a_file.status_code == 400 and "Nieprawidłowy formularz." in a_file.text
    assert "Maximum" not in a_file.text
    assert smtp_server.handler.messages == [] and count(database) == 0
    as_multipart = client.post("/subscribe", files={"email": (None, "ola@example.org"), "frequency": (None, "daily")})
    assert as_multipart.status_code == 200 and count(database) == 1, "a form sent as multipart/form-data still works"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_form_cannot_be_used_to_mail_someone_over_and_over(client: TestClient, database: str,
                                                               smtp_server: SmtpServer,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """Anyone may post the form with anyone's address: three confirmation mails an address an hour,
    then a 429 in Polish and no mail; another address is not held back by it. One client asking
    for more confirmations than a training room would is stopped the same way."""
    from aggregator.web import subscriptions

    for _ in range(3):
        assert client.post("/subscribe", data={**FORM, "email": "ofiara@example.org"}).status_code == 200
    again = client.post("/subscribe", data={**FORM, "email": "OFIARA@example.org"})
    assert again.status_code == 429 and again.headers["retry-after"] == "3600"
    assert "Na ten adres wysłaliśmy już kilka wiadomości z linkiem potwierdzającym." in again.text
    assert smtp_server.handler.recipients() == ["ofiara@example.org"] * 3
    assert client.post("/subscribe", data={**FORM, "email": "ktos.inny@example.org"}).status_code == 200

    monkeypatch.setattr(subscriptions, "CLIENT_LIMIT", (2, 3600.0))
    del client.app.state.confirmation_limits  # as a freshly started server
    for n in range(2):
        assert client.post("/subscribe", data={**FORM, "email": f"adres{n}@example.org"}).status_code == 200
    sprayed = client.post("/subscribe", data={**FORM, "email": "adres2@example.org"})
    assert sprayed.status_code == 429 and "zbyt wiele zapisów" in sprayed.text
    assert len(smtp_server.handler.messages) == 6


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_no_confirmation_link_to_a_loopback_address(client: TestClient, database: str, smtp_server: SmtpServer,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """`ropsfeed serve --host 0.0.0.0` without ROPSFEED_BASE_URL names itself http://127.0.0.1:PORT/:
    a visitor who reached it by another name would be mailed a link to their own machine. Such a
    form is refused (503, the operator told in the log); on the machine itself it works."""
    monkeypatch.setenv("ROPSFEED_BASE_URL", "http://127.0.0.1:8000/")
    refused = client.post("/subscribe", data={**FORM, "email": "ola@example.org"})
    assert refused.status_code == 503 and "chwilowo niedostępna" in refused.text
    assert smtp_server.handler.messages == []
    local = TestClient(client.app, base_url="http://127.0.0.1:8000")
    assert local.post("/subscribe", data={**FORM, "email": "ola@example.org"}).status_code == 200
    text = smtp_server.handler.parsed()[-1].get_body(("plain",)).get_content()
    assert "http://127.0.0.1:8000/confirm/" in text


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_sent_form_redirects_so_that_a_reload_posts_nothing(client: TestClient, database: str,
                                                             smtp_server: SmtpServer,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """Post/Redirect/Get: the form answers 303 to a page that says the mail went out, so reloading
    that page mails nothing and counts nothing against the rate limits. The address reaches that
    page only signed (never in clear in the URL); a forged or stale token names no address."""
    from urllib.parse import quote

    import itsdangerous.timed

    from aggregator.mail.tokens import sent_token

    invalid = client.post("/subscribe", data={**FORM, "email": "ola@"}, follow_redirects=False)
    assert invalid.status_code == 400 and 'value="ola@"' in invalid.text and 'value="podlaskie" checked' in invalid.text

    posted = client.post("/subscribe", data=FORM, follow_redirects=False)
    assert posted.status_code == 303 and len(smtp_server.handler.messages) == 1
    location = posted.headers["location"]
    assert location.startswith("/subscribe/sent?to=")
    for clear in ("ola.nowak@example.org", quote("ola.nowak@example.org"), "ola.nowak", "example.org"):
        assert clear not in location.lower()
    for _ in range(4):  # more than the address's three confirmations an hour
        page = client.get(location)
        assert page.status_code == 200 and "Sprawdź skrzynkę" in page.text
        assert "Wysłaliśmy na adres <strong>ola.nowak@example.org</strong> wiadomość z linkiem" in page.text
        assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"
    assert len(smtp_server.handler.messages) == 1, "reloading the page mails nothing"
    assert client.post("/subscribe", data=FORM).status_code == 200, "nor used up the address's limit"

    forged = sent_token("someone-else's-key", "ofiara@example.org")
    two_hours_ago = time.time() - 7200
    with monkeypatch.context() as patch:
        patch.setattr(itsdangerous.timed.time, "time", lambda: two_hours_ago)
        stale = sent_token("web-test-key", "ofiara@example.org")
    for to in ("", f"?to={forged}", f"?to={stale}", f"?to={location.rsplit('=', 1)[1][:-2]}"):
        page = client.get(f"/subscribe/sent{to}")
        assert page.status_code == 200 and "Wysłaliśmy na podany adres wiadomość z linkiem" in page.text
        assert "ofiara" not in page.text and "ola.nowak" not in page.text


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_refused_confirmation_says_if_retrying_helps(client: TestClient, database: str, smtp_server: SmtpServer,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    """What the SMTP server answered decides what the visitor is told, the form kept filled in. A
    permanent refusal (5xx) of the address or of the message will be the same in a few minutes: check
    the address. A temporary one (4xx) or a server out of reach: try again later. A refusal of our
    own sender address is the operator's to fix: the form is unavailable, the log says why. A
    confirmation not sent does not count against the address's hourly limit."""
    check = "Serwer poczty odrzucił wiadomość na ten adres. Sprawdź, czy adres jest wpisany poprawnie."
    later = "Nie udało się wysłać wiadomości potwierdzającej. Spróbuj ponownie za kilka minut."
    unavailable = "Zapisy są chwilowo niedostępne. Spróbuj ponownie później."
    handler = smtp_server.handler

    def post(address: str) -> tuple[int, str]:
        response = client.post("/subscribe", data={**FORM, "email": address}, follow_redirects=False)
        assert f'value="{address}"' in response.text and 'value="podlaskie" checked' in response.text
        return response.status_code, response.text

    handler.reject["nikt@example.org"] = "550 5.1.1 <nikt@example.org>: Recipient address rejected: User unknown"
    status, page = post("nikt@example.org")
    assert status == 400 and check in page and "Spróbuj ponownie" not in page
    handler.reject["pelna@example.org"] = "452 4.2.2 Mailbox full"
    for _ in range(4):  # more than an address's three confirmations an hour: none of them was sent
        status, page = post("pelna@example.org")
        assert status == 503 and later in page and "Sprawdź" not in page
    del handler.reject["pelna@example.org"]
    assert client.post("/subscribe", data={**FORM, "email": "pelna@example.org"}).status_code == 200
    assert handler.recipients() == ["pelna@example.org"], "trying again, as told, works once the server takes it"
    handler.messages.clear()

    handler.refuse_after, handler.refusal = 0, "554 5.7.1 Message rejected for policy reasons"
    status, page = post("ola@example.org")
    assert status == 400 and check in page
    handler.refusal = "451 4.3.0 Try again later"
    status, page = post("ola@example.org")
    assert status == 503 and later in page
    handler.refuse_after = None

    handler.reject_sender = "553 5.7.1 <digest@ropsfeed.example.org>: Sender address rejected: not owned by user"
    with caplog.at_level("ERROR", logger="aggregator.web.subscriptions"):
        status, page = post("ewa@example.org")
    assert status == 503 and unavailable in page and "Sprawdź" not in page
    assert "refuses our sender address" in caplog.text and "not owned by user" in caplog.text
    handler.reject_sender = "421 4.7.0 Too many connections, try again later"
    status, page = post("ewa@example.org")
    assert status == 503 and later in page
    handler.reject_sender = None
    assert handler.messages == []

    with monkeypatch.context() as patch:
        patch.setenv("ROPSFEED_SMTP_URL", f"smtp://127.0.0.1:{free_port()}")  # nobody listens there
        status, page = post("ewa@example.org")
    assert status == 503 and later in page
    assert client.post("/subscribe", data={**FORM, "email": "jan@example.org"}).status_code == 200
    assert handler.recipients() == ["jan@example.org"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_confirmation_mail_names_the_filters_as_the_confirm_page_does(client: TestClient, database: str,
                                                                         smtp_server: SmtpServer) -> None:  # fmt: skip
    """The mail asks to confirm a choice: it lists the filters chosen, not only how often, named as
    the confirm page names them (institutions and sites, not the ids the form posts; "instytucja"
    for one, "źródła" for more), in the text part and in the HTML part. No filters, no list."""
    import html

    with session_scope(database, write=True) as session:
        key = add_story(session, source_id="mcps", title="Konkurs grantowy", also=("rops-bialystok",))
        mention(session, key, "fundacja-barka", "Fundacja Pomocy Wzajemnej „Barka”", "FPW")
    client.post("/subscribe", data={"email": "ewa@example.org", "source": ["rops-bialystok", "mcps"],
                                    "entity": "fundacja-barka", "voivodeship": "podlaskie",
                                    "keywords": "seniorzy, <b>R&D</b>"})  # fmt: skip
    expected = [
        "województwo: podlaskie",
        "źródła: Regionalny Ośrodek Polityki Społecznej w Białymstoku (rops-bialystok.pl), Mazowieckie Centrum "
        "Polityki Społecznej (mcps.com.pl)",
        "instytucja: Fundacja Pomocy Wzajemnej „Barka” (FPW)",
        "słowa kluczowe: seniorzy, <b>R&D</b>",
    ]
    [mail] = smtp_server.handler.parsed()
    text = mail.get_body(("plain",)).get_content()
    said = " ".join(text.split())
    assert "Przegląd obejmie tylko ogłoszenia, które pasują do wybranych filtrów: * " + " * ".join(expected) in said
    assert "fundacja-barka" not in text
    assert [line for line in text.splitlines() if len(line) > 76 and not line.startswith("https://")] == []
    body = mail.get_body(("html",)).get_content()
    assert "Przegląd obejmie tylko ogłoszenia, które pasują do wybranych filtrów:</p>" in body
    assert "&lt;b&gt;R&amp;D&lt;/b&gt;" in body and "<b>R&D</b>" not in body
    items = [html.unescape(item).replace("\u00a0", " ") for item in re.findall(r"<li[^>]*>(.*?)</li>", body, re.S)]
    assert items == expected
    link = re.search(r"https://ropsfeed\.example\.org/confirm/\S+", text).group(0)
    page = " ".join(html.unescape(client.get(path_of(link)).text).split())
    assert f"({'; '.join(expected)})" in page, "the page says the same"

    client.post("/subscribe", data={"email": "jan@example.org", "frequency": "daily"})
    unfiltered = smtp_server.handler.parsed()[-1]
    text = unfiltered.get_body(("plain",)).get_content()
    assert "na codzienny przegląd" in " ".join(text.split()) and "filtrów" not in text
    assert "<li" not in unfiltered.get_body(("html",)).get_content()


def test_control_characters_in_the_form_are_refused_not_a_500(client: TestClient, database: str) -> None:
    """An institution with a NUL made PostgreSQL refuse the query (a 500); a keyword with one was
    mailed for confirmation. Now the form again, saying the filters are wrong, with no NUL echoed."""
    for field, value in (("entity", "mcps\x00"), ("source", "mcps\x00"), ("keywords", "nab\x00ór, x\x01")):
        response = client.post("/subscribe", data={**FORM, field: value})
        assert response.status_code == 400 and "Wybrane filtry są nieprawidłowe." in response.text, field
        assert "\x00" not in response.text and "\x01" not in response.text
    assert count(database) == 0
