"""A bounded schemathesis run over every operation, through the dev host, with an Admin token:
no 5xx and no response outside the documented schema."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

import function_app  # noqa: F401
from shared_code.devhost import DevHost

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", DevHost())
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "15"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case, db, entra) -> None:
    case.call_and_validate(headers=entra.bearer("Admin"), checks=CHECKS)
