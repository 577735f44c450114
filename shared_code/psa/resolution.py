"""Resolve a run's Autotask ticket from Backupchecks (Phase 2.4), operator-driven.

Allowed only when ``resolve_blocked_reason`` says so (409 naming the reason otherwise, without a
call to the PSA). The runs linked to the ticket are locked for the duration, so two operators
resolving at once do not both write to the ticket: the second finds it resolved. Then:
- the ticket is fetched: gone → its linkage is marked deleted in the PSA; already completed → its
  runs are resolved as "Resolved by PSA"; both as a poll would have recorded them, and said so;
- its time entries are read. None: internal note A, the configured completed status is set (a
  PATCH of the status alone, so the description is kept), the ticket is fetched again and the
  status must have taken (502 with what was observed if not, nothing resolved); then every run
  linked to the ticket and the matching internal ticket are resolved, origin ``backupchecks``.
  Some: internal note B, and the ticket and the run stay open.
Notes are internal and use SPEC §9's fixed formats; nothing else about the ticket changes."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared_code import audit
from shared_code.app_settings import load_app_settings, ui_zone
from shared_code.db.live import live_run
from shared_code.db.models import AppSettings, JobRun
from shared_code.errors import Conflict, UpstreamError
from shared_code.psa.connection import configured_autotask, stored_reference_data
from shared_code.psa.linked_runs import mark_deleted_in_psa, resolve_linked_runs
from shared_code.psa.provider import PsaProvider, ReferenceData, Ticket, about_run
from shared_code.psa.run_ticket import (
    BLOCK_MESSAGES,
    AutotaskTicketState,
    autotask_state,
    resolve_blocked_reason,
)

log = logging.getLogger(__name__)

RESOLVE_ACTOR = "autotask-resolve"  # records what the PSA said while resolving, as a poll would

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


Outcome = Literal["resolved", "time_entries_exist", "completed_in_psa", "deleted_in_psa"]


class ResolveResult(BaseModel):
    outcome: Outcome = Field(
        description="resolved: completed in Autotask and resolved here (Resolved by Backupchecks); "
        "time_entries_exist: the ticket has time entries, so it stays open and a note says why; "
        "completed_in_psa: it was already completed in Autotask, so its runs are now Resolved by PSA; "
        "deleted_in_psa: Autotask no longer has it, so its linkage is marked deleted (link or create a "
        "replacement). Only 'resolved' wrote to Autotask's status, and the notes are the only other writes."
    )
    message: str = Field(description="What happened, for people.")
    ticket_id: int
    ticket_number: str | None
    time_entries: int | None = Field(description="Time entries found (None when not looked at).")
    note_id: int | None = Field(description="The internal note added to the ticket, if any.")
    status_id: int | None = Field(description="The ticket's status in Autotask afterwards (verified).")
    status_label: str | None
    resolved_run_ids: list[int] = Field(description="Every run linked to the ticket that this resolved.")
    internal_ticket_ids: list[int] = Field(description="The matching internal tickets this resolved.")
    autotask: AutotaskTicketState = Field(description="The run's Autotask state afterwards.")


def resolve_for_run(session: Session, run_id: int, actor: str) -> ResolveResult:
    """``POST /api/runs/{run_id}/autotask-ticket/resolve``: the stored settings, Autotask as configured."""
    settings = load_app_settings(session)
    return resolve_run_ticket(
        session,
        settings,
        lambda: configured_autotask(session),
        stored_reference_data(settings),
        run_id,
        actor,
    )


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
        if ticket is None or ticket.status_id == completed:
            return _closed_in_psa(session, settings, reference, run, ticket, now())
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
            return _result(settings, reference, run, ticket, "time_entries_exist", entries, note_id)
        label = (  # the stored picklists, else Autotask's own (before the first refresh)
            reference.label("statuses", completed)
            or provider.reference_data().label("statuses", completed)
            or f"status {completed}"
        )
        note_id = provider.add_internal_note(
            ticket_id, title=NOTE_A_TITLE, text=NOTE_A_TEXT.format(completed_status=label, **fields)
        )
        provider.update_ticket_status(ticket_id, completed)
        observed = provider.get_ticket(ticket_id)
    _verify_status(reference, ticket_id, run.id, completed, observed, note_id)
    assert observed is not None
    [resolution] = resolve_linked_runs(session, [ticket_id], origin="backupchecks", at=now(), actor=actor)
    session.refresh(run)
    log.info("autotask resolve: ticket %s completed; runs %s resolved", ticket_id, resolution.run_ids)
    return _result(
        settings,
        reference,
        run,
        observed,
        "resolved",
        0,
        note_id,
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


def _closed_in_psa(
    session: Session,
    settings: AppSettings,
    reference: ReferenceData,
    run: JobRun,
    ticket: Ticket | None,
    at: datetime,
) -> ResolveResult:
    """The PSA got there first: recorded as a poll would record it; nothing is written to the PSA."""
    ticket_id = run.autotask_ticket_id
    assert ticket_id is not None
    if ticket is None:
        log.warning("autotask resolve: ticket %s (run %s) no longer exists in Autotask", ticket_id, run.id)
        marked = mark_deleted_in_psa(session, [ticket_id], at=at, actor=RESOLVE_ACTOR)
        session.refresh(run)
        gone = Ticket(id=ticket_id, number=run.autotask_ticket_number)
        return _result(settings, reference, run, gone, "deleted_in_psa", run_ids=marked.get(ticket_id, []))
    [resolution] = resolve_linked_runs(session, [ticket_id], origin="psa", at=at, actor=RESOLVE_ACTOR)
    log.info(
        "autotask resolve: ticket %s (run %s) was already completed in Autotask; runs %s resolved by PSA",
        ticket_id,
        run.id,
        resolution.run_ids,
    )
    session.refresh(run)
    return _result(
        settings,
        reference,
        run,
        ticket,
        "completed_in_psa",
        None,
        None,
        resolution.run_ids,
        resolution.internal_ticket_ids,
    )


def _verify_status(
    reference: ReferenceData,
    ticket_id: int,
    run_id: int,
    completed: int,
    observed: Ticket | None,
    note_id: int,
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
        "Nothing was marked resolved (the internal note was added).",
        code="status_not_taken",
        details={
            "ticket_id": ticket_id,
            "expected_status_id": completed,
            "observed_status_id": seen,
            "observed_status_label": reference.label("statuses", seen),
            "ticket_found": observed is not None,
            "note_id": note_id,
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
    outcome: Outcome,
    entries: int | None = None,
    note_id: int | None = None,
    run_ids: Sequence[int] = (),
    internal_ids: Sequence[int] = (),
) -> ResolveResult:
    label = reference.label("statuses", ticket.status_id)
    name = ticket.number or ticket.id
    message = {
        "resolved": f"Ticket {name} is set to {label or ticket.status_id} in Autotask; "
        f"{len(run_ids)} run(s) resolved (Resolved by Backupchecks).",
        "time_entries_exist": f"Ticket {name} has {entries} time entries, so it was not closed; a note asks "
        "to complete it in Autotask. The run stays unresolved.",
        "completed_in_psa": f"Ticket {name} was already completed in Autotask; {len(run_ids)} run(s) are now "
        "Resolved by PSA. Nothing was written to Autotask.",
        "deleted_in_psa": f"Ticket {name} no longer exists in Autotask; its linkage is marked deleted in PSA. "
        "Link or create a replacement ticket.",
    }[outcome]
    return ResolveResult(
        outcome=outcome,
        message=message,
        ticket_id=ticket.id,
        ticket_number=ticket.number,
        time_entries=entries,
        note_id=note_id,
        status_id=ticket.status_id,
        status_label=label,
        resolved_run_ids=list(run_ids) if outcome != "deleted_in_psa" else [],
        internal_ticket_ids=list(internal_ids),
        autotask=autotask_state(settings, run),
    )
