"""What the PSA says about a ticket reaches every run linked to it, in one transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from shared_code.db.models import AuditLog, Job, JobRun, Ticket, TicketScope
from shared_code.psa.linked_runs import (
    mark_deleted_in_psa,
    poll_scope,
    record_snapshots,
    resolve_linked_runs,
)
from shared_code.runs.creation import create_run
from tests.support.factories import T0, a_job, a_run, a_ticket

LATER = T0 + timedelta(hours=2)


def with_ticket(run: JobRun, ticket_id: int | None, **fields: object) -> JobRun:
    run.autotask_ticket_id = ticket_id
    run.autotask_ticket_number = f"T20261120.{ticket_id:04d}" if ticket_id else None
    for name, value in fields.items():
        setattr(run, name, value)
    return run


def mirrored_ticket(db: Session, job: Job, ticket_id: int) -> Ticket:
    ticket = a_ticket(db, job)
    ticket.autotask_ticket_id = ticket_id
    db.flush()
    return ticket


def test_poll_scope_is_the_visible_runs_unresolved_not_deleted_with_a_usable_ticket_id(db: Session) -> None:
    job = a_job(db)
    polled = with_ticket(a_run(db, job), 100)
    sharing = with_ticket(a_run(db, job, at=T0 + timedelta(minutes=1)), 100)
    no_ticket = a_run(db, a_job(db))  # its own job: propagation would give it ticket 100
    resolved = with_ticket(
        a_run(db, job, at=T0 + timedelta(minutes=3)),
        101,
        ticket_resolved_at=T0,
        ticket_resolution_origin="psa",
    )
    deleted = with_ticket(a_run(db, job, at=T0 + timedelta(minutes=4)), 102, autotask_ticket_deleted_at=T0)
    invalid = with_ticket(a_run(db, job, at=T0 + timedelta(minutes=5)), 0)
    not_on_screen = with_ticket(a_run(db, job, at=T0 + timedelta(minutes=6)), 103)
    gone_job = a_job(db)
    of_deleted_job = with_ticket(a_run(db, gone_job), 104)
    gone_job.deleted_at = T0
    db.flush()

    on_screen = [
        polled.id,
        sharing.id,
        no_ticket.id,
        resolved.id,
        deleted.id,
        invalid.id,
        of_deleted_job.id,
        9999,
    ]
    scope = poll_scope(db, on_screen)

    assert scope.runs_by_ticket == {100: [polled.id, sharing.id]}
    assert not_on_screen.id not in scope.runs_by_ticket.get(103, [])
    assert scope.skipped_run_ids == sorted([no_ticket.id, resolved.id, deleted.id, invalid.id])
    assert scope.unknown_run_ids == sorted([of_deleted_job.id, 9999])


def test_an_active_ticket_changes_only_the_snapshot_and_the_poll_time(db: Session) -> None:
    job = a_job(db)
    first, second = with_ticket(a_run(db, job), 100), with_ticket(a_run(db, job, at=LATER), 100)
    other = with_ticket(a_run(db, job, at=LATER + timedelta(1)), 200)
    db.commit()
    before = {run.id: _state(db, run.id) for run in (first, second, other)}

    updated = record_snapshots(db, {100: {"status": 1, "status_label": "New"}}, at=LATER)
    db.commit()

    assert updated == [first.id, second.id]
    for run in (first, second):
        after = _state(db, run.id)
        assert after.pop("ticket_status_snapshot") == {"status": 1, "status_label": "New"}
        assert after.pop("ticket_last_polled_at") == LATER
        expected = before[run.id]
        expected.pop("ticket_status_snapshot"), expected.pop("ticket_last_polled_at")
        assert after == expected
    assert _state(db, other.id) == before[other.id]


def test_resolution_reaches_every_linked_run_and_the_internal_ticket_and_its_scopes(db: Session) -> None:
    job, other_job = a_job(db), a_job(db)
    internal = mirrored_ticket(db, job, 100)
    db.add(TicketScope(note_id=internal.id, job_id=other_job.id))
    runs = [with_ticket(a_run(db, job, at=T0 + timedelta(days=d)), 100) for d in range(3)]
    unrelated = with_ticket(a_run(db, other_job), 200)
    db.commit()

    [resolution] = resolve_linked_runs(db, [100], origin="psa", at=LATER, actor="poll")
    db.commit()

    assert resolution.run_ids == [run.id for run in runs]
    assert (resolution.origin, resolution.internal_ticket_ids) == ("psa", [internal.id])
    for run in runs:
        db.refresh(run)
        assert (run.ticket_resolved_at, run.ticket_resolution_origin) == (LATER, "psa")
        assert run.reviewed_at is None  # resolving does not review
    db.refresh(internal)
    assert (internal.resolved_at, internal.resolved_by) == (LATER, "autotask")
    scopes = db.scalars(select(TicketScope.resolved_at).where(TicketScope.note_id == internal.id)).all()
    assert scopes == [LATER, LATER]
    db.refresh(unrelated)
    assert unrelated.ticket_resolved_at is None
    entry = db.scalars(select(AuditLog).where(AuditLog.entity_type == "autotask_ticket")).one()
    assert (entry.action, entry.entity_id, entry.details["origin"]) == ("resolve", "100", "psa")


def test_resolved_and_deleted_tickets_stop_propagating_to_new_runs(db: Session) -> None:
    resolved_job, deleted_job, open_job = a_job(db), a_job(db), a_job(db)
    mirrored_ticket(db, resolved_job, 100)
    with_ticket(a_run(db, resolved_job), 100)
    with_ticket(a_run(db, deleted_job), 200)
    with_ticket(a_run(db, open_job), 300)
    db.commit()

    resolve_linked_runs(db, [100], origin="backupchecks", at=LATER, actor="op")
    mark_deleted_in_psa(db, [200], at=LATER, actor="poll")
    new_runs = {
        job.id: create_run(db, job, run_at=LATER + timedelta(hours=1), status="failed")
        for job in (resolved_job, deleted_job, open_job)
    }
    db.commit()

    assert new_runs[resolved_job.id].autotask_ticket_id is None
    assert new_runs[deleted_job.id].autotask_ticket_id is None
    assert new_runs[open_job.id].autotask_ticket_id == 300
    linked = db.execute(
        text("SELECT count(*) FROM ticket_job_runs WHERE job_run_id = :id"),
        {"id": new_runs[resolved_job.id].id},
    )
    assert linked.scalar() == 0  # the internal ticket is resolved: strategy 1 links it no more


def test_a_late_poll_keeps_the_first_resolutions_origin(db: Session) -> None:
    job = a_job(db)
    resolved = with_ticket(a_run(db, job), 100)
    db.commit()
    resolve_linked_runs(db, [100], origin="backupchecks", at=T0, actor="op")
    # A run linked to the ticket while it was being resolved is still open on it.
    straggler = with_ticket(a_run(db, job, at=LATER), 100)
    db.commit()

    [resolution] = resolve_linked_runs(db, [100], origin="psa", at=LATER, actor="poll")
    db.commit()

    assert (resolution.run_ids, resolution.origin) == ([straggler.id], "backupchecks")
    for run in (resolved, straggler):
        db.refresh(run)
        assert (run.ticket_resolution_origin, run.ticket_resolved_at) == ("backupchecks", T0)


def test_resolving_twice_changes_nothing_the_second_time(db: Session) -> None:
    job = a_job(db)
    run = with_ticket(a_run(db, job), 100)
    mirrored_ticket(db, job, 100)
    db.commit()
    resolve_linked_runs(db, [100], origin="psa", at=T0, actor="poll")
    [again] = resolve_linked_runs(db, [100], origin="backupchecks", at=LATER, actor="op")
    db.commit()
    assert (again.run_ids, again.internal_ticket_ids) == ([], [])
    db.refresh(run)
    assert (run.ticket_resolution_origin, run.ticket_resolved_at) == ("psa", T0)
    assert (
        db.scalar(select(AuditLog.id).where(AuditLog.action == "resolve").order_by(AuditLog.id.desc())) == 1
    )


def test_deletion_in_the_psa_keeps_the_references_and_unlinks_nothing(db: Session) -> None:
    job = a_job(db)
    internal = mirrored_ticket(db, job, 200)
    runs = [with_ticket(a_run(db, job, at=T0 + timedelta(days=d)), 200) for d in range(2)]
    already_resolved = with_ticket(
        a_run(db, job, at=T0 + timedelta(days=3)), 200, ticket_resolved_at=T0, ticket_resolution_origin="psa"
    )
    db.commit()
    links_before = db.execute(text("SELECT count(*) FROM ticket_job_runs")).scalar()

    marked = mark_deleted_in_psa(db, [200], at=LATER, actor="poll")
    again = mark_deleted_in_psa(db, [200], at=LATER + timedelta(hours=1), actor="poll")
    db.commit()

    assert marked == {200: [run.id for run in runs]}
    assert again == {}
    for run in runs:
        db.refresh(run)
        assert run.autotask_ticket_deleted_at == LATER
        assert (run.autotask_ticket_id, run.autotask_ticket_number) == (200, "T20261120.0200")
    db.refresh(already_resolved)
    assert already_resolved.autotask_ticket_deleted_at is None
    db.refresh(internal)
    assert (internal.autotask_ticket_id, internal.resolved_at) == (200, None)
    assert db.execute(text("SELECT count(*) FROM ticket_job_runs")).scalar() == links_before


def test_the_database_refuses_a_resolution_without_its_origin(db: Session) -> None:
    run = a_run(db, a_job(db))
    db.commit()
    run.ticket_resolved_at = T0
    with pytest.raises(DatabaseError, match="ck_job_runs_resolution_origin"):
        db.commit()


def _state(db: Session, run_id: int) -> dict[str, object]:
    row = db.execute(select(JobRun.__table__).where(JobRun.id == run_id)).mappings().one()
    return dict(row)
