"""A real SMTP server on loopback (aiosmtpd) collecting what the notifier sends, and seeding helpers."""
from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

SMTP_USER = "mailer"
SMTP_PASSWORD = "s3cret-pw-7781"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Inbox:
    """An aiosmtpd handler that keeps every envelope."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.port = 0

    async def handle_DATA(self, server, session, envelope) -> str:  # type: ignore[no-untyped-def]
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[EmailMessage]:
        return [email.message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]  # type: ignore[misc]


def _start(inbox: Inbox, **kwargs: Any) -> Controller:
    inbox.port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port, **kwargs)
    controller.start()
    return controller


@pytest.fixture
def smtp_server() -> Iterator[Inbox]:
    inbox = Inbox()
    controller = _start(inbox)
    yield inbox
    controller.stop()


def _authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:  # type: ignore[no-untyped-def]
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == SMTP_USER.encode()
          and auth_data.password == SMTP_PASSWORD.encode())
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def auth_smtp_server() -> Iterator[Inbox]:
    """A server that insists on AUTH (over plain text: loopback only, for the test)."""
    inbox = Inbox()
    controller = _start(inbox, auth_required=True, auth_require_tls=False, authenticator=_authenticator)
    yield inbox
    controller.stop()



@pytest.fixture(scope="session")
def loopback_certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (cert file, key file), made with `cryptography`."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_file), str(key_file)


@pytest.fixture
def tls_smtp_servers(loopback_certificate: tuple[str, str],
                     monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Inbox]]:
    """Two servers with our certificate: one that requires STARTTLS, one speaking TLS from the start.

    The client verifies certificates as in production (ssl.create_default_context); SSL_CERT_FILE makes it
    trust the test certificate.
    """
    import ssl

    cert_file, key_file = loopback_certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    monkeypatch.setenv("SSL_CERT_FILE", cert_file)
    starttls, implicit = Inbox(), Inbox()
    controllers = [
        _start(starttls, tls_context=context, require_starttls=True, auth_require_tls=True,
               authenticator=_authenticator),
        # aiosmtpd cannot tell that an implicit-TLS transport is encrypted, so it must be told AUTH is fine.
        _start(implicit, ssl_context=context, auth_require_tls=False, authenticator=_authenticator),
    ]
    yield {"starttls": starttls, "ssl": implicit}
    for controller in controllers:
        controller.stop()
