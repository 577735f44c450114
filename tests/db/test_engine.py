"""The engine's Azure modes: Entra tokens as the password, and TLS that really verifies."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from shared_code.config import load_settings
from shared_code.db.engine import ENTRA_DB_SCOPE, build_engine


class FakeCredential:
    def __init__(self) -> None:
        self.scopes: list[str] = []

    def get_token(self, scope: str):
        self.scopes.append(scope)
        return type("AccessToken", (), {"token": f"entra-token-{len(self.scopes)}"})()


def test_entra_auth_uses_a_fresh_token_as_the_password_for_each_connection(database) -> None:
    settings = load_settings(
        {"DATABASE_URL": database.url, "DATABASE_AUTH": "entra", "DATABASE_TLS": "verify", "AUTH_MODE": "off"}
    )
    credential = FakeCredential()
    # The embedded server speaks on a unix socket (no TLS there); the token path is what is tested.
    engine = build_engine(settings.model_copy(update={"database_tls": "off"}), credential=credential)
    for _ in range(2):
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1
        engine.dispose()  # the next connection is a new one
    assert credential.scopes == [ENTRA_DB_SCOPE, ENTRA_DB_SCOPE]


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "server.crt", tmp_path / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_postgres_stub(tmp_path):
    """Answers PostgreSQL's SSLRequest with 'S' and a TLS handshake using a self-signed certificate."""
    cert, key = self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    handshakes: list[str] = []

    def serve() -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            with client:
                client.recv(8)  # SSLRequest
                client.sendall(b"S")
                try:
                    with context.wrap_socket(client, server_side=True):
                        handshakes.append("completed")
                except (ssl.SSLError, OSError):
                    handshakes.append("refused by client")

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1], cert, handshakes
    listener.close()


def test_verify_refuses_a_server_certificate_it_cannot_trust(tls_postgres_stub) -> None:
    port, _, handshakes = tls_postgres_stub
    settings = load_settings(
        {
            "DATABASE_URL": f"postgresql://app@127.0.0.1:{port}/db",
            "DATABASE_TLS": "verify",
            "AUTH_MODE": "off",
        }
    )
    with pytest.raises(ssl.SSLCertVerificationError, match="self-signed certificate"):
        build_engine(settings).connect()
    deadline = time.monotonic() + 2
    while not handshakes and time.monotonic() < deadline:
        time.sleep(0.01)
    assert handshakes == ["refused by client"]


def test_verify_completes_the_handshake_with_a_trusted_certificate(tls_postgres_stub, monkeypatch) -> None:
    port, cert, handshakes = tls_postgres_stub
    trusting = ssl.create_default_context(cafile=str(cert))
    monkeypatch.setattr("shared_code.db.engine.verified_tls_context", lambda: trusting)
    settings = load_settings(
        {
            "DATABASE_URL": f"postgresql://app@127.0.0.1:{port}/db",
            "DATABASE_TLS": "verify",
            "AUTH_MODE": "off",
        }
    )
    with pytest.raises(DBAPIError):  # the stub speaks no PostgreSQL after the handshake
        build_engine(settings).connect()
    assert handshakes == ["completed"]


def test_the_url_keeps_any_postgres_scheme_but_drives_pg8000(database) -> None:
    assert (
        make_url(
            build_engine(load_settings({"DATABASE_URL": "postgresql://a@h/d", "AUTH_MODE": "off"})).url
        ).drivername
        == "postgresql+pg8000"
    )
