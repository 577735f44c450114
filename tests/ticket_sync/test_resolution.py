"""Resolve from Backupchecks (Phase 2.4) against the fake Autotask, and the post-resolution alignment."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared_code.app_settings import load_app_settings
from shared_code.db.engine import get_sessionmaker
from shared_code.db.models import AuditLog
from shared_code.errors import Conflict, UpstreamError
from shared_code.psa.autotask.provider import internal_publish_id
from shared_code.psa.polling import poll_linked_tickets
from shared_code.psa.provider import ReferenceData
from shared_code.psa.resolution import resolve_run_ticket
from tests.support import fake_autotask
from tests.support.factories import a_job
from tests.support.fake_autotask_sync import SyncFakeAutotask
from tests.support.ticket_sync import (
    COMPLETE,
    IN_PROGRESS,
    LEGACY_NAMES,
    enable_autotask,
    internal_of,
    legacy,
    linked_run,
    opener,
)

NOW = datetime(2026, 12, 2, 19, 30, tzinfo=UTC)  # 20:30 in Amsterdam


def resolve(
    db: Session, autotask: SyncFakeAutotask, reference: ReferenceData, run_id: int, **settings: object
):
    enable_autotask(db, autotask, **settings)
    db.commit()
    before = len(autotask.requests)
    try:
        result = resolve_run_ticket(
            db,
            load_app_settings(db),
            opener(autotask),
            reference,
            run_id,
            "ops@example.test",
            now=lambda: NOW,
        )
        db.commit()
        return result
    finally:
        db.rollback()
        resolve.requests = autotask.requests[before:]  # type: ignore[attr-defined]
        db.expire_all()


def notes_of(autotask: SyncFakeAutotask, ticket_id: int) -> list[dict]:
    return [note for note in autotask.notes.values() if note["ticketID"] == ticket_id]


def test_2_4_case_a_no_time_entries_completes_the_ticket_and_resolves_every_linked_run(
    db: Session, autotask: SyncFakeAutotask, reference: ReferenceData
) -> None:
    job = a_job(db, job_name="Nightly VMs")
    run = linked_run(db, autotask, job, status=IN_PROGRESS, description="Backup failed on SRV01")
    sibling = linked_run(db, autotask, job)
    sibling.external_ticket_id = run.external_ticket_id  # propagated to a later run
    db.commit()
    ticket_id = legacy(db, run).autotask_ticket_id

    result = resolve(db, autotask, reference, run.id)

    assert (result.outcome, result.time_entries, result.status_label) == ("resolved", 0, "Complete")
    assert result.resolved_run_ids == sorted([run.id, sibling.id])
    ticket = autotask.tickets[ticket_id]
    assert (ticket["status"], ticket["description"]) == (COMPLETE, "Backup failed on SRV01")
    [note] = notes_of(autotask, ticket_id)
    assert note["title"] == "Backupchecks: resolved"
    assert note["description"] == (
        f"Resolved from Backupchecks by ops@example.test on 2026-12-02 20:30 CET. No time entries on this "
        f"ticket, so it is set to Complete. Run {run.id}, job Nightly VMs ({job.customer.name})."
    )
    assert note["publish"] == internal_publish_id(reference.note_publish)  # from the picklist
    assert note["noteType"] in fake_autotask.NOTE_TYPES
    assert [m for m, _ in resolve.requests if m in ("PATCH", "PUT")] == ["PATCH"]
    for run_id in (run.id, sibling.id):
        resolved = legacy(db, run_id)
        assert (legacy(db, resolved).ticket_resolution_origin, legacy(db, resolved).ticket_resolved_at) == (
            "backupchecks",
            NOW,
        )
    internal = [internal_of(db, ticket_id)]
    assert [(t.resolved_at, t.resolved_by) for t in internal] == [(NOW, "ops@example.test")] * len(internal)
    assert result.psa_ticket.can_resolve is False
    assert result.psa_ticket.resolve_blocked_reason == "already_resolved"


def test_2_4_case_b_time_entries_add_note_b_and_leave_ticket_and_run_open(
    db: Session, autotask: SyncFakeAutotask, reference: ReferenceData
) -> None:
    job = a_job(db, job_name="File server")
    run = linked_run(db, autotask, job)
    db.commit()
    ticket_id = legacy(db, run).autotask_ticket_id
    autotask.add_time_entry(ticket_id)
    autotask.add_time_entry(ticket_id, hours=1.25)

    result = resolve(db, autotask, reference, run.id)

    assert (result.outcome, result.time_entries, result.resolved_run_ids) == ("time_entries_exist", 2, [])
    assert "2 time entries" in result.message and "not closed" in result.message
    assert autotask.tickets[ticket_id]["status"] == 1
    [note] = notes_of(autotask, ticket_id)
    assert (note["title"], note["publish"]) == (
        "Backupchecks: resolve requested",
        internal_publish_id(reference.note_publish),
    )
    assert note["description"] == (
        f"Resolve requested from Backupchecks by ops@example.test on 2026-12-02 20:30 CET. This ticket has 2 "
        f"time entries, so it was not closed; please complete it in Autotask. Run {run.id}, job File server "
        f"({job.customer.name})."
    )
    assert [m for m, _ in resolve.requests if m in ("PATCH", "PUT")] == []
    still = legacy(db, run.id)
    assert (legacy(db, still).ticket_resolved_at, legacy(db, still).ticket_resolution_origin) == (None, None)
    assert result.psa_ticket.can_resolve is True


def test_a_status_change_accepted_but_ignored_is_a_502_and_nothing_is_resolved(
    db: Session, autotask: SyncFakeAutotask, reference: ReferenceData
) -> None:
    run = linked_run(db, autotask)
    db.commit()
    autotask.ignored_patches = True

    with pytest.raises(UpstreamError) as raised:
        resolve(db, autotask, reference, run.id)

    assert raised.value.code == "status_not_taken"
    assert raised.value.details == {
        "ticket_id": legacy(db, run).autotask_ticket_id,
        "expected_status_id": COMPLETE,
        "observed_status_id": 1,
        "observed_status_label": "New",
        "ticket_found": True,
        "note_id": max(autotask.notes),
    }
    assert legacy(db, run.id).ticket_resolved_at is None
    assert internal_of(db, legacy(db, run).autotask_ticket_id).resolved_at is None


@pytest.mark.parametrize(
    ("settings", "run_change", "reason"),
    [
        ({"autotask_enabled": False}, {}, "psa_disabled"),  # the /autotask-ticket route: autotask_disabled
        ({"autotask_completed_status_id": None}, {}, "no_completed_status"),
        ({}, {"autotask_ticket_id": None}, "no_ticket"),
        ({}, {"autotask_ticket_deleted_at": NOW}, "deleted_in_psa"),
        ({}, {"ticket_resolved_at": NOW, "ticket_resolution_origin": "psa"}, "already_resolved"),
    ],
)
def test_resolve_is_refused_with_409_naming_why_and_without_calling_autotask(
    db: Session,
    autotask: SyncFakeAutotask,
    reference: ReferenceData,
    settings: dict,
    run_change: dict,
    reason: str,
) -> None:
    run = linked_run(db, autotask)
    for name, value in run_change.items():  # the run's ticket's fields, by their names before 0009
        setattr(run.external_ticket, LEGACY_NAMES[name].key, value)
    db.commit()

    with pytest.raises(Conflict) as raised:
        resolve(db, autotask, reference, run.id, **settings)

    assert raised.value.code == reason
    assert resolve.requests == []


def test_a_ticket_deleted_in_autotask_is_marked_and_said_so(
    db: Session, autotask: SyncFakeAutotask, reference: ReferenceData
) -> None:
    run = linked_run(db, autotask)
    db.commit()
    autotask.delete_ticket(legacy(db, run).autotask_ticket_id)

    result = resolve(db, autotask, reference, run.id)

    assert (result.outcome, result.resolved_run_ids, result.note_id) == ("deleted_in_psa", [], None)
    assert "Link or create a replacement" in result.message
    assert (result.psa_ticket.ticket_deleted_in_psa, result.psa_ticket.resolve_blocked_reason) == (
        True,
        "deleted_in_psa",
    )
    marked = legacy(db, run.id)
    assert (
        marked.autotask_ticket_deleted_at is not None,
        marked.autotask_ticket_id,
    ) == (
        True,
        legacy(db, run).autotask_ticket_id,
    )
    assert resolve.requests == [("GET", f"/Tickets/{legacy(db, run).autotask_ticket_id}")]


def test_post_resolution_alignment(db: Session, autotask: SyncFakeAutotask, reference: ReferenceData) -> None:
    """Resolved by Backupchecks and later polled as Completed: stays "Resolved by Backupchecks".
    Completed in Autotask first: "Resolved by PSA" (by the poll, or by a resolve that finds it so)."""
    job = a_job(db)
    ours = linked_run(db, autotask, job)
    theirs, theirs_too = linked_run(db, autotask, a_job(db)), linked_run(db, autotask, a_job(db))
    db.commit()
    resolve(db, autotask, reference, ours.id)
    # A run that got the ticket while it was being resolved, still open on it.
    straggler = linked_run(db, autotask, job)
    straggler.external_ticket_id = ours.external_ticket_id
    db.commit()
    autotask.set_status(legacy(db, theirs).autotask_ticket_id, COMPLETE)
    autotask.set_status(legacy(db, theirs_too).autotask_ticket_id, COMPLETE)

    poll_linked_tickets(
        db, load_app_settings(db), opener(autotask), reference, [ours.id, straggler.id, theirs.id]
    )
    db.commit()
    found_completed = resolve(db, autotask, reference, theirs_too.id)

    origins = {
        run_id: legacy(db, run_id).ticket_resolution_origin
        for run_id in (ours.id, straggler.id, theirs.id, theirs_too.id)
    }
    assert origins == {
        ours.id: "backupchecks",
        straggler.id: "backupchecks",
        theirs.id: "psa",
        theirs_too.id: "psa",
    }
    assert found_completed.outcome == "completed_in_psa"
    assert [m for m, _ in resolve.requests] == ["GET"]  # found completed: nothing written


def test_two_operators_resolving_at_once_write_to_the_ticket_once(
    db: Session, autotask: SyncFakeAutotask, reference: ReferenceData
) -> None:
    run = linked_run(db, autotask)
    enable_autotask(db, autotask)
    db.commit()
    autotask.latency(0.05)
    outcomes: list[str] = []

    def operator() -> None:
        with get_sessionmaker()() as session:
            try:
                resolve_run_ticket(
                    session, load_app_settings(session), opener(autotask), reference, run.id, "op"
                )
                session.commit()
                outcomes.append("resolved")
            except Conflict as refused:
                session.rollback()
                outcomes.append(refused.code)

    threads = [threading.Thread(target=operator) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["already_resolved", "resolved"]
    assert len(notes_of(autotask, legacy(db, run).autotask_ticket_id)) == 1
    assert autotask.count("PATCH") == 1
    assert db.scalars(select(AuditLog.action).where(AuditLog.entity_type == "autotask_ticket")).all() == [
        "resolve"
    ]
