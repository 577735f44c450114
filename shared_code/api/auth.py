"""Entra ID bearer tokens, validated in code, and the app roles they carry.

Signature against the tenant's JWKS (fetched with httpx, cached; refetched when a token
names an unknown ``kid``, at most once a minute so a flood of forged kids cannot hammer
Entra, and after a failed fetch not again for a few seconds, so with the keys unreachable a
flood of tokens waits on one fetch, not one each), then issuer, audience, expiry and not-before with a small clock skew. Roles are
hierarchical: Admin ⊃ Operator ⊃ Viewer; a token's highest role counts.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import httpx

from shared_code.config import Settings

log = logging.getLogger(__name__)

CLOCK_SKEW_SECONDS = 120
JWKS_MAX_AGE_SECONDS = 24 * 3600
JWKS_MIN_REFETCH_SECONDS = 60
JWKS_RETRY_AFTER_FAILURE_SECONDS = 10
ALGORITHMS = ["RS256"]


class Role(IntEnum):
    """The least role a route needs. Values order the hierarchy."""

    ANONYMOUS = 0
    VIEWER = 1
    OPERATOR = 2
    ADMIN = 3

    @property
    def claim(self) -> str:
        return self.name.capitalize()


class Unauthorized(Exception):
    """No valid token: 401 with a WWW-Authenticate challenge."""


class Forbidden(Exception):
    """A valid token without the role the route needs: 403."""


@dataclass(frozen=True)
class Principal:
    subject: str
    name: str
    roles: frozenset[str] = field(default_factory=frozenset)

    @property
    def highest_role(self) -> Role:
        held = [role for role in Role if role.claim in self.roles and role is not Role.ANONYMOUS]
        return max(held, default=Role.ANONYMOUS)

    def can(self, needed: Role) -> bool:
        return self.highest_role >= needed


LOCAL_ADMIN = Principal(subject="local-admin", name="Local admin (auth off)", roles=frozenset({"Admin"}))
ANONYMOUS = Principal(subject="anonymous", name="anonymous")


class JwksCache:
    """The tenant's signing keys by kid."""

    def __init__(self, url: str, client: httpx.Client) -> None:
        self.url = url
        self.client = client
        self._keys: dict[str, Any] = {}
        self._fetched_at = 0.0
        self._failed_at: float | None = None
        self._lock = threading.Lock()

    def key_for(self, kid: str) -> Any:
        with self._lock:
            now = time.monotonic()
            stale = now - self._fetched_at > JWKS_MAX_AGE_SECONDS
            unknown = kid not in self._keys
            may_refetch = now - self._fetched_at > JWKS_MIN_REFETCH_SECONDS
            backing_off = (
                self._failed_at is not None and now - self._failed_at < JWKS_RETRY_AFTER_FAILURE_SECONDS
            )
            if (stale or (unknown and may_refetch)) and not backing_off:
                self._refresh()
            if not self._keys:
                raise Unauthorized("signing keys unavailable")
            if kid not in self._keys:
                raise Unauthorized("token signed with an unknown key")
            return self._keys[kid]

    def _refresh(self) -> None:
        import jwt  # PyJWT + cryptography: imported on first use, not at cold start

        try:
            response = self.client.get(self.url, timeout=10)
            response.raise_for_status()
            keys = response.json()["keys"]
        except (httpx.HTTPError, ValueError, KeyError) as error:
            self._failed_at = time.monotonic()
            log.error("cannot fetch the signing keys from %s: %s", self.url, type(error).__name__)
            return
        self._keys = {
            jwk["kid"]: jwt.PyJWK(jwk).key for jwk in keys if jwk.get("kid") and jwk.get("kty") == "RSA"
        }
        self._fetched_at, self._failed_at = time.monotonic(), None


class TokenValidator:
    def __init__(self, settings: Settings, client: httpx.Client | None = None) -> None:
        self.issuer = settings.token_issuer
        self.audience = settings.auth_audience
        self.jwks = JwksCache(settings.jwks_url, client or httpx.Client(verify=True))

    def principal_from(self, authorization: str | None) -> Principal:
        token = bearer_token(authorization)
        claims = self._decode(token)
        return Principal(
            subject=str(claims.get("oid") or claims.get("sub")),
            name=str(claims.get("preferred_username") or claims.get("name") or claims.get("sub")),
            roles=frozenset(r for r in claims.get("roles", []) if isinstance(r, str)),
        )

    def _decode(self, token: str) -> dict[str, Any]:
        import jwt

        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthorized("malformed token") from None
        if header.get("alg") not in ALGORITHMS:
            raise Unauthorized("unsupported token algorithm")
        key = self.jwks.key_for(str(header.get("kid")))
        try:
            return jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=self.audience,
                issuer=self.issuer,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("token expired") from None
        except jwt.ImmatureSignatureError:
            raise Unauthorized("token not yet valid") from None
        except jwt.InvalidAudienceError:
            raise Unauthorized("token audience is not this API") from None
        except jwt.InvalidIssuerError:
            raise Unauthorized("token issuer is not the configured tenant") from None
        except jwt.PyJWTError as error:
            raise Unauthorized(f"invalid token: {type(error).__name__}") from None


def bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token")
    return token.strip()


class Authenticator:
    """Who is calling: the token's principal, or the local admin when auth is off."""

    def __init__(self, settings: Settings, client: httpx.Client | None = None) -> None:
        self.auth_off = settings.auth_mode == "off"
        self.validator = None if self.auth_off else TokenValidator(settings, client)

    def principal(self, authorization: str | None, needed: Role) -> Principal:
        if needed is Role.ANONYMOUS:
            return ANONYMOUS
        if self.validator is None:
            return LOCAL_ADMIN
        principal = self.validator.principal_from(authorization)
        if not principal.can(needed):
            raise Forbidden(f"this action needs the {needed.claim} role")
        return principal
