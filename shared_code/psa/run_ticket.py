"""A run's Autotask ticket as the API shows it, and whether Resolve (Phase 2.4) is available.

The rule is pure (settings + run in, answer out) so the Autotask resolve action can refuse with
the same reason the site was shown."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from shared_code.db.models import AppSettings, JobRun

ResolveBlock = Literal[
    "autotask_disabled", "no_completed_status", "no_ticket", "deleted_in_psa", "already_resolved"
]
BLOCK_MESSAGES: dict[str, str] = {
    "autotask_disabled": "The Autotask integration is disabled.",
    "no_completed_status": "No Autotask 'completed' status is configured.",
    "no_ticket": "The run has no Autotask ticket (or only a ticket number not looked up yet).",
    "deleted_in_psa": "The ticket was deleted in Autotask; link or create a replacement.",
    "already_resolved": "The ticket is already resolved.",
}

RESOLUTION_BADGES: dict[str | None, Literal["Resolved by PSA", "Resolved by Backupchecks"]] = {
    "psa": "Resolved by PSA",
    "backupchecks": "Resolved by Backupchecks",
}


# The run's columns its ticket state is read from (list queries select these, not ORM objects).
RUN_TICKET_COLUMNS = (
    JobRun.autotask_ticket_id,
    JobRun.autotask_ticket_number,
    JobRun.autotask_ticket_url,
    JobRun.autotask_ticket_created_at,
    JobRun.autotask_ticket_created_by,
    JobRun.autotask_ticket_deleted_at,
    JobRun.ticket_last_polled_at,
    JobRun.ticket_status_snapshot,
    JobRun.ticket_resolution_origin,
    JobRun.ticket_resolved_at,
)


class RunTicketFields(Protocol):
    autotask_ticket_id: int | None
    autotask_ticket_deleted_at: datetime | None
    ticket_resolved_at: datetime | None


def resolve_blocked_reason(settings: AppSettings, run: RunTicketFields) -> ResolveBlock | None:
    """Why Resolve is not available for the run, or None when it is (SPEC §9, Resolve)."""
    if not settings.autotask_enabled:
        return "autotask_disabled"
    if settings.autotask_completed_status_id is None:
        return "no_completed_status"
    if run.autotask_ticket_id is None or run.autotask_ticket_id <= 0:  # no usable ticket id
        return "no_ticket"
    if run.autotask_ticket_deleted_at is not None:
        return "deleted_in_psa"
    if run.ticket_resolved_at is not None:
        return "already_resolved"
    return None


class AutotaskTicketState(BaseModel):
    ticket_id: int | None
    ticket_number: str | None
    ticket_url: str | None
    created_at: datetime | None
    created_by: str | None
    status_snapshot: dict[str, Any] | None = Field(description="The ticket's state at the last poll.")
    last_polled_at: datetime | None
    resolution_origin: Literal["psa", "backupchecks"] | None = Field(
        description="'psa': Resolved by PSA; 'backupchecks': Resolved by Backupchecks."
    )
    resolution_badge: Literal["Resolved by PSA", "Resolved by Backupchecks"] | None = Field(
        description="The resolution-origin badge's text."
    )
    resolved_at: datetime | None
    ticket_deleted_in_psa: bool
    deleted_in_psa_warning: str | None = Field(
        description="The deleted-in-PSA banner's text: the ticket is gone from Autotask, its actions are "
        "blocked, its id, number and URL are kept; link or create a replacement."
    )
    can_resolve: bool
    resolve_blocked_reason: ResolveBlock | None
    resolve_blocked_message: str | None = Field(description="The blocked reason, for people.")


def autotask_state(settings: AppSettings, run: Any) -> AutotaskTicketState:
    """From a JobRun or a row carrying its Autotask columns."""
    blocked = resolve_blocked_reason(settings, run)
    return AutotaskTicketState(
        ticket_id=run.autotask_ticket_id,
        ticket_number=run.autotask_ticket_number,
        ticket_url=run.autotask_ticket_url,
        created_at=run.autotask_ticket_created_at,
        created_by=run.autotask_ticket_created_by,
        status_snapshot=run.ticket_status_snapshot,
        last_polled_at=run.ticket_last_polled_at,
        resolution_origin=run.ticket_resolution_origin,
        resolution_badge=RESOLUTION_BADGES.get(run.ticket_resolution_origin),
        resolved_at=run.ticket_resolved_at,
        ticket_deleted_in_psa=run.autotask_ticket_deleted_at is not None,
        deleted_in_psa_warning=_deleted_warning(run),
        can_resolve=blocked is None,
        resolve_blocked_reason=blocked,
        resolve_blocked_message=BLOCK_MESSAGES[blocked] if blocked else None,
    )


def _deleted_warning(run: Any) -> str | None:
    if run.autotask_ticket_deleted_at is None:
        return None
    name = run.autotask_ticket_number or run.autotask_ticket_id
    return (
        f"Autotask ticket {name} was deleted in Autotask (noticed {run.autotask_ticket_deleted_at:%Y-%m-%d %H:%M} UTC). "
        "Ticket actions are blocked; link or create a replacement ticket."
    )
