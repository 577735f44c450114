"""A fake Entra ID sign-in for the browser (authorization code + PKCE), over TLS on loopback.

msal-browser insists on an https authority: the page is sent to ``/authorize``, which signs the
user in at once and redirects back with a code; MSAL then redeems the code (with its PKCE
verifier, checked here) at ``/token`` from the page, cross-origin. The access token is minted by
the session's FakeEntra, so the API under test accepts it exactly as it accepts Entra's.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import jwt

from tests.support.entra import TENANT_ID, FakeEntra
from tests.support.tls import LoopbackTls, loopback_tls

USER_OID = "00000000-0000-0000-0000-00000000abcd"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class FakeSignIn:
    def __init__(
        self, entra: FakeEntra, *, roles: tuple[str, ...] = ("Operator",), tls: LoopbackTls | None = None
    ):
        self.entra, self.roles = entra, roles
        self.tls = tls or loopback_tls()
        self.codes: dict[str, dict[str, str]] = {}
        self.requests: list[str] = []
        self.tokens_issued = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake.requests.append(f"GET {self.path}")
                fake.handle_get(self)

            def do_POST(self) -> None:
                fake.requests.append(f"POST {self.path}")
                length = int(self.headers.get("content-length") or 0)
                fake.handle_post(self, self.rfile.read(length).decode())

            def do_OPTIONS(self) -> None:
                fake.answer(self, 204, b"", preflight=True)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = self.tls.server_context().wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, name="fake-signin", daemon=True).start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.server_port}"

    @property
    def authority(self) -> str:
        return f"https://{self.host}/{TENANT_ID}"

    def stop(self) -> None:
        self.server.shutdown()

    # --- protocol ---------------------------------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        base = self.authority
        return {
            "issuer": f"{base}/v2.0",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "response_types_supported": ["code"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["none"],
        }

    def handle_get(self, request: BaseHTTPRequestHandler) -> None:
        url = urlsplit(request.path)
        query = dict(parse_qsl(url.query))
        if url.path.endswith("/.well-known/openid-configuration"):
            self.answer(request, 200, json.dumps(self.metadata()).encode())
        elif url.path.endswith("/oauth2/v2.0/authorize"):
            self.authorize(request, query)
        elif url.path.endswith("/oauth2/v2.0/logout"):
            request.send_response(302)
            request.send_header("location", query.get("post_logout_redirect_uri", "/"))
            request.end_headers()
        else:
            self.answer(request, 404, b'{"error": "not_found"}')

    def authorize(self, request: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        """The user is signed in at once: back to the redirect URI with a code."""
        code = secrets.token_urlsafe(16)
        self.codes[code] = query
        answer = {"code": code, "state": query.get("state", ""), "client_info": self.client_info()}
        separator = "?" if query.get("response_mode") == "query" else "#"
        request.send_response(302)
        request.send_header("location", f"{query['redirect_uri']}{separator}{urlencode(answer)}")
        request.end_headers()

    def handle_post(self, request: BaseHTTPRequestHandler, body: str) -> None:
        form = dict(parse_qsl(body))
        asked = self.codes.pop(form.get("code", ""), None)
        if asked is None or not self.pkce_ok(asked, form.get("code_verifier", "")):
            self.answer(request, 400, b'{"error": "invalid_grant"}')
            return
        self.tokens_issued += 1
        token = self.entra.token(*self.roles)
        self.answer(
            request,
            200,
            json.dumps(
                {
                    "token_type": "Bearer",
                    "scope": asked.get("scope", ""),
                    "expires_in": 3600,
                    "ext_expires_in": 3600,
                    "access_token": token,
                    "id_token": self.id_token(asked),
                    "client_info": self.client_info(),
                }
            ).encode(),
        )

    @staticmethod
    def pkce_ok(asked: dict[str, str], verifier: str) -> bool:
        challenge = asked.get("code_challenge")
        return challenge is not None and _b64url(hashlib.sha256(verifier.encode()).digest()) == challenge

    def id_token(self, asked: dict[str, str]) -> str:
        now = int(time.time())
        claims = {
            "iss": f"{self.authority}/v2.0",
            "aud": asked.get("client_id"),
            "sub": "user-subject",
            "oid": USER_OID,
            "tid": TENANT_ID,
            "name": "Olga Operator",
            "preferred_username": "operator@example.test",
            "nonce": asked.get("nonce"),
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "ver": "2.0",
            "uti": uuid.uuid4().hex,
        }
        signer = self.entra.keys[0]
        return jwt.encode(claims, signer.private, algorithm="RS256", headers={"kid": signer.kid})

    @staticmethod
    def client_info() -> str:
        return _b64url(json.dumps({"uid": USER_OID, "utid": TENANT_ID}).encode())

    def answer(
        self, request: BaseHTTPRequestHandler, status: int, body: bytes, *, preflight: bool = False
    ) -> None:
        request.send_response(status)
        origin = request.headers.get("origin")
        if origin:  # the token request comes from the site's origin
            request.send_header("access-control-allow-origin", origin)
            request.send_header("access-control-allow-headers", "*")
            request.send_header("access-control-allow-methods", "GET, POST, OPTIONS")
        if not preflight:
            request.send_header("content-type", "application/json")
        request.send_header("content-length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)
