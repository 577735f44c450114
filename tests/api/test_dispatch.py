"""The plumbing's promises, on routes made up for the test (not added to the route table)."""

from __future__ import annotations

import logging

import pytest
from pydantic import Field

from shared_code.api.auth import Role
from shared_code.api.dispatch import ApiRequest, handle
from shared_code.api.routing import Call, Route
from shared_code.correlation import HEADER
from shared_code.errors import Conflict, NotFound
from shared_code.schema.models import RequestModel, ResponseModel


class Filters(RequestModel):
    limit: int = Field(50, ge=1, le=500)


class Review(RequestModel):
    run_ids: list[int] = Field(min_length=1)


class Reviewed(ResponseModel):
    reviewed: int


def route(handler, *, role: Role = Role.ANONYMOUS, path: str = "things/{thing_id:int}", **models) -> Route:
    return Route(
        name=handler.__name__,
        method="POST",
        path=path,
        role=role,
        handler=handler,
        summary="test",
        tag="test",
        **models,
    )


def request(
    body: bytes = b"",
    params: dict[str, str] | None = None,
    route_params: dict[str, str] | None = None,
    **headers: str,
) -> ApiRequest:
    return ApiRequest(
        "POST",
        "/api/things/7",
        headers=headers,
        params=params or {},
        route_params=route_params or {"thing_id": "7"},
        body=body,
    )


def review(call: Call) -> Reviewed:
    return Reviewed(reviewed=len(call.body.run_ids) + call.path["thing_id"])


def test_a_valid_request_reaches_the_handler_with_typed_inputs() -> None:
    response = handle(route(review, body=Review, response=Reviewed), request(b'{"run_ids": [1, 2]}'))
    assert (response.status, response.json()) == (200, {"reviewed": 9})


def test_a_bad_body_is_422_naming_the_field() -> None:
    response = handle(route(review, body=Review), request(b'{"run_ids": ["x"]}'))
    assert response.status == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert "body.run_ids.0" in error["message"]
    assert error["details"][0]["field"] == "body.run_ids.0"


def test_an_unknown_body_field_is_refused() -> None:
    response = handle(route(review, body=Review), request(b'{"run_ids": [1], "runids": [2]}'))
    assert response.status == 422
    assert response.json()["error"]["details"][0]["field"] == "body.runids"


def test_malformed_json_is_400() -> None:
    response = handle(route(review, body=Review), request(b'{"run_ids": [1'))
    assert response.status == 400
    assert "not valid JSON" in response.json()["error"]["message"]


def test_a_missing_body_is_400() -> None:
    assert handle(route(review, body=Review), request(b"")).status == 400


def test_a_bad_query_parameter_is_400_naming_it() -> None:
    response = handle(route(lambda call: None, query=Filters), request(params={"limit": "9999"}))
    assert response.status == 400
    assert response.json()["error"]["details"][0]["field"] == "query.limit"


def test_domain_errors_map_to_their_status() -> None:
    def missing(call: Call) -> None:
        raise NotFound("no such run: 7")

    def clash(call: Call) -> None:
        raise Conflict("already resolved", details={"reason": "resolved"})

    assert handle(route(missing), request()).status == 404
    response = handle(route(clash), request())
    assert response.status == 409
    assert response.json() == {
        "error": {"code": "conflict", "message": "already resolved", "details": {"reason": "resolved"}}
    }


def test_an_unexpected_error_is_500_without_traceback_or_secret(caplog) -> None:
    def explode(call: Call) -> None:
        raise RuntimeError("password=hunter2 leaked in an exception")

    with caplog.at_level(logging.ERROR):
        response = handle(route(explode), request(**{HEADER: "req-42"}))
    assert response.status == 500
    body = response.body.decode()
    assert "hunter2" not in body and "Traceback" not in body
    assert "req-42" in response.json()["error"]["message"]
    assert "RuntimeError" in caplog.text  # logged in full, for the operator


def test_a_valid_correlation_id_is_echoed_and_logged(caplog) -> None:
    def log_something(call: Call) -> None:
        logging.getLogger("shared_code.test").warning("inside the handler")

    with caplog.at_level(logging.WARNING):
        response = handle(route(log_something), request(**{HEADER: "abc-123"}))
    assert response.headers[HEADER] == "abc-123"
    assert [r.correlation_id for r in caplog.records if r.getMessage().startswith("inside")] == ["abc-123"]


def test_an_unsafe_correlation_id_is_replaced() -> None:
    response = handle(route(lambda call: None), request(**{HEADER: "evil\nheader: injected"}))
    assert response.headers[HEADER] != "evil\nheader: injected"
    assert len(response.headers[HEADER]) == 32


def test_every_response_carries_a_correlation_id(api) -> None:
    for response in (api.get("/api/health", role=None), api.get("/api/me", role=None), api.get("/api/me")):
        assert response.headers[HEADER]


def test_a_lost_constraint_race_is_409_not_500(db) -> None:
    from sqlalchemy import text

    def insert_twice(call: Call) -> None:
        call.db.execute(text("INSERT INTO customers (name) VALUES ('Same'), ('same')"))

    response = handle(route(insert_twice), request())
    assert response.status == 409
    assert response.json()["error"]["code"] == "conflict"


def test_a_foreign_key_violation_is_409(db) -> None:
    from sqlalchemy import text

    def orphan(call: Call) -> None:
        call.db.execute(
            text(
                "INSERT INTO jobs (customer_id, from_address, backup_software, backup_type, job_name)"
                " VALUES (999999, 'a', 'b', 'c', 'd')"
            )
        )

    assert handle(route(orphan), request()).status == 409


def test_other_database_errors_are_500(db) -> None:
    from sqlalchemy import text

    def bad_sql(call: Call) -> None:
        call.db.execute(text("SELECT no_such_column FROM customers"))

    assert handle(route(bad_sql), request()).status == 500


@pytest.mark.parametrize("raw", ["1\n", " 1", "1\r", "+1", "1_0", "\u0661", "0x1", ""])
def test_an_id_in_the_path_is_digits_only_else_404(raw: str) -> None:
    """int() would read each of these as a number; "1\n" reached remark 1 (POST /api/remarks/1%0A/links)."""

    def echo(call: Call) -> Reviewed:
        return Reviewed(reviewed=call.path["thing_id"])

    response = handle(route(echo, response=Reviewed), request(route_params={"thing_id": raw}))
    assert response.status == 404
    assert response.json()["error"] == {
        "code": "not_found",
        "message": f"no such thing_id: {raw!r}",
        "details": None,
    }


def test_a_long_path_parameter_takes_64_bit_ids_and_an_int_one_32_bit() -> None:
    def echo(call: Call) -> Reviewed:
        return Reviewed(reviewed=call.path["thing_id"])

    big = 2**40
    long_request = request(route_params={"thing_id": str(big)})
    assert handle(route(echo, path="things/{thing_id:long}", response=Reviewed), long_request).json() == {
        "reviewed": big
    }
    assert handle(route(echo, response=Reviewed), long_request).status == 404
