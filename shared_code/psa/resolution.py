"""Resolve a run's PSA ticket from Backupchecks (Phase 2.4), operator-driven, in the active PSA.

Allowed only when ``resolve_blocked_reason`` says so (409 naming the reason otherwise, without a
call to the PSA). The settings, the run and the provider are read in a short transaction that ends
before the PSA is called; no row lock and no database connection is held while the PSA answers.
Two operators resolving at once do not both write to the ticket: the ticket's Resolve is claimed
first (``tickets.external.claim_resolve``, committed at once); the second waits for the first to
finish and then finds it resolved (409 ``already_resolved``). Then:
- the ticket is fetched: gone → its linkage is marked deleted in the PSA; already completed → its
  runs are resolved as "Resolved by PSA"; both as a poll would have recorded them, and said so;
- its time entries are read. None: internal note A, the configured completed status is set (a
  PATCH of the status alone, so the description is kept), the ticket is fetched again and the
  status must have taken (502 with what was observed if not, nothing resolved); then every run
  linked to the ticket and the matching internal ticket are resolved, origin ``backupchecks``.
  Some: internal note B, and the ticket and the run stay open.
Notes are internal and use SPEC §9's fixed formats; nothing else about the ticket changes. What the
PSA said is written in the request's transaction, which also ends the claim."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from shared_code import audit
from shared_code.app_settings import load_app_settings, ui_zone
from shared_code.db.engine import unit_of_work
from shared_code.db.models import AppSettings, ExternalTicket
from shared_code.errors import Conflict, UpstreamError
from shared_code.psa import registry
from shared_code.psa.provider import PsaProvider, ReferenceData, Ticket, about_run
from shared_code.runs.details import TicketSubject, ticket_subject
from shared_code.tickets.external import (
    BLOCK_MESSAGES,
    LinkFields,
    TicketState,
    claim_resolve,
    current_link,
    mark_deleted_in_psa,
    release_resolve,
    resolve_blocked_reason,
    resolve_linked_runs,
    ticket_state,
)

log = logging.getLogger(__name__)

# How long a Resolve waits for another operator's Resolve of the same ticket to finish.
WAIT_FOR_OTHER_SECONDS = 30.0

NOTE_A_TITLE = "Backupchecks: resolved"
NOTE_A_TEXT = (
    "Resolved from Backupchecks by {user} on {time}. No time entries on this ticket, so it is set to "
    "{completed_status}. Run {run_id}, job {job_name} ({customer})."
)
NOTE_B_TITLE = "Backupchecks: resolve requested"
NOTE_B_TEXT = (
    "Resolve requested from Backupchecks by {user} on {time}. This ticket has {n} time entries, so it "
    "was not closed; please complete it in {psa}. Run {run_id}, job {job_name} ({customer})."
)


Outcome = Literal[
    "resolved", "time_entries_exist", "transition_skipped", "completed_in_psa", "deleted_in_psa"
]
SKIPPED_REASON = (
    "No closed status is configured for {psa}, so the note was posted and the ticket's status left as it is."
)


class ResolveResult(BaseModel):
    outcome: Outcome = Field(
        description="resolved: completed in the PSA and resolved here (Resolved by Backupchecks); "
        "time_entries_exist: the ticket has time entries, so it stays open and a note says why; "
        "transition_skipped: no closed status is configured (ConnectWise), so note A was posted and the "
        "ticket and the run stay open (status_transition_skipped_reason says so); "
        "completed_in_psa: it was already completed in the PSA, so its runs are now Resolved by PSA; "
        "deleted_in_psa: the PSA no longer has it, so its linkage is marked deleted (link or create a "
        "replacement). Only 'resolved' wrote to the PSA's status, and the notes are the only other writes."
    )
    message: str = Field(description="What happened, for people.")
    ticket_id: int
    ticket_number: str | None
    time_entries: int | None = Field(description="Time entries found (None when not looked at).")
    note_id: int | None = Field(description="The internal note added to the ticket, if any.")
    status_id: int | None = Field(description="The ticket's status in the PSA afterwards (verified).")
    status_label: str | None
    resolved_run_ids: list[int] = Field(description="Every run linked to the ticket that this resolved.")
    internal_ticket_ids: list[int] = Field(description="The matching internal tickets this resolved.")
    status_transition_skipped_reason: str | None = Field(
        None, description="Why the status was not changed although note A was posted (no closed status set)."
    )
    psa_ticket: TicketState = Field(description="The run's PSA ticket state afterwards.")


def resolve_for_run(
    session: Session, run_id: int, actor: str, *, route_provider: str | None = None
) -> ResolveResult:
    """``POST /api/runs/{run_id}/psa-ticket/resolve``: the stored settings, the active PSA as configured.
    ``session`` (the request's) is first used to write what the PSA said."""
    with unit_of_work() as reads:
        settings = load_app_settings(reads)
        if route_provider is not None and settings.psa_provider not in ("none", route_provider):
            raise Conflict(
                f"The {registry.label(route_provider)} integration is disabled.",
                code=f"{route_provider}_disabled",
            )
        subject = ticket_subject(reads, run_id)
        _refuse_when_blocked(settings, subject.run_id, subject.ticket, route_provider)
        reference = registry.stored_reference_data(settings)
        provider = registry.open_provider(reads)
    return _resolve(session, settings, lambda: provider, reference, subject, actor, lambda: datetime.now(UTC))


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
    subject = ticket_subject(session, run_id)
    _refuse_when_blocked(settings, subject.run_id, subject.ticket)
    return _resolve(session, settings, open_provider, reference, subject, actor, now)


def _resolve(
    session: Session,
    settings: AppSettings,
    open_provider: Callable[[], AbstractContextManager[PsaProvider]],
    reference: ReferenceData,
    subject: TicketSubject,
    actor: str,
    now: Callable[[], datetime],
) -> ResolveResult:
    link = subject.ticket
    assert link.ticket_link_id is not None and link.ticket_provider is not None
    _wait_for_claim(settings, subject.run_id, link.ticket_link_id)
    try:
        result = _talk_to_psa(session, settings, open_provider, reference, subject, actor, now())
    except BaseException:
        release_resolve(link.ticket_link_id)  # nothing written here: the next Resolve may go on
        raise
    release_resolve(link.ticket_link_id, session)  # with what was written
    return result


def _wait_for_claim(settings: AppSettings, run_id: int, link_id: int) -> None:
    """Another operator resolving the ticket: wait until they are done (their answer decides)."""
    deadline = time.monotonic() + WAIT_FOR_OTHER_SECONDS
    while not claim_resolve(link_id):
        _refuse_when_blocked(settings, run_id, current_link(link_id))
        if time.monotonic() > deadline:
            raise Conflict(
                f"Run {run_id}: another Resolve of its ticket is still running.", code="resolve_in_progress"
            )
        time.sleep(0.05)


def _talk_to_psa(
    session: Session,
    settings: AppSettings,
    open_provider: Callable[[], AbstractContextManager[PsaProvider]],
    reference: ReferenceData,
    subject: TicketSubject,
    actor: str,
    at: datetime,
) -> ResolveResult:
    ticket_id, completed = subject.ticket.ticket_external_id, settings.psa_closed_status_id
    assert ticket_id is not None  # resolve_blocked_reason checked it (and a required closed status)
    name = settings.psa_provider
    with about_run(subject.run_id), open_provider() as provider:
        ticket = provider.get_ticket(ticket_id)
        if ticket is None or (ticket.closed if ticket.closed is not None else ticket.status_id == completed):
            return _closed_in_psa(session, settings, reference, subject, ticket, at)
        entries = len(provider.time_entries(ticket_id))
        log.info(
            "%s resolve: ticket %s (run %s) has %d time entries", name, ticket_id, subject.run_id, entries
        )
        fields = _note_fields(settings, subject, actor, at)
        if entries:
            note_id = provider.add_internal_note(
                ticket_id,
                title=NOTE_B_TITLE,
                text=NOTE_B_TEXT.format(n=entries, psa=provider.label, **fields),
            )
            audit.record(
                session,
                actor,
                "resolve_requested",
                f"{name}_ticket",
                ticket_id,
                {"run_id": subject.run_id, "time_entries": entries, "note_id": note_id},
            )
            return _result(
                session, settings, reference, subject, ticket, "time_entries_exist", entries, note_id
            )
        if completed is None:  # ConnectWise without a closed status: the note, no transition
            return _note_only(session, settings, reference, subject, ticket, provider, fields, actor)
        label = (  # the stored picklists, else the PSA's own (before the first refresh)
            reference.label("statuses", completed)
            or provider.reference_data().label("statuses", completed)
            or f"status {completed}"
        )
        note_id = provider.add_internal_note(
            ticket_id, title=NOTE_A_TITLE, text=NOTE_A_TEXT.format(completed_status=label, **fields)
        )
        provider.update_ticket_status(ticket_id, completed)
        observed = provider.get_ticket(ticket_id)
    _verify_status(name, reference, ticket_id, subject.run_id, completed, observed, note_id)
    assert observed is not None
    [resolution] = resolve_linked_runs(session, name, [ticket_id], origin="backupchecks", at=at, actor=actor)
    log.info("%s resolve: ticket %s completed; runs %s resolved", name, ticket_id, resolution.run_ids)
    return _result(
        session,
        settings,
        reference,
        subject,
        observed,
        "resolved",
        0,
        note_id,
        resolution.run_ids,
        resolution.internal_ticket_ids,
    )


def _note_only(
    session: Session,
    settings: AppSettings,
    reference: ReferenceData,
    subject: TicketSubject,
    ticket: Ticket,
    provider: PsaProvider,
    fields: dict[str, object],
    actor: str,
) -> ResolveResult:
    """Note A without the status change it announces: the answer says the transition was skipped and
    why; the ticket and the run stay open (a later poll sees the ticket closed once someone closes it)."""
    unchanged = "its current status (no closed status is configured, so it is left as it is)"
    note_id = provider.add_internal_note(
        ticket.id, title=NOTE_A_TITLE, text=NOTE_A_TEXT.format(completed_status=unchanged, **fields)
    )
    reason = SKIPPED_REASON.format(psa=provider.label)
    audit.record(
        session,
        actor,
        "resolve_note_only",
        f"{settings.psa_provider}_ticket",
        ticket.id,
        {"run_id": subject.run_id, "note_id": note_id, "reason": reason},
    )
    result = _result(session, settings, reference, subject, ticket, "transition_skipped", 0, note_id)
    return result.model_copy(update={"status_transition_skipped_reason": reason})


def _refuse_when_blocked(
    settings: AppSettings, run_id: int, link: LinkFields, route_provider: str | None = None
) -> None:
    blocked = resolve_blocked_reason(settings, link)
    if blocked:
        code = f"{route_provider}_disabled" if route_provider and blocked == "psa_disabled" else blocked
        message = (
            f"The {registry.label(route_provider)} integration is disabled."
            if code != blocked and route_provider
            else BLOCK_MESSAGES[blocked]
        )
        raise Conflict(f"Run {run_id}: {message}", code=code)


def _closed_in_psa(
    session: Session,
    settings: AppSettings,
    reference: ReferenceData,
    subject: TicketSubject,
    ticket: Ticket | None,
    at: datetime,
) -> ResolveResult:
    """The PSA got there first: recorded as a poll would record it; nothing is written to the PSA."""
    ticket_id, name = subject.ticket.ticket_external_id, settings.psa_provider
    assert ticket_id is not None
    actor = f"{name}-resolve"  # records what the PSA said while resolving, as a poll would
    if ticket is None:
        log.warning(
            "%s resolve: ticket %s (run %s) no longer exists in the PSA", name, ticket_id, subject.run_id
        )
        marked = mark_deleted_in_psa(session, name, [ticket_id], at=at, actor=actor)
        gone = Ticket(id=ticket_id, number=subject.ticket.ticket_number)
        return _result(
            session, settings, reference, subject, gone, "deleted_in_psa", run_ids=marked.get(ticket_id, [])
        )
    [resolution] = resolve_linked_runs(session, name, [ticket_id], origin="psa", at=at, actor=actor)
    log.info(
        "%s resolve: ticket %s (run %s) was already completed in the PSA; runs %s resolved by PSA",
        name,
        ticket_id,
        subject.run_id,
        resolution.run_ids,
    )
    return _result(
        session,
        settings,
        reference,
        subject,
        ticket,
        "completed_in_psa",
        None,
        None,
        resolution.run_ids,
        resolution.internal_ticket_ids,
    )


def _verify_status(
    name: str,
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
        "%s resolve: ticket %s (run %s) kept status %s after the change to %s",
        name,
        ticket_id,
        run_id,
        seen,
        completed,
    )
    raise UpstreamError(
        f"{registry.label(name)} accepted the status change of ticket {ticket_id} but did not take it: it is "
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


def _note_fields(
    settings: AppSettings, subject: TicketSubject, actor: str, at: datetime
) -> dict[str, object]:
    return {
        "user": actor,
        "time": at.astimezone(ui_zone(settings)).strftime("%Y-%m-%d %H:%M %Z"),
        "run_id": subject.run_id,
        "job_name": subject.job_name,
        "customer": subject.customer,
    }


def _result(
    session: Session,
    settings: AppSettings,
    reference: ReferenceData,
    subject: TicketSubject,
    ticket: Ticket,
    outcome: Outcome,
    entries: int | None = None,
    note_id: int | None = None,
    run_ids: Sequence[int] = (),
    internal_ids: Sequence[int] = (),
) -> ResolveResult:
    label = reference.label("statuses", ticket.status_id)
    name = ticket.number or ticket.id
    psa = registry.label(settings.psa_provider)
    message = {
        "resolved": f"Ticket {name} is set to {label or ticket.status_id} in {psa}; "
        f"{len(run_ids)} run(s) resolved (Resolved by Backupchecks).",
        "time_entries_exist": f"Ticket {name} has {entries} time entries, so it was not closed; a note asks "
        f"to complete it in {psa}. The run stays unresolved.",
        "transition_skipped": f"Note A was posted on ticket {name}; its status was not changed because no "
        f"closed status is configured for {psa}. The run stays unresolved.",
        "completed_in_psa": f"Ticket {name} was already completed in {psa}; {len(run_ids)} run(s) are now "
        f"Resolved by PSA. Nothing was written to {psa}.",
        "deleted_in_psa": f"Ticket {name} no longer exists in {psa}; its linkage is marked deleted in PSA. "
        "Link or create a replacement ticket.",
    }[outcome]
    session.flush()
    link = session.get(ExternalTicket, subject.ticket.ticket_link_id, populate_existing=True)
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
        psa_ticket=ticket_state(settings, LinkFields.of(link)),
    )
