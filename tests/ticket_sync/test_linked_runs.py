"""What the PSA says about a ticket reaches every run linked to it, in one transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from shared_code.db.models import AuditLog, ExternalTicket, Job, JobRun, Ticket, TicketScope
from shared_code.runs.creation import create_run
from shared_code.tickets import external
from tests.support.factories import T0, a_job, a_run, a_ticket
from tests.support.ticket_sync import LEGACY_NAMES, legacy, run_states

AT = "autotask"


def poll_scope(db: Session, run_ids: list[int]) -> external.PollScope:
    return external.poll_scope(db, AT, run_ids)


def record_snapshots(db: Session, snapshots: dict, **options: object) -> list[int]:
    return external.record_snapshots(db, AT, snapshots, **options)  # type: ignore[arg-type]


def resolve_linked_runs(db: Session, ticket_ids: list[int], **options: object) -> list:
    return external.resolve_linked_runs(db, AT, ticket_ids, **options)  # type: ignore[arg-type]


def mark_deleted_in_psa(db: Session, ticket_ids: list[int], **options: object) -> dict:
    return external.mark_deleted_in_psa(db, AT, ticket_ids, **options)  # type: ignore[arg-type]


LATER = T0 + timedelta(hours=2)


def _link_of(db: Session, ticket_id: int | None) -> ExternalTicket:
    """The one link row of an Autotask ticket id (every run linked to the ticket shares it)."""
    found = db.scalars(select(ExternalTicket).where(ExternalTicket.external_id == ticket_id)).first()
    if found is None:
        number = f"T20261120.{ticket_id:04d}" if ticket_id else None
        found = ExternalTicket(provider=AT, external_id=ticket_id, number=number)
        db.add(found)
        db.flush()
    return found


def with_ticket(run: JobRun, ticket_id: int | None, **fields: object) -> JobRun:
    """``fields`` by their names before 0009 (``ticket_resolved_at``, ...): they are the ticket's."""
    db = Session.object_session(run)
    assert db is not None
    link = _link_of(db, ticket_id)
    for name, value in fields.items():
        setattr(link, LEGACY_NAMES[name].key, value)
    run.external_ticket_id = link.id
    db.flush()
    return run


def mirrored_ticket(db: Session, job: Job, ticket_id: int) -> Ticket:
    ticket = a_ticket(db, job)
    _link_of(db, ticket_id).ticket_id = ticket.id
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
    before = {run.id: run_states(db)[run.id] for run in (first, second, other)}

    updated = record_snapshots(db, {100: {"status": 1, "status_label": "New"}}, at=LATER)
    db.commit()

    assert updated == [first.id, second.id]
    for run in (first, second):
        after = run_states(db)[run.id]
        assert after.pop("ticket_status_snapshot") == {"status": 1, "status_label": "New"}
        assert after.pop("ticket_last_polled_at") == LATER
        expected = before[run.id]
        expected.pop("ticket_status_snapshot"), expected.pop("ticket_last_polled_at")
        assert after == expected
    assert run_states(db)[other.id] == before[other.id]


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
        state = legacy(db, run)
        assert (state.ticket_resolved_at, state.ticket_resolution_origin) == (LATER, "psa")
        assert state.reviewed_at is None  # resolving does not review
    db.refresh(internal)
    assert (internal.resolved_at, internal.resolved_by) == (LATER, "autotask")
    scopes = db.scalars(select(TicketScope.resolved_at).where(TicketScope.note_id == internal.id)).all()
    assert scopes == [LATER, LATER]
    assert legacy(db, unrelated).ticket_resolved_at is None
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

    assert legacy(db, new_runs[resolved_job.id]).autotask_ticket_id is None
    assert legacy(db, new_runs[deleted_job.id]).autotask_ticket_id is None
    assert legacy(db, new_runs[open_job.id]).autotask_ticket_id == 300
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
    # A run linked to the ticket while it was being resolved shares the ticket's one link, so it is
    # resolved with it at once (before 0009 each run carried its own copy and could lag behind).
    straggler = with_ticket(a_run(db, job, at=LATER), 100)
    db.commit()

    [resolution] = resolve_linked_runs(db, [100], origin="psa", at=LATER, actor="poll")
    db.commit()

    assert (resolution.run_ids, resolution.origin) == ([], "backupchecks")
    for run in (resolved, straggler):
        state = legacy(db, run)
        assert (state.ticket_resolution_origin, state.ticket_resolved_at) == ("backupchecks", T0)


def test_resolving_twice_changes_nothing_the_second_time(db: Session) -> None:
    job = a_job(db)
    run = with_ticket(a_run(db, job), 100)
    mirrored_ticket(db, job, 100)
    db.commit()
    resolve_linked_runs(db, [100], origin="psa", at=T0, actor="poll")
    [again] = resolve_linked_runs(db, [100], origin="backupchecks", at=LATER, actor="op")
    db.commit()
    assert (again.run_ids, again.internal_ticket_ids) == ([], [])
    state = legacy(db, run)
    assert (state.ticket_resolution_origin, state.ticket_resolved_at) == ("psa", T0)
    assert (
        db.scalar(select(AuditLog.id).where(AuditLog.action == "resolve").order_by(AuditLog.id.desc())) == 1
    )


def test_deletion_in_the_psa_keeps_the_references_and_unlinks_nothing(db: Session) -> None:
    job = a_job(db)
    internal = mirrored_ticket(db, job, 200)
    runs = [with_ticket(a_run(db, job, at=T0 + timedelta(days=d)), 200) for d in range(2)]
    # A resolved ticket is not marked (before 0009: a resolved run of the same ticket; one ticket
    # now has one state, so the resolved one is a ticket of its own).
    already_resolved = with_ticket(
        a_run(db, job, at=T0 + timedelta(days=3)), 201, ticket_resolved_at=T0, ticket_resolution_origin="psa"
    )
    db.commit()
    links_before = db.execute(text("SELECT count(*) FROM ticket_job_runs")).scalar()

    marked = mark_deleted_in_psa(db, [200, 201], at=LATER, actor="poll")
    again = mark_deleted_in_psa(db, [200, 201], at=LATER + timedelta(hours=1), actor="poll")
    db.commit()

    assert marked == {200: [run.id for run in runs]}
    assert again == {}
    for run in runs:
        state = legacy(db, run)
        assert state.autotask_ticket_deleted_at == LATER
        assert (state.autotask_ticket_id, state.autotask_ticket_number) == (200, "T20261120.0200")
    assert legacy(db, already_resolved).autotask_ticket_deleted_at is None
    db.refresh(internal)
    assert (internal.psa_ticket_id, internal.resolved_at) == (200, None)
    assert db.execute(text("SELECT count(*) FROM ticket_job_runs")).scalar() == links_before


def test_the_database_refuses_a_resolution_without_its_origin(db: Session) -> None:
    with_ticket(a_run(db, a_job(db)), 100)
    db.commit()
    _link_of(db, 100).resolved_at = T0
    with pytest.raises(DatabaseError, match="ck_external_tickets_resolution_origin_set"):
        db.commit()
