"""A run's details (``/alerts`` in the original): objects, mail, tickets and remarks, PSA ticket state;
and the run as a PSA ticket describes it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared_code.app_settings import load_app_settings
from shared_code.db.live import live_run
from shared_code.db.models import MailObject, Override
from shared_code.runs.views import JobHeading, RunRow, fields_of, run_row
from shared_code.schema.models import ResponseModel
from shared_code.schema.paging import PageInfo, PageQuery, page_of, paginated
from shared_code.tickets.display import RunRemark, RunTicket, notes_for_run
from shared_code.tickets.external import LinkFields, link_of_run
from shared_code.tickets.kinds import REMARKS, TICKETS


class JobSummary(JobHeading):
    id: int


class MailSummary(ResponseModel):
    id: int
    subject: str | None
    from_address: str | None
    received_at: datetime
    parser_name: str | None
    parse_status: str


class RunObject(ResponseModel):
    name: str
    object_type: str | None
    status: str
    message: str | None


class OverrideSummary(ResponseModel):
    id: int
    scope: str
    result_status: str
    reason: str


class RunDetailQuery(PageQuery):
    """Which page of the run's objects to answer with (a report may list tens of thousands)."""

    limit: int = Field(500, ge=1, le=1000, description="Objects per page.")


class RunDetail(RunRow):
    job: JobSummary
    override: OverrideSummary | None
    mail: MailSummary | None = Field(description="The report mail (missed runs have none).")
    objects: list[RunObject] = Field(description="One page of the objects, in report order (offset, limit).")
    objects_page: PageInfo
    object_count: int
    tickets: list[RunTicket] = Field(description="Linked to the run, or open on its job; no duplicates.")
    remarks: list[RunRemark] = Field(description="Linked to the run, or open on its job; no duplicates.")


def run_detail(session: Session, run_id: int, query: RunDetailQuery | None = None) -> RunDetail:
    query = query or RunDetailQuery()
    run = live_run(session, run_id)
    job = run.job
    mail = run.mail
    override = session.get(Override, run.override_id) if run.override_id is not None else None
    objects, page, count = mail_objects_page(session, run.mail_id, query)
    return RunDetail(
        **run_row(load_app_settings(session), run, link_of_run(session, run)).model_dump(),
        job=JobSummary(
            id=job.id, customer_name=job.customer.name, **fields_of(JobHeading, job, but=("customer_name",))
        ),
        override=OverrideSummary.model_validate(override) if override else None,
        mail=MailSummary.model_validate(mail) if mail else None,
        objects=[RunObject.model_validate(o) for o in objects],
        objects_page=page,
        object_count=count,
        tickets=notes_for_run(session, TICKETS, run, RunTicket),
        remarks=notes_for_run(session, REMARKS, run, RunRemark),
    )


def mail_objects_page(
    session: Session, mail_id: int | None, query: PageQuery
) -> tuple[list[MailObject], PageInfo, int]:
    """One page of a mail's objects in report order, the page info, and how many there are in all."""
    if mail_id is None:
        return [], PageInfo(offset=query.offset, limit=query.limit, has_more=False), 0
    of_mail = MailObject.mail_id == mail_id
    rows = session.scalars(paginated(select(MailObject).where(of_mail).order_by(MailObject.position), query))
    objects, page = page_of(list(rows), query)
    return objects, page, session.scalar(select(func.count()).where(of_mail)) or 0


# --- what a PSA ticket about the run says (the PSA layer asks; it does not read the tables) -------------


@dataclass(frozen=True)
class FailingObject:
    name: str
    status: str
    message: str | None


@dataclass(frozen=True)
class TicketSubject:
    """A run as a PSA ticket describes it, with its customer's PSA company and its current ticket."""

    run_id: int
    job_id: int
    customer_id: int
    customer: str
    company_provider: str | None
    company_id: int | None
    mapping_status: str
    job_name: str
    backup_software: str
    backup_type: str
    status: str  # effective status
    run_at: datetime
    missed: bool
    objects: tuple[FailingObject, ...]
    ticket: LinkFields  # the run's ticket (all None: none)


def ticket_subject(session: Session, run_id: int) -> TicketSubject:
    """404 for no such live run."""
    run = live_run(session, run_id)
    job, customer = run.job, run.job.customer
    objects: list[FailingObject] = []
    if run.mail_id is not None:
        objects = [
            FailingObject(obj.name, obj.status, obj.message)
            for obj in session.scalars(
                select(MailObject)
                .where(MailObject.mail_id == run.mail_id, MailObject.status != "success")
                .order_by(MailObject.position)
            )
        ]
    return TicketSubject(
        run_id=run.id,
        job_id=job.id,
        customer_id=customer.id,
        customer=customer.name,
        company_provider=customer.psa_company_provider,
        company_id=customer.psa_company_id,
        mapping_status=customer.psa_mapping_status,
        job_name=job.job_name,
        backup_software=job.backup_software,
        backup_type=job.backup_type,
        status=run.effective_status,
        run_at=run.run_at.astimezone(UTC),
        missed=run.missed,
        objects=tuple(objects),
        ticket=link_of_run(session, run),
    )
