"""Every route in the table, whatever issue added it: no token, bad tokens, too low a role, right role."""

from __future__ import annotations

import functools
import re

import httpx
import pytest

import function_app  # noqa: F401  (registers every blueprint, filling the route table)
from shared_code.api.auth import JWKS_MIN_REFETCH_SECONDS, JwksCache, Role, Unauthorized
from shared_code.api.dispatch import default_authenticator
from shared_code.api.routing import ROUTES, Route
from tests.support.entra import SigningKey

PROTECTED = [r for r in ROUTES if r.role is not Role.ANONYMOUS]
ROLE_BELOW = {Role.VIEWER: None, Role.OPERATOR: "Viewer", Role.ADMIN: "Operator"}


def concrete_path(route: Route) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", "1", route.openapi_path)


def call(api, route: Route, headers: dict[str, str]):
    body = {} if route.body is not None else None
    return api.request(route.method, concrete_path(route), role=None, headers=headers, body=body)


def route_id(route: Route) -> str:
    return f"{route.method} {route.path}"


def test_the_route_table_is_populated() -> None:
    assert {("GET", "health"), ("GET", "openapi.json"), ("GET", "me")} <= {(r.method, r.path) for r in ROUTES}


@pytest.mark.parametrize("route", PROTECTED, ids=route_id)
def test_no_token_is_401_with_a_challenge(rejecting_api, route: Route) -> None:
    response = call(rejecting_api, route, {})
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "unauthorized"


BAD_TOKENS = {
    "expired": lambda entra: entra.token("Admin", lifetime=-600),
    "not yet valid": lambda entra: entra.token("Admin", not_before=600),
    "wrong audience": lambda entra: entra.token("Admin", aud="api://someone-else"),
    "wrong issuer": lambda entra: entra.token("Admin", iss="https://login.example.test/other-tenant/v2.0"),
    "bad signature": lambda entra: entra.token("Admin", key=_impostor(entra)),
    "unknown key": lambda entra: entra.token("Admin", key=_stranger()),
    "not a jwt": lambda entra: "not-a-token",
}


@functools.cache
def _stranger() -> SigningKey:
    """A key Entra never published (made once: an RSA key takes a while)."""
    return SigningKey()


def _impostor(entra) -> SigningKey:
    """Same kid as the real key, different private key: only the signature check catches it."""
    return _impostor_of(entra.keys[0].kid)


@functools.cache
def _impostor_of(kid: str) -> SigningKey:
    return SigningKey(kid=kid)


@pytest.mark.parametrize("kind", BAD_TOKENS)
@pytest.mark.parametrize("route", PROTECTED, ids=route_id)
def test_invalid_tokens_are_401(rejecting_api, entra, route: Route, kind: str) -> None:
    response = call(rejecting_api, route, {"authorization": f"Bearer {BAD_TOKENS[kind](entra)}"})
    assert response.status == 401, response.body
    assert "invalid_token" in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize("route", PROTECTED, ids=route_id)
def test_too_low_a_role_is_403(rejecting_api, entra, route: Route) -> None:
    below = ROLE_BELOW[route.role]
    response = call(rejecting_api, route, entra.bearer(*([below] if below else [])))
    assert response.status == 403, response.body
    assert response.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize("route", ROUTES, ids=route_id)
def test_the_right_role_passes_auth(api, entra, route: Route) -> None:
    headers = entra.bearer(route.role.claim) if route.role is not Role.ANONYMOUS else {}
    response = call(api, route, headers)
    assert response.status not in (401, 403), response.body


def test_a_higher_role_includes_the_lower_ones(api, entra) -> None:
    response = api.get("/api/me", role="Admin")
    assert response.json()["roles"] == ["Viewer", "Operator", "Admin"]
    assert response.json()["timezone"] == "Europe/Amsterdam"  # the UI timezone the site shows times in
    assert api.get("/api/me", role="Viewer").json()["roles"] == ["Viewer"]


def test_signing_keys_are_cached_and_refetched_for_a_new_kid(api, entra) -> None:
    api.get("/api/me")
    fetches = entra.fetches
    api.get("/api/me")
    assert entra.fetches == fetches  # cached
    rotated = SigningKey()
    entra.keys.append(rotated)
    try:
        default_authenticator().validator.jwks._fetched_at -= JWKS_MIN_REFETCH_SECONDS + 1
        headers = {"authorization": f"Bearer {entra.token('Viewer', key=rotated)}"}
        assert api.get("/api/me", role=None, headers=headers).status == 200
        assert entra.fetches == fetches + 1  # one refetch for the new kid
    finally:
        entra.keys.remove(rotated)


def test_with_the_signing_keys_unreachable_a_flood_of_tokens_waits_on_one_fetch(entra) -> None:
    """38 forged tokens while the JWKS endpoint fails: one fetch, not one per token (each up to 10 s)."""
    fetches: list[httpx.Request] = []

    def unreachable(request: httpx.Request) -> httpx.Response:
        fetches.append(request)
        raise httpx.ConnectTimeout("timed out", request=request)

    cache = JwksCache(entra.jwks_url, httpx.Client(transport=httpx.MockTransport(unreachable)))
    for n in range(38):
        with pytest.raises(Unauthorized, match="signing keys unavailable"):
            cache.key_for(f"forged-{n}")
    assert len(fetches) == 1
