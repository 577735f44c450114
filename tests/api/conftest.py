"""Fixtures of the HTTP layer's tests."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api_client import ApiClient
from tests.support.entra import FakeEntra


@pytest.fixture
def rejecting_api(host: Any, entra: FakeEntra) -> ApiClient:
    """The API client without emptying the database first, for requests that authentication
    turns away before any handler runs (a handler that did run fails the test on its status)."""
    return ApiClient(host, entra)
