"""ConnectWise PSA as the active PSA, end to end through the HTTP API and the registry, against the
fake ConnectWise: settings, mapping, exactly one ticket per run (50 concurrent creates, a create whose
answer is lost), the poll's economy, Resolve with and without time entries, without a closed status,
and a status ConnectWise ignores; disabled means no call at all."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from shared_code.db.engine import get_engine
from shared_code.db.models import Customer, ExternalTicket, Job, JobRun
from shared_code.runs.overrides import ObjectResult
from tests.support import fake_connectwise
from tests.support.factories import T0, a_customer, a_job, a_run
from tests.support.fake_connectwise import FakeConnectWise, settings_body
from tests.support.ticket_sync import legacy

OBJECTS = (ObjectResult("SRV-DC01", "failed", "Error: Failed to create snapshot"),)


@dataclass
class Mapped:
    customer: Customer
    job: Job
    run: JobRun
    company_id: int


def switch_on(api: Any, connectwise: FakeConnectWise, **changes: Any) -> None:
    saved = api.put("/api/settings/connectwise", role="Admin", body=settings_body(connectwise, **changes))
    assert saved.status == 200, saved.json()
    active = api.put("/api/settings/psa", role="Admin", body={"provider": "connectwise"})
    assert active.status == 200, active.json()


@pytest.fixture
def mapped(api: Any, db: Session, connectwise: FakeConnectWise) -> Mapped:
    switch_on(api, connectwise)
    company_id = connectwise.add_company("Acme Corp")
    customer = a_customer(db, "Acme")
    job = a_job(db, customer, job_name="Nightly SQL")
    run = a_run(db, job, status="failed", objects=OBJECTS)
    db.commit()
    put = api.put(
        f"/api/customers/{customer.id}/psa-company", role="Operator", body={"company_id": company_id}
    )
    assert put.status == 200, put.json()
    assert put.json()["psa_company_provider"] == "connectwise"
    return Mapped(customer, job, run, company_id)


def create(api: Any, run_id: int) -> Any:
    return api.post(f"/api/runs/{run_id}/psa-ticket", role="Operator")


def resolve(api: Any, run_id: int) -> Any:
    return api.post(f"/api/runs/{run_id}/psa-ticket/resolve", role="Operator")


def test_settings_keep_the_private_key_write_only_and_are_checked_against_connectwise(
    api: Any, connectwise: FakeConnectWise
) -> None:
    refused = api.put(
        "/api/settings/connectwise", role="Admin", body=settings_body(connectwise, board_id=3)
    )  # an inactive board
    assert refused.status == 422 and refused.json()["error"]["details"][0]["field"] == "body.board_id"
    assert api.put("/api/settings/psa", role="Admin", body={"provider": "connectwise"}).status == 409

    switch_on(api, connectwise)
    shown = api.get("/api/settings/connectwise", role="Admin")
    assert (shown.json()["private_key_set"], shown.json()["active"]) == (True, True)
    assert fake_connectwise.PRIVATE_KEY not in str(shown.json())
    kept = dict(settings_body(connectwise), private_key=None)  # left out: the stored key stays
    assert api.put("/api/settings/connectwise", role="Admin", body=kept).status == 200
    tested = api.post("/api/settings/connectwise/test", role="Admin")
    assert tested.status == 200 and tested.json()["user"] == fake_connectwise.COMPANY_ID
    refreshed = api.post("/api/settings/connectwise/refresh", role="Admin").json()
    assert {"Service Desk", "Monitoring"} <= {queue["label"] for queue in refreshed["queues"]}
    assert api.get("/api/me", role="Viewer").json()["psa_label"] == "ConnectWise PSA"


def test_a_ticket_from_a_run_then_its_company_check(
    api: Any, db: Session, connectwise: FakeConnectWise, mapped: Mapped
) -> None:
    created = create(api, mapped.run.id)
    assert created.status == 201, created.json()
    result = created.json()
    ticket = connectwise.tickets[result["psa_ticket_id"]]
    assert (result["provider"], result["psa_ticket_number"]) == ("connectwise", str(ticket["id"]))
    assert len(ticket["summary"]) <= 100 and "Acme" in ticket["summary"]
    assert ticket["externalXRef"] == f"Backupchecks run {mapped.run.id}"
    assert (ticket["board"]["id"], ticket["status"]["id"], ticket["priority"]["id"]) == (1, 11, 1)
    description = connectwise.ticket_notes(ticket["id"])[0]["text"]
    assert "SRV-DC01" in description and f"/#/jobs/{mapped.job.id}?run={mapped.run.id}" in description
    assert create(api, mapped.run.id).json()["error"]["code"] == "run_has_ticket"
    assert legacy(db, mapped.run.id).autotask_ticket_id == ticket["id"]  # the run's link

    connectwise.rename_company(mapped.company_id, "Acme Corporation")
    checked = api.post("/api/customers/psa-check", role="Operator").json()
    assert [item["status"] for item in checked["customers"]] == ["renamed"]


def test_fifty_concurrent_creates_make_one_ticket(
    api: Any, connectwise: FakeConnectWise, mapped: Mapped
) -> None:
    with ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(lambda _: create(api, mapped.run.id).status, range(50)))
    assert answers.count(201) == 1 and set(answers) <= {201, 409}
    assert connectwise.count("POST", "/service/tickets") == 1
    assert [t["externalXRef"] for t in connectwise.tickets.values()] == [f"Backupchecks run {mapped.run.id}"]


def test_a_create_whose_answer_is_lost_makes_one_ticket(
    api: Any, db: Session, connectwise: FakeConnectWise, mapped: Mapped
) -> None:
    connectwise.fail("POST", "^/service/tickets$", None, delay=6.5)  # stored, answered after the timeout
    created = create(api, mapped.run.id)
    assert created.status == 201, created.json()
    assert created.json()["found_after_lost_answer"] is True
    assert connectwise.count("POST", "/service/tickets") == 1 and len(connectwise.tickets) == 1
    assert create(api, mapped.run.id).status == 409


def test_the_poll_asks_for_open_tickets_a_page_at_a_time_and_looks_up_each_missing_one(
    api: Any, db: Session, connectwise: FakeConnectWise, mapped: Mapped
) -> None:
    ids = connectwise.add_linked_tickets(1200, closed=5, deleted=5)
    links = [ExternalTicket(provider="connectwise", external_id=i, number=str(i)) for i in ids]
    db.add_all(links)
    db.flush()
    runs = [
        JobRun(
            job_id=mapped.job.id,
            run_at=T0 + timedelta(minutes=n),
            status="missed",
            effective_status="missed",
            missed=True,
            external_ticket_id=link.id,
        )
        for n, link in enumerate(links)
    ]
    db.add_all(runs)
    db.commit()
    before, writes = len(connectwise.requests), connectwise.writes()

    polled = api.post("/api/run-checks/poll", role="Operator", body={"run_ids": [r.id for r in runs]}).json()

    counts = polled["counts"]
    assert (counts["active"], counts["completed"], counts["deleted"], counts["failed"]) == (1190, 5, 5, 0)
    assert len(connectwise.requests) - before == math.ceil(1200 / 1000) + 10
    assert connectwise.writes() == writes  # read-only
    assert sorted(polled["resolved_run_ids"]) == sorted(r.id for r in runs[:5])
    assert legacy(db, runs[0].id).ticket_resolution_origin == "psa"
    assert legacy(db, runs[5].id).autotask_ticket_deleted_at is not None


def test_resolve_without_time_entries_closes_the_ticket_verified(
    api: Any, db: Session, connectwise: FakeConnectWise, mapped: Mapped
) -> None:
    ticket_id = create(api, mapped.run.id).json()["psa_ticket_id"]
    resolved = resolve(api, mapped.run.id)
    assert resolved.status == 200, resolved.json()
    body = resolved.json()
    assert (body["outcome"], body["status_id"], body["psa_ticket"]["resolution_badge"]) == (
        "resolved",
        fake_connectwise.COMPLETED,
        "Resolved by Backupchecks",
    )
    [_, note] = connectwise.ticket_notes(ticket_id)  # the initial description, then note A
    assert note["text"].startswith("Backupchecks: resolved") and note["internalAnalysisFlag"] is True
    assert connectwise.tickets[ticket_id]["status"]["id"] == fake_connectwise.COMPLETED
    assert resolve(api, mapped.run.id).json()["error"]["code"] == "already_resolved"


def test_resolve_with_time_entries_adds_note_b_and_leaves_the_ticket_open(
    api: Any, db: Session, connectwise: FakeConnectWise, mapped: Mapped
) -> None:
    ticket_id = create(api, mapped.run.id).json()["psa_ticket_id"]
    connectwise.add_time_entry(ticket_id)
    connectwise.add_time_entry(ticket_id, charge_to_type="ProjectTicket")  # not charged to this ticket
    body = resolve(api, mapped.run.id).json()
    assert (body["outcome"], body["time_entries"]) == ("time_entries_exist", 1)
    assert connectwise.ticket_notes(ticket_id)[-1]["text"].startswith("Backupchecks: resolve requested")
    assert connectwise.tickets[ticket_id]["status"]["id"] == fake_connectwise.NEW
    assert legacy(db, mapped.run.id).ticket_resolved_at is None


def test_a_status_connectwise_ignores_is_a_502_and_nothing_is_resolved(
    api: Any, db: Session, connectwise: FakeConnectWise, mapped: Mapped
) -> None:
    create(api, mapped.run.id)
    connectwise.ignore_status_changes = True
    refused = resolve(api, mapped.run.id)
    assert (refused.status, refused.json()["error"]["code"]) == (502, "status_not_taken")
    assert legacy(db, mapped.run.id).ticket_resolved_at is None


def test_without_a_closed_status_resolve_posts_the_note_and_says_the_transition_was_skipped(
    api: Any, db: Session, connectwise: FakeConnectWise, mapped: Mapped
) -> None:
    switch_on(api, connectwise, closed_status_id=None)
    ticket_id = create(api, mapped.run.id).json()["psa_ticket_id"]
    body = resolve(api, mapped.run.id).json()
    assert body["outcome"] == "transition_skipped"
    assert "No closed status is configured" in body["status_transition_skipped_reason"]
    assert connectwise.ticket_notes(ticket_id)[-1]["text"].startswith("Backupchecks: resolved")
    assert connectwise.count("PATCH") == 0 and legacy(db, mapped.run.id).ticket_resolved_at is None


def test_disabled_means_no_call_to_connectwise(
    api: Any, db: Session, connectwise: FakeConnectWise, mapped: Mapped
) -> None:
    create(api, mapped.run.id)
    assert api.put("/api/settings/psa", role="Admin", body={"provider": "none"}).status == 200
    before = len(connectwise.requests)
    for path in ("psa-ticket", "psa-ticket/resolve"):
        assert api.post(f"/api/runs/{mapped.run.id}/{path}", role="Operator").status == 409
    assert (
        api.post("/api/run-checks/poll", role="Operator", body={"run_ids": [mapped.run.id]}).json()["polled"]
        is False
    )
    assert api.post("/api/settings/connectwise/test", role="Admin").status == 409
    shown = api.get(f"/api/runs/{mapped.run.id}", role="Viewer").json()["psa_ticket"]
    assert shown["provider"] == "connectwise" and shown["ticket_number"]  # the link stays visible
    assert len(connectwise.requests) == before


def test_poll_and_resolve_hold_no_database_connection_while_connectwise_answers(
    api: Any, db: Session, connectwise: FakeConnectWise, mapped: Mapped, monkeypatch: pytest.MonkeyPatch
) -> None:
    """So no row lock either: the app's connections checked out, seen by ConnectWise at each request."""
    create(api, mapped.run.id)
    db.close()  # the test's own session holds none
    seen: list[tuple[str, int]] = []
    answer = connectwise._dispatch

    def counting(request: Any) -> Any:
        seen.append((f"{request.method} {request.path}", get_engine().pool.checkedout()))
        return answer(request)

    monkeypatch.setattr(connectwise, "_dispatch", counting)
    polled = api.post("/api/run-checks/poll", role="Operator", body={"run_ids": [mapped.run.id]})
    resolved = resolve(api, mapped.run.id)

    assert (polled.json()["counts"]["active"], resolved.json()["outcome"]) == (1, "resolved")
    assert len(seen) >= 6  # the poll's search; the resolve's ticket, time entries, note, patch, ticket
    assert [request for request, connections in seen if connections] == []
