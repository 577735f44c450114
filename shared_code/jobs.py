"""Jobs: list (by customer; inactive customers' jobs hidden unless asked), details with run
history and the Run Checks indicators, changes, soft delete."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import func, or_, select, true, update
from sqlalchemy.orm import Session

from shared_code import audit
from shared_code.app_settings import load_app_settings
from shared_code.db.live import live_job, live_row, soft_delete_mails
from shared_code.db.models import Customer, Job, JobRun, MailMessage, natural_key
from shared_code.errors import InvalidInput, NotFound
from shared_code.runs.views import RUN_COLUMNS, RUNS_FROM, JobHeading, JobIndicators, RunRow, Status, run_row
from shared_code.schema.fields import Id, Search, TimeOfDay
from shared_code.schema.models import RequestModel
from shared_code.schema.paging import PageInfo, PageQuery, page_of, paginated
from shared_code.tickets.kinds import REMARKS, TICKETS


class JobListQuery(PageQuery):
    customer_id: Id | None = Field(None, description="Only this customer's jobs (even when it is inactive).")
    software: Search | None = Field(None, description="Only jobs of this backup software (any case).")
    search: Search | None = Field(
        None, description="Job name or customer name contains this text (any case): the site's job picker."
    )
    include_inactive_customers: bool = Field(False, description="Also jobs of inactive customers.")


class JobChange(RequestModel):
    active: bool | None = None
    informational: bool | None = None
    customer_id: Id | None = Field(None, description="Move the job to another live customer.")


class Schedule(BaseModel):
    kind: str = Field(description="daily | weekly | monthly | none (learned from the job's history).")
    weekdays: list[int] | None = Field(description="0 = Monday.")
    day_of_month: int | None
    time_of_day: TimeOfDay | None = Field(description="Expected time of day, in the UI timezone (no offset).")
    learned_at: datetime | None


class JobView(JobHeading, JobIndicators):
    id: int
    customer_active: bool
    from_address: str
    active: bool
    schedule: Schedule
    last_run_at: datetime | None
    last_status: Status | None = Field(description="Effective status of the newest run.")
    created_at: datetime


class CustomerRef(BaseModel):
    id: int
    name: str


class JobList(BaseModel):
    customer: CustomerRef | None = Field(description="The customer filtered on (for the filter banner).")
    items: list[JobView]
    page: PageInfo


class JobDetail(JobView):
    runs: list[RunRow] = Field(description="Run history, newest first.")
    runs_page: PageInfo


def _job_rows() -> Any:
    newest = (
        select(JobRun.run_at, JobRun.effective_status)
        .where(JobRun.job_id == Job.id)
        .order_by(JobRun.run_at.desc(), JobRun.id.desc())
        .limit(1)
        .lateral("newest")
    )
    return (
        select(
            Job,
            Customer.name.label("customer_name"),
            Customer.active.label("customer_active"),
            TICKETS.open_count_for_job(Job.id).label("open_tickets"),
            REMARKS.open_count_for_job(Job.id).label("open_remarks"),
            newest.c.run_at.label("last_run_at"),
            newest.c.effective_status.label("last_status"),
        )
        .join(Customer, Customer.id == Job.customer_id)
        .outerjoin(newest, true())
        .where(Job.live, Customer.live)
    )


def _view(row: Any) -> dict[str, Any]:
    job: Job = row.Job
    return {
        **{column.key: getattr(job, column.key) for column in Job.__table__.columns},
        "customer_name": row.customer_name,
        "customer_active": row.customer_active,
        "open_tickets": row.open_tickets,
        "open_remarks": row.open_remarks,
        "last_run_at": row.last_run_at,
        "last_status": row.last_status,
        "schedule": Schedule(
            kind=job.schedule_kind,
            weekdays=job.schedule_weekdays,
            day_of_month=job.schedule_day_of_month,
            time_of_day=job.schedule_time,
            learned_at=job.schedule_learned_at,
        ),
    }


def list_jobs(session: Session, query: JobListQuery) -> JobList:
    statement = _job_rows().order_by(
        natural_key(Customer.name), Customer.id, natural_key(Job.job_name), Job.id
    )
    customer = None
    if query.customer_id is not None:
        customer = _filter_customer(session, query.customer_id)
        statement = statement.where(Job.customer_id == query.customer_id)
    elif not query.include_inactive_customers:
        statement = statement.where(Customer.active)
    if query.software:
        statement = statement.where(func.lower(Job.backup_software) == query.software.lower())
    if query.search:
        statement = statement.where(
            or_(
                Job.job_name.icontains(query.search, autoescape=True),
                Customer.name.icontains(query.search, autoescape=True),
            )
        )
    rows, page = page_of(list(session.execute(paginated(statement, query))), query)
    return JobList(customer=customer, items=[JobView.model_validate(_view(row)) for row in rows], page=page)


def _filter_customer(session: Session, customer_id: int) -> CustomerRef:
    customer = live_row(session, Customer, customer_id)
    if customer is None:
        raise NotFound(f"no such customer_id: {customer_id}")
    return CustomerRef(id=customer.id, name=customer.name)


def job_detail(session: Session, job_id: int, runs_query: PageQuery) -> JobDetail:
    row = session.execute(_job_rows().where(Job.id == job_id)).first()
    if row is None:
        raise NotFound(f"no such job: {job_id}")
    history = paginated(
        select(*RUN_COLUMNS)
        .select_from(RUNS_FROM)
        .where(JobRun.job_id == job_id)
        .order_by(JobRun.run_at.desc(), JobRun.id.desc()),
        runs_query,
    )
    runs, runs_page = page_of(list(session.execute(history)), runs_query)
    settings = load_app_settings(session)
    return JobDetail.model_validate(
        {**_view(row), "runs": [run_row(settings, run) for run in runs], "runs_page": runs_page}
    )


def change_job(session: Session, job_id: int, body: JobChange, actor: str) -> JobDetail:
    job = live_job(session, job_id)
    changes = body.model_dump(exclude_none=True)
    if "customer_id" in changes:
        _require_live_customer(session, changes["customer_id"])
    for field, value in changes.items():
        setattr(job, field, value)
    session.flush()
    if changes:
        audit.record(session, actor, "update", "job", job.id, changes)
    return job_detail(session, job.id, PageQuery())


def _require_live_customer(session: Session, customer_id: int) -> None:
    if live_row(session, Customer, customer_id) is None:
        raise InvalidInput(
            f"customer_id: no such customer {customer_id}",
            details=[{"field": "body.customer_id", "message": "no such customer"}],
        )


def delete_job(session: Session, job_id: int, actor: str, *, now: datetime | None = None) -> None:
    job = live_job(session, job_id)
    soft_delete_jobs(session, [job.id], now or datetime.now(UTC))
    audit.record(session, actor, "delete", "job", job.id)


def soft_delete_jobs(session: Session, job_ids: Sequence[int], now: datetime) -> None:
    """Soft-delete jobs and the mails booked on them (their evidence goes with them), so that a
    purge may remove both for good."""
    if not job_ids:
        return
    session.execute(update(Job).where(Job.id.in_(job_ids)).values(deleted_at=now))
    session.execute(soft_delete_mails(now, MailMessage.job_id.in_(job_ids)))
