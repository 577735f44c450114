"""A fake Entra ID for tests: RSA signing keys served as a JWKS on loopback, and a token minter."""

from __future__ import annotations

import json
import time
import uuid
from http.server import BaseHTTPRequestHandler
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.loopback import LoopbackServer

TENANT_ID = "11111111-2222-3333-4444-555555555555"
AUDIENCE = "api://backupchecks-test"


class SigningKey:
    def __init__(self, kid: str | None = None) -> None:
        self.kid = kid or uuid.uuid4().hex
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**public, "kid": self.kid, "use": "sig", "alg": "RS256"}


class FakeEntra:
    """Serves ``/<tenant>/discovery/v2.0/keys``; counts fetches so caching can be asserted.

    Its address is fixed on creation; it serves (and makes its first key) from ``start()``."""

    def __init__(self) -> None:
        self.keys: list[SigningKey] = []
        self.fetches = 0
        entra = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                entra.fetches += 1
                body = json.dumps({"keys": [key.jwk() for key in entra.keys]}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.loopback = LoopbackServer(Handler, "fake-entra")

    def start(self) -> FakeEntra:
        if not self.loopback.started:
            self.keys = [SigningKey()]
            self.loopback.start()
        return self

    @property
    def authority(self) -> str:
        return f"http://127.0.0.1:{self.loopback.port}"

    @property
    def jwks_url(self) -> str:
        return f"{self.authority}/{TENANT_ID}/discovery/v2.0/keys"

    @property
    def issuer(self) -> str:
        return f"{self.authority}/{TENANT_ID}/v2.0"

    def env(self) -> dict[str, str]:
        return {
            "AUTH_MODE": "entra",
            "AUTH_TENANT_ID": TENANT_ID,
            "AUTH_AUDIENCE": AUDIENCE,
            "AUTH_AUTHORITY_HOST": self.authority,
        }

    def token(
        self,
        *roles: str,
        key: SigningKey | None = None,
        lifetime: int = 3600,
        not_before: int = 0,
        **claims: Any,
    ) -> str:
        now = int(time.time())
        payload = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": "user-subject",
            "oid": "00000000-0000-0000-0000-00000000abcd",
            "preferred_username": "operator@example.test",
            "iat": now,
            "nbf": now + not_before,
            "exp": now + lifetime,
            "roles": list(roles),
            **claims,
        }
        signer = key or self.keys[0]
        return jwt.encode(payload, signer.private, algorithm="RS256", headers={"kid": signer.kid})

    def bearer(self, *roles: str, **kwargs: Any) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token(*roles, **kwargs)}"}

    def stop(self) -> None:
        self.loopback.stop()
