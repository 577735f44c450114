"""The tests' HTTP client: requests through the dev host with a token for the given role."""

from __future__ import annotations

from typing import Any

from tests.support.entra import FakeEntra


class ApiClient:
    """Requests through the dev host, as the given role (Admin unless said otherwise)."""

    def __init__(self, host: Any, entra: FakeEntra) -> None:
        self.host, self.entra = host, entra

    def request(self, method: str, path: str, *, role: str | None = "Admin", **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if role is not None:
            headers.update(self.entra.bearer(role))
        return self.host.request(method, path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Any:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Any:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.request("DELETE", path, **kwargs)
