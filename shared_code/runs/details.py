"""A run's details (``/alerts`` in the original): objects, mail, tickets and remarks, Autotask state."""

from __future__ import annotations

from datetime import datetime

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
        **run_row(load_app_settings(session), run).model_dump(),
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
