"""The two routes, through the dev host as the site calls them: POST /api/run-checks/poll and
POST /api/runs/{run_id}/autotask-ticket/resolve, with Autotask configured through its settings
route and reached at the fake; every Autotask call logged with correlation id, ticket and run."""

from __future__ import annotations

import logging
import time

import pytest
from sqlalchemy.orm import Session

from tests.psa.conftest import configure
from tests.support.factories import a_job
from tests.support.fake_autotask_sync import SyncFakeAutotask
from tests.support.ticket_sync import COMPLETE, legacy, linked_run, many_linked_runs, run_states


def test_the_poll_route_polls_the_runs_on_screen_for_operators(
    db: Session, api, autotask: SyncFakeAutotask
) -> None:
    configure(api, api_base_url=autotask.api_url)
    job = a_job(db)
    active, completed, deleted = (linked_run(db, autotask, job) for _ in range(3))
    db.commit()
    autotask.set_status(legacy(db, completed).autotask_ticket_id, COMPLETE)
    autotask.delete_ticket(legacy(db, deleted).autotask_ticket_id)
    body = {"run_ids": [active.id, completed.id, deleted.id]}

    assert api.post("/api/run-checks/poll", body=body, role="Viewer").status == 403
    response = api.post("/api/run-checks/poll", body=body, role="Operator")

    assert response.status == 200, response.json()
    result = response.json()
    assert (result["polled"], result["counts"]) == (
        True,
        {"active": 1, "completed": 1, "deleted": 1, "failed": 0},
    )
    runs = {
        run["id"]: run["psa_ticket"]
        for run in api.get("/api/run-checks").json()["customers"][0]["jobs"][0]["runs"]
    }
    assert runs[completed.id]["resolution_badge"] == "Resolved by PSA"
    assert runs[deleted.id]["ticket_deleted_in_psa"] and runs[deleted.id]["deleted_in_psa_warning"]
    assert runs[active.id]["status_snapshot"]["status_label"] == "New"


def test_bad_poll_input_is_a_4xx_naming_the_field(api) -> None:
    response = api.post("/api/run-checks/poll", body={"run_ids": []}, role="Operator")
    assert response.status == 422
    assert response.json()["error"]["details"][0]["field"] == "body.run_ids"


def test_disabled_poll_and_resolve_call_nothing_and_say_so(
    db: Session, api, autotask: SyncFakeAutotask
) -> None:
    configure(api, enabled=False, api_base_url=autotask.api_url)
    run = linked_run(db, autotask)
    db.commit()
    autotask.requests.clear()

    poll = api.post("/api/run-checks/poll", body={"run_ids": [run.id]}, role="Operator")
    resolve = api.post(f"/api/runs/{run.id}/autotask-ticket/resolve", role="Operator")

    assert (poll.status, poll.json()["polled"]) == (200, False)
    assert "disabled" in poll.json()["reason"]
    assert (resolve.status, resolve.json()["error"]["code"]) == (409, "autotask_disabled")
    assert autotask.count() == 0


def test_resolve_route_answers_200_409_and_502_as_the_rules_say(
    db: Session, api, autotask: SyncFakeAutotask
) -> None:
    configure(api, api_base_url=autotask.api_url)
    job = a_job(db)
    run, later = linked_run(db, autotask, job), linked_run(db, autotask, job)
    db.commit()

    assert api.post(f"/api/runs/{run.id}/autotask-ticket/resolve", role="Viewer").status == 403
    autotask.ignored_patches = True
    ignored = api.post(f"/api/runs/{run.id}/autotask-ticket/resolve", role="Operator")
    autotask.ignored_patches = False
    resolved = api.post(f"/api/runs/{run.id}/autotask-ticket/resolve", role="Operator")
    again = api.post(f"/api/runs/{run.id}/autotask-ticket/resolve", role="Operator")
    missing = api.post("/api/runs/2147483647/autotask-ticket/resolve", role="Operator")

    assert ignored.status == 502
    assert ignored.json()["error"]["code"] == "status_not_taken"
    assert ignored.json()["error"]["details"]["observed_status_label"] == "New"
    assert resolved.status == 200, resolved.json()
    assert resolved.json()["outcome"] == "resolved"
    assert resolved.json()["autotask"]["resolution_badge"] == "Resolved by Backupchecks"
    assert (again.status, again.json()["error"]["code"]) == (409, "already_resolved")
    assert missing.status == 404
    detail = api.get(f"/api/runs/{later.id}").json()["psa_ticket"]
    assert (detail["can_resolve"], detail["resolve_blocked_reason"]) == (True, None)  # its own ticket


def test_every_autotask_call_is_logged_with_correlation_ticket_and_run(
    db: Session, api, autotask: SyncFakeAutotask, caplog: pytest.LogCaptureFixture
) -> None:
    configure(api, api_base_url=autotask.api_url)
    resolved, polled = linked_run(db, autotask), linked_run(db, autotask)
    db.commit()
    autotask.set_status(legacy(db, polled).autotask_ticket_id, COMPLETE)
    caplog.set_level(logging.INFO)

    for run, path, body in (
        (resolved, f"/api/runs/{resolved.id}/autotask-ticket/resolve", None),
        (polled, "/api/run-checks/poll", {"run_ids": [polled.id]}),
    ):
        caplog.clear()
        api.post(path, body=body, role="Operator", headers={"x-correlation-id": "corr-14"})
        calls = [
            r
            for r in caplog.records
            if r.name == "shared_code.psa.autotask.client" and "entityInformation" not in r.getMessage()
        ]
        assert len(calls) >= (4 if body is None else 2), [
            r.getMessage() for r in calls
        ]  # ticket calls; picklists apart
        for record in calls:
            assert record.correlation_id == "corr-14"
            assert record.psa_run_id == run.id, record.getMessage()
            if record.psa_ticket_id is None:  # a query by ids: the poll's own line names them
                assert (
                    f"ticket ids [{legacy(db, run).autotask_ticket_id}] (run ids [{run.id}])" in caplog.text
                )
            else:
                assert record.psa_ticket_id == legacy(db, run).autotask_ticket_id


def test_run_checks_answers_as_fast_when_autotask_fails_and_the_poll_reports_it(
    db: Session, api, autotask: SyncFakeAutotask
) -> None:
    configure(api, api_base_url=autotask.api_url)
    runs = many_linked_runs(db, autotask, 300)
    db.commit()

    def timed_run_checks() -> float:
        started = time.perf_counter()
        assert api.get("/api/run-checks?limit=200&runs_per_job=100").status == 200
        return time.perf_counter() - started

    healthy = min(timed_run_checks() for _ in range(5))
    before = len(autotask.requests)
    autotask.flaky(0.6, timeout_after=5)
    failing = min(timed_run_checks() for _ in range(5))
    assert autotask.requests[before:] == []  # Run Checks itself never calls Autotask
    assert failing < healthy * 2 + 0.5  # far from a flaky Autotask's 0.6 s per call (slack: a loaded machine)

    started = time.perf_counter()
    result = api.post("/api/run-checks/poll", body={"run_ids": [r.id for r in runs]}, role="Operator").json()
    assert time.perf_counter() - started < 12  # the poll's budget (10 s) and some
    assert result["counts"]["failed"] > 0 or result["counts"]["active"] == 300
    failed = {t["ticket_id"] for t in result["failed"]}
    assert all(t["error"] for t in result["failed"])
    unchanged = [state for state in run_states(db).values() if state["autotask_ticket_id"] in failed]
    assert all(
        r["ticket_last_polled_at"] is None and r["autotask_ticket_deleted_at"] is None for r in unchanged
    )
