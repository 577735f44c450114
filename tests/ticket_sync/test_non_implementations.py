"""Phase 2 §10, what is NOT built, each proved against the fake with the integration enabled:
no background scheduler reads tickets, nothing is created or reopened automatically, no status is
pushed without an operator's action, and a ticket's content changes only by the fixed notes."""

from __future__ import annotations

import contextlib
import copy
from datetime import timedelta

from sqlalchemy.orm import Session

from shared_code.runs.creation import create_run
from tests.psa.conftest import configure
from tests.support.factories import T0, a_job, a_run
from tests.support.fake_autotask_sync import SyncFakeAutotask
from tests.support.ticket_sync import COMPLETE, legacy, linked_run

STATUS_FIELDS = {"status", "completedDate", "lastActivityDate"}


def ticket_requests(autotask: SyncFakeAutotask) -> list[tuple[str, str]]:
    return [r for r in autotask.requests if r[1].startswith("/Tickets") or r[1].startswith("/TimeEntries")]


def writes(autotask: SyncFakeAutotask) -> list[tuple[str, str]]:
    return [
        (m, p)
        for m, p in autotask.requests
        if m in ("PATCH", "PUT", "DELETE") or (m == "POST" and not p.endswith("/query"))
    ]


def test_no_timer_reads_a_ticket_with_the_integration_enabled(
    db: Session, api, host, autotask: SyncFakeAutotask
) -> None:
    configure(api, api_base_url=autotask.api_url)
    job = a_job(db)
    for day in range(21):  # a learned daily schedule, so the missed-runs timer books a run
        a_run(db, job, at=T0 - timedelta(days=21 - day), status="success")
    linked_run(db, autotask, job)
    db.commit()
    autotask.requests.clear()

    assert host.timers, "the app registers timers"
    for name in sorted(host.timers):
        with contextlib.suppress(Exception):  # a timer failing for another reason still must not poll
            host.run_timer(name)

    assert ticket_requests(autotask) == []


def test_nothing_is_created_or_reopened_automatically(db: Session, api, autotask: SyncFakeAutotask) -> None:
    configure(api, api_base_url=autotask.api_url)
    job = a_job(db)
    completed, deleted = linked_run(db, autotask, job), linked_run(db, autotask, a_job(db))
    db.commit()
    autotask.set_status(legacy(db, completed).autotask_ticket_id, COMPLETE)
    autotask.delete_ticket(legacy(db, deleted).autotask_ticket_id)
    autotask.requests.clear()

    api.post("/api/run-checks/poll", body={"run_ids": [completed.id, deleted.id]}, role="Operator")
    # New runs of both jobs (a new failure after the ticket closed) get no ticket and make none.
    for job_of in (job, deleted.job):
        new_run = create_run(db, job_of, run_at=T0 + timedelta(days=30), status="failed")
        db.commit()
        assert legacy(db, new_run).autotask_ticket_id is None
    api.post("/api/run-checks/poll", body={"run_ids": [completed.id, deleted.id]}, role="Operator")

    assert writes(autotask) == []
    assert autotask.tickets[legacy(db, completed).autotask_ticket_id]["status"] == COMPLETE  # not reopened
    assert legacy(db, deleted).autotask_ticket_id not in autotask.tickets  # not recreated


def test_no_status_is_pushed_without_an_operators_resolve(
    db: Session, api, autotask: SyncFakeAutotask
) -> None:
    configure(api, api_base_url=autotask.api_url)
    run = linked_run(db, autotask)
    db.commit()
    autotask.requests.clear()

    api.get("/api/run-checks")
    api.get(f"/api/runs/{run.id}")
    api.post("/api/run-checks/poll", body={"run_ids": [run.id]}, role="Operator")
    api.post("/api/runs/review", body={"run_ids": [run.id]}, role="Operator")
    internal = api.get("/api/tickets").json()["items"][0]
    api.post(f"/api/tickets/{internal['id']}/resolve", role="Operator")  # the internal ticket only

    assert writes(autotask) == []
    assert autotask.tickets[legacy(db, run).autotask_ticket_id]["status"] == 1


def test_resolve_changes_nothing_but_the_status_and_adds_only_the_fixed_notes(
    db: Session, api, autotask: SyncFakeAutotask
) -> None:
    configure(api, api_base_url=autotask.api_url)
    job = a_job(db)
    with_time, without_time = linked_run(db, autotask, job), linked_run(db, autotask, a_job(db))
    db.commit()
    autotask.add_time_entry(legacy(db, with_time).autotask_ticket_id)
    before = copy.deepcopy(autotask.tickets)

    for run in (with_time, without_time):
        assert api.post(f"/api/runs/{run.id}/autotask-ticket/resolve", role="Operator").status == 200

    for ticket_id, ticket in autotask.tickets.items():
        changed = {k for k in ticket if ticket[k] != before[ticket_id][k]}
        assert changed <= STATUS_FIELDS, (ticket_id, changed)
    assert autotask.tickets[legacy(db, with_time).autotask_ticket_id]["status"] == 1
    assert autotask.tickets[legacy(db, without_time).autotask_ticket_id]["status"] == COMPLETE
    titles = sorted(note["title"] for note in autotask.notes.values())
    assert titles == ["Backupchecks: resolve requested", "Backupchecks: resolved"]
    assert [m for m, p in writes(autotask) if m != "POST"] == ["PATCH"]
