"""Routes are registered with the Functions host without type constraints; the dispatcher types them."""

from __future__ import annotations

import itertools

import pytest

import function_app  # noqa: F401  (fills the route table)
from shared_code.api.routing import ROUTES


def _segments(path: str) -> list[str | None]:
    """A route's segments, with every parameter as None (it matches any value)."""
    return [None if part.startswith("{") else part for part in path.split("/")]


def test_no_two_routes_of_one_method_can_match_the_same_path() -> None:
    """Unconstrained parameters must not make routes ambiguous."""
    for first, second in itertools.combinations(ROUTES, 2):
        a, b = _segments(first.host_path), _segments(second.host_path)
        overlap = len(a) == len(b) and all(
            x == y or x is None or y is None for x, y in zip(a, b, strict=True)
        )
        assert not (first.method == second.method and overlap), (first.path, second.path)


def test_the_host_sees_no_type_constraints() -> None:
    assert all(":" not in route.host_path for route in ROUTES)


@pytest.mark.parametrize("value", ["abc", "null,null", "0", "99999999999999999999"])
def test_a_malformed_id_is_the_apis_404(api, value: str) -> None:
    response = api.get(f"/api/runs/{value}", role="Viewer")
    assert response.status == 404
    assert response.json()["error"]["code"] == "not_found"
