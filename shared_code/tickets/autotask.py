"""A run's Autotask ticket: created from the run (Phase 4) or an existing one linked (Phase 6).

Exactly one ticket per run:
- the attempt is claimed in the database first (``autotask_ticket_creations``, keyed by the run)
  and committed before Autotask is called, so of any number of concurrent requests one creates
  and the others answer 409 ``ticket_creation_in_progress``;
- a create whose answer was lost (timeout, server error after sending) is looked for in Autotask
  right away and, failing that, by the next attempt before it creates again;
- the run's ticket columns are only ever set while the run has none (or only one deleted in
  the PSA, which may be replaced; the old id, number and URL stay on its internal ticket).

A stored ticket gets its matching internal ticket (scoped to the job, linked to the run), so
propagation carries it to the job's later runs (technical notes, strategies 1 and 2).
Manual ticket numbers (integration disabled, or compatibility mode) live on an internal ticket
only: with no Autotask id they are never polled until linked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import Field
from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from shared_code import audit
from shared_code.app_settings import load_app_settings, ui_zone
from shared_code.config import get_settings
from shared_code.db.engine import unit_of_work
from shared_code.db.live import live_run
from shared_code.db.models import (
    AppSettings,
    AutotaskTicketCreation,
    Customer,
    Job,
    JobRun,
    MailObject,
    Ticket,
    TicketJobRun,
    TicketScope,
)
from shared_code.errors import Conflict, InvalidInput, Unavailable
from shared_code.psa import provider as psa
from shared_code.psa import ticket_text
from shared_code.psa.autotask.settings import autotask_provider
from shared_code.schema.models import RequestModel, ResponseModel
from shared_code.tickets.codes import next_ticket_code

log = logging.getLogger(__name__)

# A claim older than this was left by a request that died (the Functions timeout is shorter).
STALE_CLAIM = timedelta(minutes=15)
# How far back a lost create is looked for (clock differences between us and Autotask).
LOOKBACK = timedelta(minutes=10)


class TicketLink(RequestModel):
    ticket_number: str = Field(min_length=1, max_length=50, pattern=r"^\S(.*\S)?$")
    manual: bool = Field(
        False,
        description="Keep the number as typed, without looking it up (only in compatibility mode; "
        "always so while the integration is disabled).",
    )


class RunTicketResult(ResponseModel):
    run_id: int
    autotask_ticket_id: int | None = Field(description="None for a manual number.")
    autotask_ticket_number: str
    autotask_ticket_url: str | None
    internal_ticket_id: int
    internal_ticket_code: str
    manual: bool = Field(description="A number kept as typed; not polled until linked.")
    found_after_lost_answer: bool = Field(
        False, description="The ticket an earlier attempt created, found instead of creating a second."
    )


@dataclass(frozen=True)
class _Claim:
    look_since: datetime | None  # an earlier attempt may have stored a ticket from this time on
    started_at: datetime


# --- create -------------------------------------------------------------------------------------------


def create_run_ticket(session: Session, run_id: int, actor: str) -> RunTicketResult:
    """``session`` (the request's) only stores the result: the claim is its own transaction,
    committed before Autotask is called, and no database connection is held while waiting for
    Autotask (so many concurrent requests cannot exhaust the pool)."""
    with unit_of_work() as claim_session:
        run = live_run(claim_session, run_id)
        settings = load_app_settings(claim_session)
        job, customer = _job_and_customer(claim_session, run)
        _check_can_have_new_ticket(settings, run, customer)
        claim = _claim(claim_session, run.id, actor)
        draft = _draft(claim_session, settings, run, job, customer, claim)
        provider = autotask_provider(claim_session)
    try:
        with psa.about_run(run_id):
            ticket, found = _create_once(provider, draft, claim, run_id)
        return _store(session, run_id, ticket, actor, found_after_lost_answer=found, attempt=True)
    except Exception:
        # Unless its outcome was recorded, a ticket may exist now: the next attempt looks first.
        _finish_attempt(run_id, "unknown", still_pending=True)
        raise
    finally:
        provider.client.close()


def _draft(
    session: Session, settings: AppSettings, run: JobRun, job: Job, customer: Customer, claim: _Claim
) -> psa.TicketDraft:
    facts = _facts(session, run, job, customer)
    base_url = settings.backupchecks_base_url or get_settings().site_base_url
    due_hours = settings.autotask_due_hours
    return psa.TicketDraft(
        reference=ticket_text.reference(run.id),
        company_id=customer.autotask_company_id or 0,
        title=ticket_text.ticket_title(facts),
        description=ticket_text.ticket_description(facts, base_url),
        queue_id=settings.autotask_queue_id,
        source_id=settings.autotask_source_id,
        status_id=settings.autotask_status_id or 0,
        priority_id=_priority(settings, run) or 0,
        due_at=claim.started_at + timedelta(hours=due_hours) if due_hours else None,
    )


def _create_once(
    provider: psa.PsaProvider, draft: psa.TicketDraft, claim: _Claim, run_id: int
) -> tuple[psa.Ticket, bool]:
    if claim.look_since is not None:
        found = provider.find_created_ticket(draft, since=claim.look_since - LOOKBACK)
        if found is not None:
            log.info("Autotask ticket %s of run %s found from an earlier attempt", found.id, run_id)
            return found, True
    try:
        return provider.create_ticket(draft), False
    except psa.PsaOutcomeUnknown:
        found = _look_after_lost_answer(provider, draft, claim)
        if found is not None:
            log.warning("Autotask stored ticket %s of run %s but its answer was lost", found.id, run_id)
            return found, True
        _finish_attempt(run_id, "unknown")
        raise Unavailable(
            "Autotask did not confirm the new ticket and it cannot be found yet. Try again: the next "
            "attempt looks for it before creating one.",
            code="ticket_outcome_unknown",
        ) from None
    except psa.PsaError:
        _finish_attempt(run_id, "failed")  # refused or throttled: nothing was stored
        raise


def _look_after_lost_answer(
    provider: psa.PsaProvider, draft: psa.TicketDraft, claim: _Claim
) -> psa.Ticket | None:
    try:
        return provider.find_created_ticket(draft, since=claim.started_at - LOOKBACK)
    except psa.PsaError as error:
        log.warning("looking for a ticket after a lost answer failed: %s", error.message)
        return None


def _check_can_have_new_ticket(settings: AppSettings, run: JobRun, customer: Customer) -> None:
    if not settings.autotask_enabled:
        raise Conflict("The Autotask integration is disabled.", code="autotask_disabled")
    if run.autotask_ticket_id is not None and run.autotask_ticket_deleted_at is None:
        raise Conflict(
            f"Run {run.id} already has Autotask ticket {run.autotask_ticket_number or run.autotask_ticket_id}.",
            code="run_has_ticket",
            details={
                "autotask_ticket_id": run.autotask_ticket_id,
                "autotask_ticket_number": run.autotask_ticket_number,
            },
        )
    if customer.autotask_company_id is None:
        raise Conflict(
            f"Customer {customer.name!r} is not mapped to an Autotask company.", code="customer_unmapped"
        )
    if customer.autotask_mapping_status in ("missing", "inactive"):
        raise Conflict(
            f"The Autotask company of {customer.name!r} is {customer.autotask_mapping_status} in Autotask; "
            "map the customer again.",
            code=f"company_{customer.autotask_mapping_status}",
        )
    missing = [
        name
        for name, value in (
            ("status", settings.autotask_status_id),
            ("priority", _priority(settings, run)),
        )
        if value is None
    ]
    if missing:
        raise Conflict(
            f"The Autotask ticket defaults lack: {', '.join(missing)}.", code="autotask_settings_incomplete"
        )


def _priority(settings: AppSettings, run: JobRun) -> int | None:
    if run.effective_status in ("failed", "missed"):
        return settings.autotask_priority_failed_id
    return settings.autotask_priority_warning_id


def _claim(session: Session, run_id: int, actor: str) -> _Claim:
    """Take the run's one creation attempt, or 409 while another request holds it (the caller's
    transaction commits it)."""
    now = datetime.now(UTC)
    inserted = session.execute(
        insert(AutotaskTicketCreation)
        .values(job_run_id=run_id, reference=ticket_text.reference(run_id), started_by=actor, started_at=now)
        .on_conflict_do_nothing()
        .returning(AutotaskTicketCreation.job_run_id)
    ).first()
    if inserted is not None:
        return _Claim(look_since=None, started_at=now)
    attempt = session.scalars(
        select(AutotaskTicketCreation).where(AutotaskTicketCreation.job_run_id == run_id).with_for_update()
    ).one()
    run = session.get(JobRun, run_id, populate_existing=True)
    replacing = run is not None and run.autotask_ticket_deleted_at is not None
    if attempt.outcome == "pending" and attempt.started_at > now - STALE_CLAIM:
        raise Conflict(
            f"An Autotask ticket for run {run_id} is being created (since {attempt.started_at:%H:%M:%S} UTC).",
            code="ticket_creation_in_progress",
        )
    if attempt.outcome == "created" and not replacing:
        raise Conflict(f"Run {run_id} already has an Autotask ticket.", code="run_has_ticket")
    look_since = attempt.started_at if attempt.outcome in ("pending", "unknown") else None
    attempt.outcome, attempt.started_at, attempt.started_by, attempt.finished_at = "pending", now, actor, None
    return _Claim(look_since=look_since, started_at=now)


def _finish_attempt(run_id: int, outcome: str, *, still_pending: bool = False) -> None:
    """Records how the attempt ended, in its own transaction (the request's may be rolled back)."""
    statement = update(AutotaskTicketCreation).where(AutotaskTicketCreation.job_run_id == run_id)
    if still_pending:
        statement = statement.where(AutotaskTicketCreation.outcome == "pending")
    with unit_of_work() as session:
        session.execute(statement.values(outcome=outcome, finished_at=datetime.now(UTC)))


def _job_and_customer(session: Session, run: JobRun) -> tuple[Job, Customer]:
    row = session.execute(
        select(Job, Customer).join(Customer, Customer.id == Job.customer_id).where(Job.id == run.job_id)
    ).one()
    return row[0], row[1]


def _facts(session: Session, run: JobRun, job: Job, customer: Customer) -> ticket_text.RunFacts:
    objects: list[ticket_text.FailingObject] = []
    if run.mail_id is not None:
        objects = [
            ticket_text.FailingObject(obj.name, obj.status, obj.message)
            for obj in session.scalars(
                select(MailObject)
                .where(MailObject.mail_id == run.mail_id, MailObject.status != "success")
                .order_by(MailObject.position)
            )
        ]
    return ticket_text.RunFacts(
        run_id=run.id,
        job_id=job.id,
        customer=customer.name,
        job_name=job.job_name,
        backup_software=job.backup_software,
        backup_type=job.backup_type,
        status=run.effective_status,
        run_at=run.run_at.astimezone(UTC),
        missed=run.missed,
        objects=tuple(objects),
    )


# --- link ------------------------------------------------------------------------------------------------


def link_run_ticket(session: Session, run_id: int, body: TicketLink, actor: str) -> RunTicketResult:
    settings = load_app_settings(session)
    run = live_run(session, run_id)
    number = body.ticket_number
    if not settings.autotask_enabled or (body.manual and settings.autotask_compatibility_mode):
        return _keep_manual_number(session, run, number, actor)
    if body.manual:
        raise InvalidInput(
            "manual: manual ticket numbers need compatibility mode while the integration is enabled",
            details=[{"field": "body.manual", "message": "compatibility mode is off"}],
        )
    if run.autotask_ticket_id is not None and run.autotask_ticket_deleted_at is None:
        raise Conflict(
            f"Run {run.id} already has Autotask ticket {run.autotask_ticket_number or run.autotask_ticket_id}.",
            code="run_has_ticket",
        )
    pending = session.scalars(
        select(AutotaskTicketCreation).where(
            AutotaskTicketCreation.job_run_id == run.id,
            AutotaskTicketCreation.outcome.in_(("pending", "unknown")),
        )
    ).first()
    if pending is not None:
        raise Conflict(
            f"An Autotask ticket for run {run.id} is being created; wait for it before linking another.",
            code="ticket_creation_in_progress",
        )
    provider = autotask_provider(session)
    try:
        with psa.about_run(run.id):
            ticket = provider.get_ticket_by_number(number)
    finally:
        provider.client.close()
    if ticket is None:
        raise InvalidInput(
            f"ticket_number: Autotask has no ticket {number}",
            code="ticket_not_found",
            details=[{"field": "body.ticket_number", "message": "not found in Autotask"}],
        )
    return _store(session, run.id, ticket, actor, found_after_lost_answer=False, attempt=False)


def _keep_manual_number(session: Session, run: JobRun, number: str, actor: str) -> RunTicketResult:
    note = _open_ticket_numbered(session, number) or _new_manual_ticket(session, run, number, actor)
    _link(session, note, run)
    audit.record(
        session, actor, "link_manual", "job_run", run.id, {"ticket_number": number, "ticket_id": note.id}
    )
    return RunTicketResult(
        run_id=run.id,
        autotask_ticket_id=None,
        autotask_ticket_number=number,
        autotask_ticket_url=None,
        internal_ticket_id=note.id,
        internal_ticket_code=note.ticket_code,
        manual=True,
        found_after_lost_answer=False,
    )


def _open_ticket_numbered(session: Session, number: str) -> Ticket | None:
    return session.scalars(
        select(Ticket)
        .where(Ticket.autotask_ticket_number == number, Ticket.resolved_at.is_(None))
        .order_by(Ticket.id)
        .limit(1)
    ).first()


def _new_manual_ticket(session: Session, run: JobRun, number: str, actor: str) -> Ticket:
    """The open internal ticket of a hand-entered number: inserted unless a parallel request's
    insert won (the unique index uq_tickets_open_manual_number), then that one."""
    now = datetime.now(UTC)
    inserted = session.execute(
        insert(Ticket)
        .values(
            description=f"Autotask ticket {number} (entered by hand)",
            created_by=actor,
            created_at=now,
            ticket_code=next_ticket_code(session, now, ui_zone(load_app_settings(session))),
            autotask_ticket_number=number,
        )
        .on_conflict_do_nothing(
            index_elements=[Ticket.autotask_ticket_number],
            index_where=Ticket.resolved_at.is_(None)
            & Ticket.autotask_ticket_id.is_(None)
            & Ticket.autotask_ticket_number.is_not(None),
        )
        .returning(Ticket.id)
    ).scalar()
    note = session.get(Ticket, inserted) if inserted is not None else _open_ticket_numbered(session, number)
    assert note is not None  # inserted, or the parallel request's committed one
    return note


# --- storing a ticket on the run ------------------------------------------------------------------------


def _store(
    session: Session,
    run_id: int,
    ticket: psa.Ticket,
    actor: str,
    *,
    found_after_lost_answer: bool,
    attempt: bool,
) -> RunTicketResult:
    now = datetime.now(UTC)
    number = ticket.number or str(ticket.id)
    stored = session.execute(
        update(JobRun)
        .where(
            JobRun.id == run_id,
            or_(JobRun.autotask_ticket_id.is_(None), JobRun.autotask_ticket_deleted_at.is_not(None)),
        )
        .values(
            autotask_ticket_id=ticket.id,
            autotask_ticket_number=number,
            autotask_ticket_url=ticket.web_url,
            autotask_ticket_created_at=now,
            autotask_ticket_created_by=actor,
            autotask_ticket_deleted_at=None,
            ticket_status_snapshot=None,
            ticket_last_polled_at=None,
        )
        .returning(JobRun.id)
    ).first()
    if stored is None:
        raise Conflict(f"Run {run_id} got an Autotask ticket meanwhile.", code="run_has_ticket")
    run = session.get(JobRun, run_id, populate_existing=True)
    assert run is not None
    note = session.scalars(
        select(Ticket).where(Ticket.autotask_ticket_id == ticket.id, Ticket.resolved_at.is_(None)).limit(1)
    ).first() or _new_internal_ticket(
        session, run, actor, ticket.title or f"Autotask ticket {number}", number=number, ticket_id=ticket.id
    )
    note.autotask_ticket_id, note.autotask_ticket_url = ticket.id, ticket.web_url
    _link(session, note, run)
    if attempt:
        session.execute(
            update(AutotaskTicketCreation)
            .where(AutotaskTicketCreation.job_run_id == run_id)
            .values(outcome="created", finished_at=now, autotask_ticket_id=ticket.id)
        )
    audit.record(
        session,
        actor,
        "create_autotask_ticket" if attempt else "link_autotask_ticket",
        "job_run",
        run_id,
        {"autotask_ticket_id": ticket.id, "autotask_ticket_number": number, "ticket_id": note.id},
    )
    return RunTicketResult(
        run_id=run_id,
        autotask_ticket_id=ticket.id,
        autotask_ticket_number=number,
        autotask_ticket_url=ticket.web_url,
        internal_ticket_id=note.id,
        internal_ticket_code=note.ticket_code,
        manual=False,
        found_after_lost_answer=found_after_lost_answer,
    )


def _new_internal_ticket(
    session: Session, run: JobRun, actor: str, description: str, *, number: str, ticket_id: int
) -> Ticket:
    now = datetime.now(UTC)
    note = Ticket(
        description=description,
        created_by=actor,
        created_at=now,
        ticket_code=next_ticket_code(session, now, ui_zone(load_app_settings(session))),
        autotask_ticket_number=number,
        autotask_ticket_id=ticket_id,
    )
    session.add(note)
    session.flush()
    return note


def _link(session: Session, note: Ticket, run: JobRun) -> None:
    """Scope the ticket to the run's job (propagation, strategy 1) and link the run (audit trail)."""
    session.execute(insert(TicketScope).values(note_id=note.id, job_id=run.job_id).on_conflict_do_nothing())
    session.execute(insert(TicketJobRun).values(note_id=note.id, job_run_id=run.id).on_conflict_do_nothing())
