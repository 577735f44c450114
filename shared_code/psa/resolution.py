"""Resolve a run's Autotask ticket from Backupchecks (Phase 2.4), operator-driven.

Allowed only when ``resolve_blocked_reason`` says so (409 naming the reason otherwise, without a
call to the PSA). The runs linked to the ticket are locked for the duration, so two operators
resolving at once do not both write to the ticket: the second finds it resolved. Then:
- the ticket is fetched: gone → its linkage is marked deleted in the PSA (409); already completed
  → its runs are resolved as "Resolved by PSA" (409), as a poll would have done;
- its time entries are read. None: internal note A, the configured completed status is set (a
  PATCH of the status alone, so the description is kept), the ticket is fetched again and the
  status must have taken (502 with what was observed if not, nothing resolved); then every run
  linked to the ticket and the matching internal ticket are resolved, origin ``backupchecks``.
  Some: internal note B, and the ticket and the run stay open.
Notes are internal and use SPEC §9's fixed formats; nothing else about the ticket changes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared_code import audit
from shared_code.db.models import AppSettings, JobRun
from shared_code.errors import Conflict, UpstreamError
from shared_code.psa.linked_runs import mark_deleted_in_psa, resolve_linked_runs
from shared_code.psa.provider import PsaProvider, ReferenceData, Ticket, about_run
from shared_code.runs.app_settings import ui_zone
from shared_code.runs.autotask_state import (
    BLOCK_MESSAGES,
    AutotaskTicketState,
    autotask_state,
    resolve_blocked_reason,
)
from shared_code.runs.lookup import live_run

log = logging.getLogger(__name__)

NOTE_A_TITLE = "Backupchecks: resolved"
NOTE_A_TEXT = (
    "Resolved from Backupchecks by {user} on {time}. No time entries on this ticket, so it is set to "
    "{completed_status}. Run {run_id}, job {job_name} ({customer})."
)
NOTE_B_TITLE = "Backupchecks: resolve requested"
NOTE_B_TEXT = (
    "Resolve requested from Backupchecks by {user} on {time}. This ticket has {n} time entries, so it "
    "was not closed; please complete it in Autotask. Run {run_id}, job {job_name} ({customer})."
)


class ResolveResult(BaseModel):
    outcome: Literal["resolved", "time_entries_exist"] = Field(
        description="resolved: completed in Autotask and resolved here (Resolved by Backupchecks); "
        "time_entries_exist: the ticket has time entries, so it stays open and a note says why."
    )
    message: str = Field(description="What happened, for people.")
    ticket_id: int
    ticket_number: str | None
    time_entries: int
    note_id: int = Field(description="The internal note added to the ticket.")
    status_id: int | None = Field(description="The ticket's status in Autotask afterwards (verified).")
    status_label: str | None
    resolved_run_ids: list[int] = Field(description="Every run linked to the ticket that this resolved.")
    internal_ticket_ids: list[int] = Field(description="The matching internal tickets this resolved.")
    autotask: AutotaskTicketState = Field(description="The run's Autotask state afterwards.")


def resolve_run_ticket(
    session: Session,
    settings: AppSettings,
    open_provider: Callable[[], AbstractContextManager[PsaProvider]],
    reference: ReferenceData,
    run_id: int,
    actor: str,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ResolveResult:
    run = live_run(session, run_id)
    _refuse_when_blocked(settings, run)
    ticket_id, completed = run.autotask_ticket_id, settings.autotask_completed_status_id
    assert ticket_id is not None and completed is not None  # resolve_blocked_reason checked both
    _lock_linked_runs(session, ticket_id)
    session.refresh(run)
    _refuse_when_blocked(settings, run)  # another operator may have resolved it while we waited
    with about_run(run.id), open_provider() as provider:
        ticket = provider.get_ticket(ticket_id)
        _refuse_when_closed_in_psa(session, settings, run, ticket, completed, now())
        assert ticket is not None
        entries = len(provider.time_entries(ticket_id))
        log.info("autotask resolve: ticket %s (run %s) has %d time entries", ticket_id, run.id, entries)
        fields = _note_fields(settings, run, actor, now())
        if entries:
            note_id = provider.add_internal_note(
                ticket_id, title=NOTE_B_TITLE, text=NOTE_B_TEXT.format(n=entries, **fields)
            )
            audit.record(
                session,
                actor,
                "resolve_requested",
                "autotask_ticket",
                ticket_id,
                {"run_id": run.id, "time_entries": entries, "note_id": note_id},
            )
            return _result(settings, reference, run, ticket, entries, note_id, "time_entries_exist", [], [])
        label = reference.label("statuses", completed) or f"status {completed}"
        note_id = provider.add_internal_note(
            ticket_id, title=NOTE_A_TITLE, text=NOTE_A_TEXT.format(completed_status=label, **fields)
        )
        provider.update_ticket_status(ticket_id, completed)
        observed = provider.get_ticket(ticket_id)
    _verify_status(reference, ticket_id, run.id, completed, observed)
    assert observed is not None
    [resolution] = resolve_linked_runs(session, [ticket_id], origin="backupchecks", at=now(), actor=actor)
    session.refresh(run)
    log.info("autotask resolve: ticket %s completed; runs %s resolved", ticket_id, resolution.run_ids)
    return _result(
        settings,
        reference,
        run,
        observed,
        0,
        note_id,
        "resolved",
        resolution.run_ids,
        resolution.internal_ticket_ids,
    )


def _refuse_when_blocked(settings: AppSettings, run: JobRun) -> None:
    blocked = resolve_blocked_reason(settings, run)
    if blocked:
        raise Conflict(f"Run {run.id}: {BLOCK_MESSAGES[blocked]}", code=blocked)


def _lock_linked_runs(session: Session, ticket_id: int) -> None:
    session.execute(
        select(JobRun.id).where(JobRun.autotask_ticket_id == ticket_id).order_by(JobRun.id).with_for_update()
    ).all()


def _refuse_when_closed_in_psa(
    session: Session, settings: AppSettings, run: JobRun, ticket: Ticket | None, completed: int, at: datetime
) -> None:
    """What the PSA says first: a deleted or already completed ticket is recorded as a poll would
    record it (committed), and the resolve is refused saying so."""
    if ticket is None:
        mark_deleted_in_psa(session, [run.autotask_ticket_id], at=at, actor="autotask-resolve")
        session.commit()
        raise Conflict(
            f"Run {run.id}: {BLOCK_MESSAGES['deleted_in_psa']} Link or create a replacement.",
            code="deleted_in_psa",
        )
    if ticket.status_id == completed:
        resolve_linked_runs(session, [ticket.id], origin="psa", at=at, actor="autotask-resolve")
        session.commit()
        raise Conflict(
            f"Run {run.id}: the ticket was already completed in Autotask; it is now shown as Resolved by PSA.",
            code="already_resolved",
        )


def _verify_status(
    reference: ReferenceData, ticket_id: int, run_id: int, completed: int, observed: Ticket | None
) -> None:
    if observed is not None and observed.status_id == completed:
        return
    seen = observed.status_id if observed else None
    log.error(
        "autotask resolve: ticket %s (run %s) kept status %s after the change to %s",
        ticket_id,
        run_id,
        seen,
        completed,
    )
    raise UpstreamError(
        f"Autotask accepted the status change of ticket {ticket_id} but did not take it: it is "
        f"{reference.label('statuses', seen) or seen}, not {reference.label('statuses', completed) or completed}. "
        "Nothing was marked resolved.",
        code="status_not_taken",
        details={
            "ticket_id": ticket_id,
            "expected_status_id": completed,
            "observed_status_id": seen,
            "observed_status_label": reference.label("statuses", seen),
            "ticket_found": observed is not None,
        },
    )


def _note_fields(settings: AppSettings, run: JobRun, actor: str, at: datetime) -> dict[str, object]:
    job = run.job
    return {
        "user": actor,
        "time": at.astimezone(ui_zone(settings)).strftime("%Y-%m-%d %H:%M %Z"),
        "run_id": run.id,
        "job_name": job.job_name,
        "customer": job.customer.name,
    }


def _result(
    settings: AppSettings,
    reference: ReferenceData,
    run: JobRun,
    ticket: Ticket,
    entries: int,
    note_id: int,
    outcome: Literal["resolved", "time_entries_exist"],
    run_ids: list[int],
    internal_ids: list[int],
) -> ResolveResult:
    label = reference.label("statuses", ticket.status_id)
    message = (
        f"Ticket {ticket.number or ticket.id} is set to {label or ticket.status_id} in Autotask; "
        f"{len(run_ids)} run(s) resolved (Resolved by Backupchecks)."
        if outcome == "resolved"
        else f"Ticket {ticket.number or ticket.id} has {entries} time entries, so it was not closed; a note asks "
        "to complete it in Autotask. The run stays unresolved."
    )
    return ResolveResult(
        outcome=outcome,
        message=message,
        ticket_id=ticket.id,
        ticket_number=ticket.number,
        time_entries=entries,
        note_id=note_id,
        status_id=ticket.status_id,
        status_label=label,
        resolved_run_ids=run_ids,
        internal_ticket_ids=internal_ids,
        autotask=autotask_state(settings, run),
    )
