"""The API description is valid OpenAPI 3.1 and covers every declared route."""

from __future__ import annotations

from openapi_spec_validator import validate

import function_app  # noqa: F401
from shared_code.api.routing import ROUTES


def test_the_document_is_valid_openapi_3_1(api) -> None:
    document = api.get("/api/openapi.json", role=None).json()
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_every_route_is_described_with_its_role_and_security(api) -> None:
    document = api.get("/api/openapi.json", role=None).json()
    for route in ROUTES:
        operation = document["paths"][route.openapi_path][route.method.lower()]
        assert operation["x-required-role"] == route.role.claim
        assert ("bearerAuth" in str(operation["security"])) == (route.role.value > 0)
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                assert response["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/ErrorBody"
                }
