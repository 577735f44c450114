"""A run's PSA ticket: created from the run (Phase 4) or an existing one linked by number (Phase 6),
in the active PSA.

Creating is one command in three steps, each with its own transaction boundary
(docs/architecture.md, "Transactions"):
1. **claim** — in a transaction of its own, committed before the PSA is called: the run, its
   customer's company and the settings are checked and the run's one creation attempt is taken
   (``tickets.claims``); of any number of concurrent requests one goes on, the others answer 409
   ``ticket_creation_in_progress``. The provider is built here too (settings, secret), so no
   database connection is held while the PSA answers;
2. **call** — the PSA is asked to create the ticket, outside any transaction. A create whose answer
   was lost (timeout, server error after sending) is looked for in the PSA right away and, failing
   that, by the next attempt before it creates again;
3. **store** — in the request's transaction: the ticket becomes the run's with its internal ticket
   (``tickets.external.store_psa_ticket``) and the attempt is recorded as created. When storing
   fails, the attempt is left ``unknown``, so the next one finds the ticket instead of making another.

Manual ticket numbers (integration disabled, or compatibility mode) live on an internal ticket
only: with no PSA id they are never polled until linked."""

from __future__ import annotations

import logging
from datetime import timedelta

from pydantic import Field
from sqlalchemy.orm import Session

from shared_code import audit
from shared_code.app_settings import load_app_settings
from shared_code.config import get_settings
from shared_code.db.engine import unit_of_work
from shared_code.db.live import live_run
from shared_code.db.models import AppSettings
from shared_code.errors import Conflict, InvalidInput, Unavailable
from shared_code.psa import provider as psa
from shared_code.psa import registry, ticket_text
from shared_code.runs.details import TicketSubject, ticket_subject
from shared_code.schema.models import RequestModel, ResponseModel
from shared_code.tickets.claims import (
    Claim,
    claim_creation,
    creation_unfinished,
    finish_attempt,
    record_created,
)
from shared_code.tickets.external import PsaTicketFacts, StoredLink, keep_manual_number, store_psa_ticket

log = logging.getLogger(__name__)

# How far back a lost create is looked for (clock differences between us and the PSA).
LOOKBACK = timedelta(minutes=10)


class TicketLink(RequestModel):
    ticket_number: str = Field(min_length=1, max_length=50, pattern=r"^\S(.*\S)?$")
    manual: bool = Field(
        False,
        description="Keep the number as typed, without looking it up (only in compatibility mode; "
        "always so while the integration is disabled).",
    )


class PsaTicketResult(ResponseModel):
    run_id: int
    provider: str = Field(description="The PSA the ticket is in.")
    psa_ticket_id: int | None = Field(description="None for a manual number.")
    psa_ticket_number: str
    psa_ticket_url: str | None
    internal_ticket_id: int
    internal_ticket_code: str
    manual: bool = Field(description="A number kept as typed; not polled until linked.")
    found_after_lost_answer: bool = Field(
        False, description="The ticket an earlier attempt created, found instead of creating a second."
    )


def _result(stored: StoredLink, *, manual: bool = False, found: bool = False) -> PsaTicketResult:
    return PsaTicketResult(
        run_id=stored.run_id,
        provider=stored.provider,
        psa_ticket_id=stored.external_id,
        psa_ticket_number=stored.number,
        psa_ticket_url=stored.url,
        internal_ticket_id=stored.internal_ticket_id,
        internal_ticket_code=stored.internal_ticket_code,
        manual=manual,
        found_after_lost_answer=found,
    )


def _active(settings: AppSettings, route_provider: str | None) -> str:
    """The active PSA; a provider's own route (``/autotask-ticket``) refuses while another is active."""
    if route_provider is not None and settings.psa_provider != route_provider:
        raise Conflict(
            f"The {registry.label(route_provider)} integration is disabled.",
            code=f"{route_provider}_disabled",
        )
    return registry.require_active(settings)


# --- create -------------------------------------------------------------------------------------------


def create_run_ticket(
    session: Session, run_id: int, actor: str, *, route_provider: str | None = None
) -> PsaTicketResult:
    """``session`` (the request's) is only used by step 3."""
    with unit_of_work() as claim_session:  # step 1: claim
        settings = load_app_settings(claim_session)
        name = _active(settings, route_provider)
        subject = ticket_subject(claim_session, run_id)
        defaults = registry.ticket_defaults(settings)
        _check_can_have_new_ticket(name, defaults, subject)
        claim = claim_creation(claim_session, run_id, name, ticket_text.reference(run_id), actor)
        draft = _draft(settings, defaults, subject, claim)
        provider = registry.open_provider(claim_session)
    try:
        with psa.about_run(run_id), provider:  # step 2: call
            ticket, found = _create_once(provider, draft, claim, run_id)
        stored = store_psa_ticket(session, run_id, _facts(name, ticket), actor)  # step 3: store
        record_created(session, run_id, ticket.id)
        _audit(session, actor, "create", stored)
        return _result(stored, found=found)
    except Exception:
        # Unless its outcome was recorded, a ticket may exist now: the next attempt looks first.
        finish_attempt(run_id, "unknown", still_pending=True)
        raise


def _facts(provider: str, ticket: psa.Ticket) -> PsaTicketFacts:
    return PsaTicketFacts(
        provider=provider,  # type: ignore[arg-type]
        external_id=ticket.id,
        number=ticket.number or str(ticket.id),
        url=ticket.web_url,
        title=ticket.title,
    )


def _audit(session: Session, actor: str, action: str, stored: StoredLink) -> None:
    audit.record(
        session,
        actor,
        f"{action}_{stored.provider}_ticket",
        "job_run",
        stored.run_id,
        {
            f"{stored.provider}_ticket_id": stored.external_id,
            f"{stored.provider}_ticket_number": stored.number,
            "ticket_id": stored.internal_ticket_id,
        },
    )


def _draft(
    settings: AppSettings, defaults: registry.TicketDefaults, subject: TicketSubject, claim: Claim
) -> psa.TicketDraft:
    facts = ticket_text.RunFacts(
        run_id=subject.run_id,
        job_id=subject.job_id,
        customer=subject.customer,
        job_name=subject.job_name,
        backup_software=subject.backup_software,
        backup_type=subject.backup_type,
        status=subject.status,
        run_at=subject.run_at,
        missed=subject.missed,
        objects=tuple(ticket_text.FailingObject(o.name, o.status, o.message) for o in subject.objects),
    )
    base_url = settings.backupchecks_base_url or get_settings().site_base_url
    return psa.TicketDraft(
        reference=ticket_text.reference(subject.run_id),
        company_id=subject.company_id or 0,
        title=ticket_text.ticket_title(facts),
        description=ticket_text.ticket_description(facts, base_url),
        queue_id=defaults.queue_id,
        source_id=defaults.source_id,
        status_id=defaults.status_id or 0,
        priority_id=defaults.priority(subject.status) or 0,
        due_at=claim.started_at + timedelta(hours=defaults.due_hours) if defaults.due_hours else None,
    )


def _create_once(
    provider: psa.PsaProvider, draft: psa.TicketDraft, claim: Claim, run_id: int
) -> tuple[psa.Ticket, bool]:
    if claim.look_since is not None:
        found = provider.find_created_ticket(draft, since=claim.look_since - LOOKBACK)
        if found is not None:
            log.info("%s ticket %s of run %s found from an earlier attempt", provider.label, found.id, run_id)
            return found, True
    try:
        return provider.create_ticket(draft), False
    except psa.PsaOutcomeUnknown:
        found = _look_after_lost_answer(provider, draft, claim)
        if found is not None:
            log.warning(
                "%s stored ticket %s of run %s but its answer was lost", provider.label, found.id, run_id
            )
            return found, True
        finish_attempt(run_id, "unknown")
        raise Unavailable(
            f"{provider.label} did not confirm the new ticket and it cannot be found yet. Try again: the "
            "next attempt looks for it before creating one.",
            code="ticket_outcome_unknown",
        ) from None
    except psa.PsaError:
        finish_attempt(run_id, "failed")  # refused or throttled: nothing was stored
        raise


def _look_after_lost_answer(
    provider: psa.PsaProvider, draft: psa.TicketDraft, claim: Claim
) -> psa.Ticket | None:
    try:
        return provider.find_created_ticket(draft, since=claim.started_at - LOOKBACK)
    except psa.PsaError as error:
        log.warning("looking for a ticket after a lost answer failed: %s", error.message)
        return None


def _check_can_have_new_ticket(name: str, defaults: registry.TicketDefaults, subject: TicketSubject) -> None:
    label = registry.label(name)
    ticket = subject.ticket
    if ticket.ticket_external_id is not None and ticket.ticket_deleted_in_psa_at is None:
        raise Conflict(
            f"Run {subject.run_id} already has {registry.label(ticket.ticket_provider or name)} ticket "
            f"{ticket.ticket_number or ticket.ticket_external_id}.",
            code="run_has_ticket",
            details={
                f"{ticket.ticket_provider}_ticket_id": ticket.ticket_external_id,
                f"{ticket.ticket_provider}_ticket_number": ticket.ticket_number,
            },
        )
    if subject.company_id is None or subject.company_provider != name:
        raise Conflict(
            f"Customer {subject.customer!r} is not mapped to a {label} company.", code="customer_unmapped"
        )
    if subject.mapping_status in ("missing", "inactive"):
        raise Conflict(
            f"The {label} company of {subject.customer!r} is {subject.mapping_status} in {label}; "
            "map the customer again.",
            code=f"company_{subject.mapping_status}",
        )
    missing = [
        field
        for field, value in (("status", defaults.status_id), ("priority", defaults.priority(subject.status)))
        if value is None
    ]
    if missing:
        raise Conflict(
            f"The {label} ticket defaults lack: {', '.join(missing)}.", code=f"{name}_settings_incomplete"
        )


# --- link ------------------------------------------------------------------------------------------------


def link_run_ticket(
    session: Session, run_id: int, body: TicketLink, actor: str, *, route_provider: str | None = None
) -> PsaTicketResult:
    settings = load_app_settings(session)
    run = live_run(session, run_id)
    number = body.ticket_number
    enabled = settings.psa_provider != "none" and route_provider in (None, settings.psa_provider)
    if not enabled or (body.manual and settings.psa_compatibility_mode):
        provider_name = route_provider or settings.psa_provider
        if provider_name == "none":
            raise Conflict(
                "No PSA integration is active: its ticket numbers cannot be kept.", code="psa_disabled"
            )
        return _result(keep_manual_number(session, run, provider_name, number, actor), manual=True)
    name = settings.psa_provider
    label = registry.label(name)
    if body.manual:
        raise InvalidInput(
            "manual: manual ticket numbers need compatibility mode while the integration is enabled",
            details=[{"field": "body.manual", "message": "compatibility mode is off"}],
        )
    current = ticket_subject(session, run_id).ticket
    if current.ticket_external_id is not None and current.ticket_deleted_in_psa_at is None:
        raise Conflict(
            f"Run {run.id} already has {registry.label(current.ticket_provider or name)} ticket "
            f"{current.ticket_number or current.ticket_external_id}.",
            code="run_has_ticket",
        )
    if creation_unfinished(session, run.id):
        raise Conflict(
            f"A {label} ticket for run {run.id} is being created; wait for it before linking another.",
            code="ticket_creation_in_progress",
        )
    with psa.about_run(run.id), registry.open_provider(session) as provider:
        ticket = provider.get_ticket_by_number(number)
    if ticket is None:
        raise InvalidInput(
            f"ticket_number: {label} has no ticket {number}",
            code="ticket_not_found",
            details=[{"field": "body.ticket_number", "message": f"not found in {label}"}],
        )
    stored = store_psa_ticket(session, run.id, _facts(name, ticket), actor)
    _audit(session, actor, "link", stored)
    return _result(stored)
