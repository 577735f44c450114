"""The Run Checks poll (Phase 2.1–2.3) against the fake Autotask: one test per control moment,
API economy, failure isolation and the time budget."""

from __future__ import annotations

import math
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared_code.app_settings import load_app_settings
from shared_code.db.models import TicketJobRun
from shared_code.psa.polling import PollResult, poll_linked_tickets
from shared_code.psa.provider import PsaNotConfigured, ReferenceData
from shared_code.tickets.external import link_of_run, ticket_state
from tests.support.factories import a_job
from tests.support.fake_autotask_sync import SyncFakeAutotask
from tests.support.ticket_sync import (
    COMPLETE,
    IN_PROGRESS,
    enable_autotask,
    internal_of,
    legacy,
    linked_run,
    many_linked_runs,
    opener,
    run_states,
)


def poll(db: Session, autotask: SyncFakeAutotask, reference: ReferenceData, run_ids, **options) -> PollResult:
    factory = opener(autotask, **options.pop("provider", {}))
    settings = enable_autotask(db, autotask)
    db.commit()
    before = len(autotask.requests)
    result = poll_linked_tickets(db, settings, factory, reference, run_ids, **options)
    db.commit()
    db.expire_all()
    poll.requests = autotask.requests[before:]  # type: ignore[attr-defined]
    return result


def writes(requests: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [
        r
        for r in requests
        if r[0] in ("PATCH", "PUT", "DELETE") or (r[0] == "POST" and not r[1].endswith("/query"))
    ]


def state(db: Session, run_id: int) -> dict:
    return states(db)[run_id]


def states(db: Session) -> dict[int, dict]:
    """Every run's row with its ticket, by id."""
    return run_states(db)


def test_2_1_a_poll_over_active_tickets_changes_nothing_but_snapshots_and_writes_nothing(
    db: Session, autotask: SyncFakeAutotask, reference: ReferenceData
) -> None:
    job = a_job(db)
    runs = [linked_run(db, autotask, job, status=s) for s in (1, IN_PROGRESS, 12)]
    elsewhere = linked_run(db, autotask)  # not on screen
    db.commit()
    before = {run.id: state(db, run.id) for run in [*runs, elsewhere]}

    result = poll(db, autotask, reference, [run.id for run in runs])

    assert (result.polled, result.counts.active, result.counts.failed) == (True, 3, 0)
    assert [t.ticket_id for t in result.active] == sorted(legacy(db, run).autotask_ticket_id for run in runs)
    assert poll.requests == [("POST", "/Tickets/query")]  # the active query, nothing else
    assert writes(poll.requests) == []
    for run in runs:
        after = state(db, run.id)
        snapshot = after.pop("ticket_status_snapshot")
        assert snapshot["status_id"] == autotask.tickets[legacy(db, run).autotask_ticket_id]["status"]
        assert snapshot["status_label"] == reference.label("statuses", snapshot["status_id"])
        assert after.pop("ticket_last_polled_at") is not None
        expected = before[run.id]
        del expected["ticket_status_snapshot"], expected["ticket_last_polled_at"]
        assert after == expected
    assert state(db, elsewhere.id) == before[elsewhere.id]


def test_2_2_psa_completed_tickets_resolve_every_linked_run_with_origin_psa(
    db: Session, autotask: SyncFakeAutotask, reference: ReferenceData
) -> None:
    job = a_job(db)
    completed = linked_run(db, autotask, job)
    sharing = linked_run(db, autotask, job)
    sharing.external_ticket_id = completed.external_ticket_id  # propagation: one ticket, two runs
    active = linked_run(db, autotask, job)
    db.commit()
    autotask.set_status(legacy(db, completed).autotask_ticket_id, COMPLETE)
    active_before = state(db, active.id)

    result = poll(db, autotask, reference, [completed.id, active.id])

    ticket_id = legacy(db, completed).autotask_ticket_id
    assert [(t.ticket_id, t.outcome, t.status_label) for t in result.changed] == [
        (ticket_id, "completed", "Complete")
    ]
    assert result.resolved_run_ids == sorted([completed.id, sharing.id])  # the run not on screen too
    assert poll.requests == [("POST", "/Tickets/query"), ("GET", f"/Tickets/{ticket_id}")]
    assert writes(poll.requests) == []
    for run_id in (completed.id, sharing.id):
        run = legacy(db, run_id)
        assert (run.ticket_resolution_origin, run.ticket_resolved_at is not None) == ("psa", True)
        assert run.reviewed_at is None
    internal = internal_of(db, ticket_id)
    assert internal.resolved_at is not None  # propagation stops
    after = state(db, active.id)
    assert {
        k: v for k, v in after.items() if k not in ("ticket_status_snapshot", "ticket_last_polled_at")
    } == {
        k: v for k, v in active_before.items() if k not in ("ticket_status_snapshot", "ticket_last_polled_at")
    }
    # The next poll does not ask about the resolved ticket again.
    again = poll(db, autotask, reference, [completed.id, active.id])
    assert (again.counts.active, again.counts.completed, again.skipped_run_ids) == (1, 0, [completed.id])
    assert poll.requests == [("POST", "/Tickets/query")]


@pytest.mark.parametrize("missing_as_404", [False, True], ids=["item-null", "http-404"])
def test_2_3_deleted_tickets_are_marked_and_keep_their_references(
    db: Session, autotask: SyncFakeAutotask, reference: ReferenceData, missing_as_404: bool
) -> None:
    job = a_job(db)
    deleted, kept = linked_run(db, autotask, job), linked_run(db, autotask, job)
    db.commit()
    ticket_id, number, url = (
        legacy(db, deleted).autotask_ticket_id,
        legacy(db, deleted).autotask_ticket_number,
        legacy(db, deleted).autotask_ticket_url,
    )
    autotask.delete_ticket(ticket_id)
    autotask.missing_as_404 = missing_as_404
    links_before = db.execute(select(func.count()).select_from(TicketJobRun)).scalar()

    result = poll(db, autotask, reference, [deleted.id, kept.id])

    assert [(t.ticket_id, t.outcome) for t in result.changed] == [(ticket_id, "deleted")]
    assert (result.deleted_run_ids, result.counts.active) == ([deleted.id], 1)
    assert poll.requests == [("POST", "/Tickets/query"), ("GET", f"/Tickets/{ticket_id}")]
    run = legacy(db, deleted.id)
    assert run.autotask_ticket_deleted_at is not None
    assert (run.autotask_ticket_id, run.autotask_ticket_number, run.autotask_ticket_url) == (
        ticket_id,
        number,
        url,
    )
    assert run.ticket_resolved_at is None
    assert db.execute(select(func.count()).select_from(TicketJobRun)).scalar() == links_before  # no unlinking
    assert legacy(db, kept.id).autotask_ticket_deleted_at is None
    # Ticket actions are blocked, and the next poll leaves the deleted ticket alone.
    view = ticket_state(load_app_settings(db), link_of_run(db, deleted))
    assert (view.ticket_deleted_in_psa, view.can_resolve, view.resolve_blocked_reason) == (
        True,
        False,
        "deleted_in_psa",
    )
    again = poll(db, autotask, reference, [deleted.id, kept.id])
    assert (again.skipped_run_ids, again.counts.deleted) == ([deleted.id], 0)


@pytest.mark.parametrize(
    ("linked", "completed", "deleted"),
    [(1, 1, 0), (1, 0, 1), (499, 2, 1), (500, 0, 0), (501, 1, 1), (2000, 5, 5)],
)
def test_api_economy_at_most_one_query_per_500_tickets_plus_one_lookup_per_change(
    db: Session,
    autotask: SyncFakeAutotask,
    reference: ReferenceData,
    linked: int,
    completed: int,
    deleted: int,
) -> None:
    runs = many_linked_runs(db, autotask, linked)
    db.commit()
    for run in runs[:completed]:
        autotask.set_status(legacy(db, run).autotask_ticket_id, COMPLETE)
    for run in runs[completed : completed + deleted]:
        autotask.delete_ticket(legacy(db, run).autotask_ticket_id)

    result = poll(db, autotask, reference, [run.id for run in runs])

    ticket_requests = [r for r in poll.requests if r[1].startswith("/Tickets")]
    other_requests = [r for r in poll.requests if not r[1].startswith("/Tickets")]
    assert len(ticket_requests) <= math.ceil(linked / 500) + completed + deleted
    assert len(ticket_requests) == result.requests
    assert [r for r in ticket_requests if r[0] == "POST"] == [("POST", "/Tickets/query")] * math.ceil(
        linked / 500
    )
    assert (writes(poll.requests), other_requests) == ([], [])  # zone, picklists, thresholds: none needed
    assert (result.counts.active, result.counts.completed, result.counts.deleted, result.counts.failed) == (
        linked - completed - deleted,
        completed,
        deleted,
        0,
    )


def test_failures_are_isolated_reported_and_never_taken_for_deletion(
    db: Session, autotask: SyncFakeAutotask, reference: ReferenceData
) -> None:
    runs = many_linked_runs(db, autotask, 1200)  # three active queries
    db.commit()
    for run in runs[:15]:
        autotask.set_status(legacy(db, run).autotask_ticket_id, COMPLETE)
    for run in runs[15:30]:
        autotask.delete_ticket(legacy(db, run).autotask_ticket_id)
    before = states(db)
    autotask.flaky(0.4, timeout_after=0.6)

    result = poll(
        db,
        autotask,
        reference,
        [run.id for run in runs],
        provider={"timeout": 0.3, "retry_budget": 0.2},
    )

    failed = {t.ticket_id: t for t in result.failed}
    assert failed, "with 40% of reads failing some tickets fail"
    assert all(t.error for t in failed.values())
    assert (
        result.counts.active + result.counts.completed + result.counts.deleted + result.counts.failed == 1200
    )
    by_ticket = {legacy(db, run).autotask_ticket_id: run.id for run in runs}
    after = states(db)
    for ticket_id in failed:
        assert after[by_ticket[ticket_id]] == before[by_ticket[ticket_id]]  # not even the poll time
    really_deleted = {legacy(db, run).autotask_ticket_id for run in runs[15:30]}
    assert {t.ticket_id for t in result.changed if t.outcome == "deleted"} <= really_deleted


def test_the_poll_answers_within_its_budget_and_reports_what_did_not_finish(
    db: Session, autotask: SyncFakeAutotask, reference: ReferenceData
) -> None:
    runs = many_linked_runs(db, autotask, 20)
    db.commit()
    for run in runs[:10]:
        autotask.set_status(
            legacy(db, run).autotask_ticket_id, COMPLETE
        )  # ten single lookups follow the query
    autotask.latency(0.3)

    started = time.monotonic()
    result = poll(db, autotask, reference, [run.id for run in runs], budget_seconds=0.8)
    elapsed = time.monotonic() - started

    # within the budget and the one request in flight, far from the 3.3 s the ten 0.3 s lookups take
    # (the slack is for a loaded machine, which stretches wall time)
    assert elapsed < 0.8 + 1.4
    assert result.budget_exhausted
    assert result.counts.failed > 0
    assert all("budget" in t.error for t in result.failed)
    assert result.counts.completed + result.counts.failed == 10


def test_a_disabled_integration_polls_nothing_and_says_so(
    db: Session, autotask: SyncFakeAutotask, reference: ReferenceData
) -> None:
    run = linked_run(db, autotask)
    db.commit()
    settings = enable_autotask(db, autotask, autotask_enabled=False)
    db.commit()
    before = len(autotask.requests)

    result = poll_linked_tickets(
        db, settings, lambda: pytest.fail("no provider is built"), reference, [run.id]
    )

    assert (result.polled, result.reason) == (
        False,
        "The PSA integration is disabled (none is active): nothing was polled.",
    )
    assert autotask.requests[before:] == []
    assert state(db, run.id)["ticket_last_polled_at"] is None


def test_no_connection_to_autotask_fails_every_ticket_and_not_the_poll(
    db: Session, autotask: SyncFakeAutotask, reference: ReferenceData
) -> None:
    run = linked_run(db, autotask)
    settings = enable_autotask(db, autotask)
    db.commit()

    def unconfigured():
        raise PsaNotConfigured("The Autotask user name, tracking identifier and secret must all be set.")

    result = poll_linked_tickets(db, settings, unconfigured, reference, [run.id])

    assert (result.polled, result.counts.failed, result.requests) == (True, 1, 0)
    assert result.failed[0].error.startswith("psa_not_configured")
    assert state(db, run.id)["ticket_last_polled_at"] is None
