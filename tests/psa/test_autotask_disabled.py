"""Disabled means no Autotask request from any path (Phase 6): every HTTP route and every timer is
exercised against the fake, which counts what reaches it; what was stored stays visible."""

from __future__ import annotations

import contextlib
import re
from typing import Any

from sqlalchemy.orm import Session

from shared_code.api.routing import ROUTES
from tests.psa.conftest import Setup, configure, create
from tests.support.fake_autotask import FakeAutotask

BODIES: dict[tuple[str, str], Any] = {
    ("PUT", "settings/autotask"): {"enabled": False, "username": "u@example.test", "queue_id": 1},
    ("PUT", "customers/{customer_id:int}/autotask-company"): {"company_id": 1},
    ("POST", "runs/{run_id:int}/autotask-ticket/link"): {"ticket_number": "T20261101.0001"},
}


def test_disabled_makes_no_request_from_any_route_or_timer(
    api: Any, db: Session, host: Any, autotask: FakeAutotask, mapped_run: Setup
) -> None:
    ticket = create(api, mapped_run.run.id).json()
    configure(api, enabled=False)
    autotask.requests.clear()
    detail = api.get(f"/api/runs/{mapped_run.run.id}").json()
    assert ticket["autotask_ticket_number"] in str(detail)  # stored data stays visible
    ids = {"run_id": mapped_run.run.id, "customer_id": mapped_run.customer.id, "job_id": mapped_run.job.id}

    answered: dict[str, int] = {}
    for route in sorted(ROUTES, key=lambda r: r.method == "DELETE" or r.path.startswith("admin")):
        path = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(ids.get(m.group(1), 1)), route.path)
        body = BODIES.get((route.method, route.path), {})
        if route.path == "run-checks/poll":
            body = {"run_ids": [mapped_run.run.id]}
        response = api.request(route.method, f"/api/{path}", body=body if route.method != "GET" else None)
        answered[f"{route.method} {route.path}"] = response.status
    for name in sorted(host.timers):
        # A timer failing for another reason must still not have called Autotask.
        with contextlib.suppress(Exception):
            host.run_timer(name)

    assert autotask.count() == 0, autotask.requests
    autotask_routes = {k: v for k, v in answered.items() if "autotask" in k}
    assert answered["POST runs/{run_id:int}/autotask-ticket"] == 409
    assert answered["POST settings/autotask/test"] == 409
    assert answered["GET autotask/companies"] == 409
    assert answered["POST runs/{run_id:int}/autotask-ticket/link"] == 200  # kept as a manual number
    assert all(status < 500 for status in autotask_routes.values()), autotask_routes
