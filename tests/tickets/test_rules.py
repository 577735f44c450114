"""The technical notes' "Ticketing and Autotask (Critical Rules)", one test per rule, through the API."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared_code.db.models import TicketScope
from shared_code.runs.missed_runs import generate_missed_runs
from tests.support.factories import T0, a_job, a_run


def new_ticket(api, job_ids: list[int], run_ids: list[int] = (), path: str = "tickets") -> dict:
    response = api.post(
        f"/api/{path}", body={"description": "NAS offline", "job_ids": job_ids, "run_ids": list(run_ids)}
    )
    assert response.status == 201, response.body
    return response.json()


def shown_on(api, run_id: int, kind: str = "tickets") -> dict[int, list[str]]:
    detail = api.get(f"/api/runs/{run_id}").json()
    return {note["id"]: note["sources"] for note in detail[kind]}


def test_display_is_link_based_only(db: Session, api) -> None:
    job, other_job = a_job(db), a_job(db)
    run = a_run(db, job)
    db.commit()
    elsewhere = new_ticket(api, [other_job.id])
    linked_then_resolved = new_ticket(api, [job.id], [run.id])
    scoped_then_resolved = new_ticket(api, [job.id])
    for ticket in (linked_then_resolved, scoped_then_resolved):
        api.post(f"/api/tickets/{ticket['id']}/resolve")

    shown = shown_on(api, run.id)

    assert elsewhere["id"] not in shown  # another job's ticket: no link, no scope
    assert shown == {linked_then_resolved["id"]: ["link"]}  # resolved and never linked: gone


def test_resolved_tickets_stop_propagation_immediately(db: Session, api) -> None:
    job = a_job(db)
    db.commit()
    ticket = new_ticket(api, [job.id])
    before = a_run(db, job, at=T0)
    db.commit()
    api.post(f"/api/tickets/{ticket['id']}/resolve")
    after = a_run(db, job, at=T0 + timedelta(seconds=1))
    db.commit()
    assert ticket["id"] in shown_on(api, before.id)
    assert shown_on(api, after.id) == {}


def test_old_links_are_kept_as_audit_trail(db: Session, api) -> None:
    job = a_job(db)
    db.commit()
    ticket = new_ticket(api, [job.id])
    old_run = a_run(db, job)
    db.commit()
    resolved = api.post(f"/api/tickets/{ticket['id']}/resolve").json()
    assert resolved["resolved_at"] is not None
    assert shown_on(api, old_run.id) == {ticket["id"]: ["link"]}


def test_missed_runs_get_propagation(db: Session, api) -> None:
    job = a_job(db)
    for day in range(21):  # three weeks of nightly runs teach a daily schedule
        a_run(db, job, at=T0 - timedelta(days=21 - day), status="success")
    db.commit()
    ticket = new_ticket(api, [job.id])
    remark = new_ticket(api, [job.id], path="remarks")

    result = generate_missed_runs(db, now=T0 + timedelta(hours=3), grace=timedelta(hours=2))
    db.commit()

    assert result.missed_runs_created == 1
    missed = result.run_ids[0]
    assert shown_on(api, missed) == {ticket["id"]: ["link", "scope"]}
    assert shown_on(api, missed, "remarks") == {remark["id"]: ["link", "scope"]}


def test_two_source_display_without_duplicates(db: Session, api) -> None:
    job = a_job(db)
    db.commit()
    propagated = new_ticket(api, [job.id])
    run = a_run(db, job)  # linked by propagation and still open on the job: both sources
    db.commit()
    created_after_the_run = new_ticket(api, [job.id])  # not linked yet: shows through its scope

    tickets = api.get(f"/api/runs/{run.id}").json()["tickets"]

    assert [t["id"] for t in tickets] == [propagated["id"], created_after_the_run["id"]]
    assert [t["sources"] for t in tickets] == [["link", "scope"], ["scope"]]


def test_no_date_filter_in_the_two_source_display(db: Session, api) -> None:
    job = a_job(db)
    years_ago = a_run(db, job, at=T0 - timedelta(days=3 * 365))
    db.commit()
    ticket = new_ticket(api, [job.id])  # active from today, long after the run's date
    assert shown_on(api, years_ago.id) == {ticket["id"]: ["scope"]}


def test_remarks_follow_the_same_rules(db: Session, api) -> None:
    job = a_job(db)
    db.commit()
    remark = new_ticket(api, [job.id], path="remarks")
    first = a_run(db, job, at=T0)
    db.commit()
    api.post(f"/api/remarks/{remark['id']}/resolve")
    second = a_run(db, job, at=T0 + timedelta(days=1))
    db.commit()
    assert shown_on(api, first.id, "remarks") == {remark["id"]: ["link"]}
    assert shown_on(api, second.id, "remarks") == {}


def test_a_resolved_scope_hides_the_ticket_for_that_job_only(db: Session, api) -> None:
    job, other = a_job(db), a_job(db)
    db.commit()
    ticket = new_ticket(api, [job.id, other.id])
    scope = db.scalars(select(TicketScope).where(TicketScope.job_id == job.id)).one()
    scope.resolved_at = T0
    run, other_run = a_run(db, job), a_run(db, other)
    db.commit()
    assert shown_on(api, run.id) == {}
    assert shown_on(api, other_run.id) == {ticket["id"]: ["link", "scope"]}
