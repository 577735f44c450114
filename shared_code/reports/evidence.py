"""What a report shows beside the figures: the tickets opened in the period with their time to
resolve (internal tickets, and the PSA tickets linked to the customer's runs), and the overrides in
force during the period (who made them, why, their window). One query each.

Snoozes are not reported yet: the snooze table does not exist on this branch."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import and_, func, literal_column, or_, select, union
from sqlalchemy.orm import Session, aliased

from shared_code.db.models import ExternalTicket, Job, JobRun, Override, Ticket, TicketJobRun, TicketScope
from shared_code.reports.figures import Window


class ReportTicket(BaseModel):
    ticket_code: str
    description: str
    jobs: list[str] = Field(description="The customer's jobs the ticket is scoped or linked to.")
    opened_at: datetime
    resolved_at: datetime | None
    hours_to_resolve: float | None = Field(description="From opening to resolution; null while open.")
    psa_ticket_number: str | None


class ReportPsaTicket(BaseModel):
    ticket_number: str | None
    jobs: list[str]
    opened_at: datetime = Field(description="When the ticket was created (or first linked to a run).")
    resolved_at: datetime | None
    resolution_origin: str | None = Field(description="psa | backupchecks: where it was resolved.")
    hours_to_resolve: float | None
    deleted_in_psa: bool


class ReportOverride(BaseModel):
    id: int
    scope: str = Field(description="global | customer | job")
    job_name: str | None
    match: str = Field(description="What the override matches, in words.")
    result_status: str
    reason: str
    created_by: str
    created_at: datetime
    active_from: datetime
    active_until: datetime | None
    deleted_at: datetime | None = Field(description="When it was removed (it was in force until then).")
    runs_changed: int = Field(description="Runs of this customer in the period whose status it set.")


def hours_between(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else round((end - start).total_seconds() / 3600, 1)


def internal_tickets(session: Session, customer_id: int, window: Window) -> list[ReportTicket]:
    """Tickets opened in the period that are scoped to one of the customer's jobs or linked to
    one of its runs."""
    scoped = select(TicketScope.note_id.label("ticket_id"), TicketScope.job_id.label("job_id"))
    linked = select(TicketJobRun.note_id, JobRun.job_id).join(JobRun, JobRun.id == TicketJobRun.job_run_id)
    links = union(scoped, linked).subquery("links")
    statement = (
        select(
            Ticket.ticket_code,
            Ticket.description,
            Ticket.created_at,
            Ticket.resolved_at,
            ExternalTicket.number.label("psa_number"),
            func.array_agg(func.distinct(Job.job_name)).label("jobs"),
        )
        .join(links, links.c.ticket_id == Ticket.id)
        .outerjoin(ExternalTicket, ExternalTicket.ticket_id == Ticket.id)
        .join(Job, Job.id == links.c.job_id)
        .where(
            Job.customer_id == customer_id, Ticket.created_at >= window.start, Ticket.created_at < window.end
        )
        .group_by(Ticket.id, ExternalTicket.id)
        .order_by(Ticket.created_at, Ticket.id)
    )
    return [
        ReportTicket(
            ticket_code=row.ticket_code,
            description=row.description,
            jobs=sorted(row.jobs),
            opened_at=row.created_at,
            resolved_at=row.resolved_at,
            hours_to_resolve=hours_between(row.created_at, row.resolved_at),
            psa_ticket_number=row.psa_number,
        )
        for row in session.execute(statement)
    ]


def psa_tickets(session: Session, customer_id: int, window: Window) -> list[ReportPsaTicket]:
    """The PSA tickets (``tickets.external``) of the customer's runs first opened in the period: the
    one place reports read PSA tickets."""
    opened = func.min(func.coalesce(ExternalTicket.created_at, JobRun.run_at))
    statement = (
        select(
            ExternalTicket.number,
            func.array_agg(func.distinct(Job.job_name)).label("jobs"),
            opened.label("opened_at"),
            ExternalTicket.resolved_at,
            ExternalTicket.resolution_origin.label("origin"),
            ExternalTicket.deleted_in_psa_at.is_not(None).label("deleted"),
        )
        .select_from(JobRun)
        .join(ExternalTicket, ExternalTicket.id == JobRun.external_ticket_id)
        .join(Job, Job.id == JobRun.job_id)
        .where(Job.customer_id == customer_id, ExternalTicket.external_id.is_not(None))
        .group_by(ExternalTicket.id)
        .having(and_(opened >= window.start, opened < window.end))
        .order_by(literal_column("opened_at"))
    )
    return [
        ReportPsaTicket(
            ticket_number=row.number,
            jobs=sorted(row.jobs),
            opened_at=row.opened_at,
            resolved_at=row.resolved_at,
            resolution_origin=row.origin,
            hours_to_resolve=hours_between(row.opened_at, row.resolved_at),
            deleted_in_psa=row.deleted,
        )
        for row in session.execute(statement)
    ]


class ReportSnooze(BaseModel):
    """A run of the period an operator snoozed (known, waiting for the next run): who, when, why."""

    job_name: str
    run_at: datetime
    status: str = Field(description="The run's effective status.")
    snoozed_by: str
    snoozed_at: datetime
    reason: str


def snoozes(session: Session, customer_id: int, window: Window) -> list[ReportSnooze]:
    """The customer's runs of the period that were snoozed, oldest first."""
    statement = (
        select(
            Job.job_name,
            JobRun.run_at,
            JobRun.effective_status,
            JobRun.snoozed_by,
            JobRun.snoozed_at,
            JobRun.snooze_reason,
        )
        .join(Job, Job.id == JobRun.job_id)
        .where(Job.customer_id == customer_id, window.runs_in(), JobRun.snoozed_at.is_not(None))
        .order_by(JobRun.run_at, JobRun.id)
    )
    return [
        ReportSnooze(
            job_name=row.job_name,
            run_at=row.run_at,
            status=row.effective_status,
            snoozed_by=row.snoozed_by,
            snoozed_at=row.snoozed_at,
            reason=row.snooze_reason,
        )
        for row in session.execute(statement)
    ]


def overrides_in_force(session: Session, customer_id: int, window: Window) -> list[ReportOverride]:
    """Overrides whose window and life overlap the period and whose scope takes in the customer:
    global ones, the customer's, and those of its jobs."""
    target = aliased(Job)
    changed = (
        select(func.count(JobRun.id))
        .join(Job, Job.id == JobRun.job_id)
        .where(JobRun.override_id == Override.id, Job.customer_id == customer_id, window.runs_in())
        .scalar_subquery()
    )
    statement = (
        select(Override, target.job_name, changed.label("runs_changed"))
        .outerjoin(target, target.id == Override.job_id)
        .where(
            or_(
                Override.scope == "global",
                Override.customer_id == customer_id,
                target.customer_id == customer_id,
            ),
            Override.active_from < window.end,
            or_(Override.active_until.is_(None), Override.active_until > window.start),
            or_(Override.deleted_at.is_(None), Override.deleted_at > window.start),
        )
        .order_by(Override.active_from, Override.id)
    )
    return [
        ReportOverride(
            id=override.id,
            scope=override.scope,
            job_name=job_name,
            match=describe_match(override),
            result_status=override.result_status,
            reason=override.reason,
            created_by=override.created_by,
            created_at=override.created_at,
            active_from=override.active_from,
            active_until=override.active_until,
            deleted_at=override.deleted_at,
            runs_changed=runs_changed,
        )
        for override, job_name, runs_changed in session.execute(statement)
    ]


def describe_match(override: Override) -> str:
    parts = []
    if override.match_status:
        parts.append(f"status {override.match_status}")
    if override.match_object_name:
        parts.append(f"object '{override.match_object_name}'")
    if override.match_message:
        parts.append(f"message containing '{override.match_message}'")
    return ", ".join(parts) or "every run"
