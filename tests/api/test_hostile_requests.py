"""Hostile requests found by probing the first wave, each sent as it was sent then (issue 12, items 1 and 5)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy.orm import Session

import function_app  # noqa: F401  (fills the route table)
from shared_code.api.auth import Authenticator, Role
from shared_code.api.dispatch import ApiRequest, handle
from shared_code.api.routing import ROUTES, Call, Route
from shared_code.db.models import Job, JobRun
from tests.api.test_auth_matrix import concrete_path
from tests.support.factories import a_customer, a_job, a_run

DEEP = b"[" * 1000 + b"]" * 1000  # 2 KB, deeper than Python's recursion limit
JSON_ROUTES = [r for r in ROUTES if r.body is not None] + [
    r for r in ROUTES if r.path in {"graph/notifications", "graph/lifecycle"}
]


@pytest.mark.parametrize("route", JSON_ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_json_nested_deeper_than_the_recursion_limit_is_400_on_every_json_route(api, route: Route) -> None:
    response = api.request(
        route.method, concrete_path(route), body=DEEP, headers={"content-type": "application/json"}
    )
    assert response.status == 400, response.body[:300]
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert "nest" in error["message"] or "recursion" in error["message"]
    assert b"Traceback" not in response.body


@pytest.mark.parametrize("path", ["/api/graph/notifications", "/api/graph/lifecycle"])
def test_a_webhook_body_larger_than_any_graph_batch_is_413(host, path: str) -> None:
    host.queues.clear()
    body = b'{"value": [' + b'{"clientState": "x"},' * 100_000 + b"{}]}"  # 2 MB
    response = host.request("POST", path, body=body, headers={"content-type": "application/json"})
    assert response.status == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert all(not queue for queue in host.queues.values())


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_a_change_sent_as_anything_but_json_is_415(db: Session, api, content_type: str) -> None:
    run = a_run(db, a_job(db))
    db.commit()
    body = f'{{"run_ids": [{run.id}]}}'
    response = api.post("/api/runs/review", body=body, headers={"content-type": content_type})
    assert response.status == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    purge = api.post("/api/admin/purge", body="", headers={"content-type": content_type})
    assert purge.status == 415
    db.expire_all()
    assert db.get(JobRun, run.id).reviewed_at is None


def test_a_bodyless_change_without_content_type_still_works(db: Session, api) -> None:
    response = api.post("/api/inbox/424242/reparse")  # reaches the handler: no such mail
    assert (response.status, response.json()["error"]["code"]) == (404, "not_found")


@pytest.mark.parametrize("body", ["{", "{}", '{"confirm": "yes"}', "null", ""])
def test_a_purge_without_its_confirmation_or_with_bad_json_purges_nothing(
    db: Session, api, body: str
) -> None:
    job = a_job(db, deleted_at=datetime.now(UTC))
    db.commit()
    response = api.post("/api/admin/purge", body=body, headers={"content-type": "application/json"})
    assert response.status in {400, 422}, response.json()
    assert db.get(Job, job.id) is not None


def test_bad_json_is_400_on_a_route_that_takes_no_body(db: Session, api) -> None:
    response = api.post("/api/inbox/424242/reparse", body="{", headers={"content-type": "application/json"})
    assert (response.status, response.json()["error"]["code"]) == (400, "invalid_request")


def test_ids_are_strict_integers_true_is_not_run_1(db: Session, api) -> None:
    run = a_run(db, a_job(db))
    db.commit()
    assert run.id == 1
    for body in ('{"run_ids": [true]}', '{"run_ids": ["1"]}', '{"run_ids": [1.0]}'):
        response = api.post("/api/runs/review", body=body, headers={"content-type": "application/json"})
        assert response.status == 422, body
        assert response.json()["error"]["details"][0]["field"] == "body.run_ids.0"
    db.expire_all()
    assert db.get(JobRun, 1).reviewed_at is None


def test_a_repeated_single_valued_query_parameter_is_400(db: Session, api) -> None:
    a_run(db, a_job(db, a_customer(db)), status="failed")
    db.commit()
    response = api.get("/api/run-checks?status=failed&status=success")
    assert response.status == 400
    assert response.json()["error"]["details"] == [
        {"field": "query.status", "message": "given more than once"}
    ]
    assert api.get("/api/run-checks?status=failed").status == 200


def _local_admin_route() -> Route:
    def purge_everything(call: Call) -> None:
        raise AssertionError("a cross-site request reached the handler")

    return Route("purge_everything", "POST", "admin/purge", Role.ADMIN, purge_everything, "t", "t")


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "https://evil.example", "host": "localhost:7071"},
        {"sec-fetch-site": "cross-site", "host": "localhost:7071"},
    ],
)
def test_with_auth_off_a_cross_site_change_is_refused(headers: dict[str, str]) -> None:
    auth_off = Authenticator(SimpleNamespace(auth_mode="off"))  # type: ignore[arg-type]
    request = ApiRequest("POST", "/api/admin/purge", headers=headers)
    response = handle(_local_admin_route(), request, authenticator=auth_off)
    assert response.status == 403
    assert "cross-site" in response.json()["error"]["message"]


def test_with_auth_off_a_same_origin_change_passes() -> None:
    auth_off = Authenticator(SimpleNamespace(auth_mode="off"))  # type: ignore[arg-type]
    headers = {"origin": "http://localhost:7071", "host": "localhost:7071", "sec-fetch-site": "same-origin"}

    def done(call: Call) -> None:
        return None

    route = Route("done", "POST", "admin/done", Role.ADMIN, done, "t", "t")
    assert (
        handle(route, ApiRequest("POST", "/api/admin/done", headers=headers), authenticator=auth_off).status
        == 204
    )
