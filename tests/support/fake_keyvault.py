"""A Key Vault secrets stand-in on loopback over TLS, and a managed-identity token endpoint.

The real ``azure-keyvault-secrets`` client and azure-identity's ``ManagedIdentityCredential`` run
against it, as in Azure:
- the identity endpoint is the App Service / Functions one (``IDENTITY_ENDPOINT`` with the
  ``X-IDENTITY-HEADER`` check, ``GET ?api-version=2019-08-01&resource=``), on plain HTTP as there;
- the vault answers an unauthenticated request with Key Vault's 401 challenge, then
  ``PUT /secrets/{name}`` (a new version each time) and ``GET /secrets/{name}/{version}``, with
  Key Vault's ``SecretNotFound`` error for what it does not hold.

The SDK accepts a challenge only when the vault's host ends with ``.{resource host}``
(``vault.azure.net`` for ``x.vault.azure.net``). A loopback address has no such parent name, so
the challenge names the tail of the address (``0.0.1:port`` for ``127.0.0.1:port``).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.loopback import LoopbackServer
from tests.support.loopback_http import Response, json_handler, json_response
from tests.support.tls import LoopbackTls, loopback_tls

TENANT_ID = "99999999-8888-7777-6666-555555555555"
IDENTITY_HEADER = "fake-identity-header-value"


class FakeKeyVault:
    def __init__(self, tls: LoopbackTls | None = None) -> None:
        self.tls = tls or loopback_tls()
        self._lock = threading.Lock()
        self.secrets: dict[str, dict[str, str]] = {}  # name -> version -> value
        self.tokens: set[str] = set()
        self.requests: list[tuple[str, str]] = []
        self.vault = LoopbackServer(json_handler(self._vault), "fake-keyvault")
        self.identity = LoopbackServer(json_handler(self._identity), "fake-identity-endpoint")
        self.vault.start(self.tls.server_context())
        self.identity.start()

    @property
    def vault_url(self) -> str:
        return f"https://127.0.0.1:{self.vault.port}/"

    def env(self) -> dict[str, str]:
        """What the app (and azure-identity) read to use this vault with a managed identity."""
        return {
            "KEY_VAULT_URL": self.vault_url,
            "KEY_VAULT_CA_BUNDLE": str(self.tls.ca_bundle),
            "IDENTITY_ENDPOINT": f"http://127.0.0.1:{self.identity.port}/msi/token",
            "IDENTITY_HEADER": IDENTITY_HEADER,
        }

    def values(self, name: str) -> list[str]:
        with self._lock:
            return list(self.secrets.get(name, {}).values())

    def stop(self) -> None:
        self.vault.stop()
        self.identity.stop()

    # --- managed identity ---------------------------------------------------------------------------

    def _identity(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Response:
        query = {k: v[0] for k, v in parse_qs(urlsplit(path).query).items()}
        if headers.get("x-identity-header") != IDENTITY_HEADER or "resource" not in query:
            return json_response(
                400, {"statusCode": 400, "message": "missing or wrong X-IDENTITY-HEADER or resource"}
            )
        token = f"fake-mi-token-{uuid.uuid4().hex}"
        with self._lock:
            self.tokens.add(token)
        expires = int(time.time()) + 3600
        payload = {"access_token": token, "expires_on": str(expires), "resource": query["resource"]}
        return json_response(200, payload | {"token_type": "Bearer"})

    # --- the vault ------------------------------------------------------------------------------------

    def _vault(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
        path = urlsplit(target).path
        with self._lock:
            self.requests.append((method, path))
            scheme, _, token = headers.get("authorization", "").partition(" ")
            authorized = scheme == "Bearer" and token in self.tokens
        if not authorized:
            resource = f"https://0.0.1:{self.vault.port}"
            challenge = (
                f'Bearer authorization="https://login.microsoftonline.com/{TENANT_ID}", resource="{resource}"'
            )
            error = {"code": "Unauthorized", "message": "AKV10000: Request is missing a Bearer or PoP token."}
            return json_response(401, {"error": error}, {"WWW-Authenticate": challenge})
        parts = [part for part in path.split("/") if part]
        if len(parts) >= 2 and parts[0] == "secrets":
            name = parts[1]
            if method == "PUT" and len(parts) == 2:
                payload = json.loads(body or b"{}")
                version = uuid.uuid4().hex
                with self._lock:
                    self.secrets.setdefault(name, {})[version] = payload["value"]
                return json_response(
                    200, self._bundle(name, version, payload["value"], payload.get("contentType"))
                )
            if method == "GET":
                with self._lock:
                    versions = self.secrets.get(name, {})
                    version = parts[2] if len(parts) > 2 else next(reversed(versions), None)
                    value = versions.get(version or "")
                if value is not None:
                    return json_response(200, self._bundle(name, version or "", value, "text/plain"))
                message = f"A secret with (name/id) {name}/{version} was not found in this key vault."
                return json_response(404, {"error": {"code": "SecretNotFound", "message": message}})
        return json_response(404, {"error": {"code": "NotFound", "message": path}})

    def _bundle(self, name: str, version: str, value: str, content_type: str | None) -> dict[str, Any]:
        now = int(time.time())
        return {
            "value": value,
            "contentType": content_type,
            "id": f"{self.vault_url}secrets/{name}/{version}",
            "attributes": {
                "enabled": True,
                "created": now,
                "updated": now,
                "recoveryLevel": "Recoverable+Purgeable",
            },
        }
