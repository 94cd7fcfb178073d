"""The SMTP connection with TLS and login, as real providers want it: STARTTLS on a submission
port and TLS from the first byte (SMTPS), each with a password; a wrong password is a clear error."""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Iterator
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from aggregator.mail.settings import SmtpSettings
from aggregator.mail.smtp import ConnectionLost, SmtpSender
from tests.aggregator.mail.conftest import Recorder, free_port

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
PASSWORD = "p@ss:word ź"  # URL-encoded in the URL, and not ASCII


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the client trusts exactly this one)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))  # fmt: skip
    return cert_path, key_path


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"jan@example.org", PASSWORD.encode())
    return AuthResult(success=ok, handled=False)  # handled=True would leave the client waiting


@pytest.fixture(params=["starttls", "ssl"])
def tls_server(request: pytest.FixtureRequest, certificate: tuple[Path, Path]) -> Iterator[tuple[str, Recorder]]:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(*certificate)
    handler = Recorder()
    port = free_port()
    options: dict[str, Any] = {"authenticator": authenticator, "auth_required": True}
    if request.param == "starttls":
        controller = Controller(handler, hostname="127.0.0.1", port=port, tls_context=server_context,
                                require_starttls=True, **options)  # fmt: skip
        url = f"smtp+starttls://jan%40example.org:{_quoted(PASSWORD)}@127.0.0.1:{port}"
    else:
        # aiosmtpd does not notice TLS it did not negotiate itself: let it accept AUTH (this *is* TLS,
        # as the untrusted-certificate test shows)
        controller = Controller(handler, hostname="127.0.0.1", port=port, ssl_context=server_context,
                                auth_require_tls=False, **options)  # fmt: skip
        url = f"smtps://jan%40example.org:{_quoted(PASSWORD)}@127.0.0.1:{port}"
    controller.start()
    try:
        yield url, handler
    finally:
        controller.stop()


def _quoted(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


def client_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[0]))


def message() -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = "Próba"
    mail["From"] = "digest@ropsfeed.example.org"
    mail["To"] = "ola@example.org"
    mail.set_content("Zażółć gęślą jaźń.")
    return mail


def test_tls_and_login(tls_server: tuple[str, Recorder], certificate: tuple[Path, Path]) -> None:
    url, handler = tls_server
    settings = SmtpSettings.from_url(url)
    assert settings.password == PASSWORD
    with SmtpSender(settings, ssl_context=client_context(certificate)) as sender:
        sender.send(message(), "digest@ropsfeed.example.org", "ola@example.org")
        sender.send(message(), "digest@ropsfeed.example.org", "ola@example.org")  # the same connection
    assert handler.recipients() == ["ola@example.org", "ola@example.org"]
    assert "Zażółć gęślą jaźń." in handler.parsed()[0].get_content()


def test_wrong_password_and_untrusted_certificate(tls_server: tuple[str, Recorder],
                                                  certificate: tuple[Path, Path]) -> None:  # fmt: skip
    url, handler = tls_server
    wrong = replace(SmtpSettings.from_url(url.replace(_quoted(PASSWORD), "wrong")), timeout=5)
    with pytest.raises(ConnectionLost, match=r"login as jan@example\.org refused") as error:
        SmtpSender(wrong, ssl_context=client_context(certificate)).send(message(), "d@x.org", "ola@example.org")
    assert PASSWORD not in str(error.value)
    with pytest.raises(ConnectionLost, match="cannot talk to"):  # the default context does not trust it
        SmtpSender(SmtpSettings.from_url(url)).send(message(), "d@x.org", "ola@example.org")
    assert handler.messages == []


class _Envelopes:
    """Keeps each message's MAIL FROM parameters and its bytes as they came."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((list(envelope.mail_options), envelope.original_content))
        return "250 OK"


@pytest.mark.parametrize("eight_bit_server", [True, False])
def test_a_utf8_body_is_declared_8bitmime_or_sent_7bit(eight_bit_server: bool) -> None:
    """RFC 6152: 8-bit text goes only to a server that offers 8BITMIME, declared with BODY=8BITMIME;
    a server that does not offer it (aiosmtpd with decode_data) gets the parts quoted-printable."""
    import email
    import email.policy

    from aggregator.mail.message import POLICY

    handler = _Envelopes()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, decode_data=not eight_bit_server)
    controller.start()
    try:
        message = EmailMessage(policy=POLICY)
        message["Subject"] = "Zażółć gęślą jaźń"
        message.set_content("Nabór wniosków dla spółdzielni socjalnych.\n", charset="utf-8")
        message.add_alternative("<p>Nabór wniosków dla spółdzielni socjalnych.</p>\n", subtype="html", charset="utf-8")
        with SmtpSender(SmtpSettings.from_url(f"smtp://127.0.0.1:{port}")) as sender:
            sender.send(message, "biuletyn@example.org", "ola@example.org")
    finally:
        controller.stop()
    [(options, raw)] = handler.received
    if eight_bit_server:
        assert "BODY=8BITMIME" in options and "Content-Transfer-Encoding: 8bit" in raw.decode()
    else:
        assert "BODY=8BITMIME" not in options and raw.isascii()
        assert "Content-Transfer-Encoding: quoted-printable" in raw.decode()
    got = email.message_from_bytes(raw, policy=email.policy.default)
    assert got.get_body(("plain",)).get_content().splitlines() == ["Nabór wniosków dla spółdzielni socjalnych."]
    assert "spółdzielni" in got.get_body(("html",)).get_content()
    assert [part["Content-Transfer-Encoding"] for part in message.iter_parts()] == ["8bit", "8bit"], "not changed"
