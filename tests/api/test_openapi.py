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


def test_a_jobs_time_of_day_conforms_to_its_documented_schema(api, db) -> None:
    # JSON Schema's "time" format (RFC 3339 full-time) needs an offset; the API sends "02:00:00".
    from datetime import time

    from jsonschema import Draft202012Validator

    from tests.support.factories import a_job

    job = a_job(db, schedule_kind="daily", schedule_time=time(2, 0))
    db.commit()
    document = api.get("/api/openapi.json", role=None).json()
    operation = document["paths"]["/api/jobs/{job_id}"]["get"]
    schema = {**operation["responses"]["200"]["content"]["application/json"]["schema"], **document}

    body = api.get(f"/api/jobs/{job.id}", role="Viewer").json()

    assert body["schedule"]["time_of_day"] == "02:00:00"
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert [error.message for error in validator.iter_errors(body)] == []
