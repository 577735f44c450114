"""Daily Jobs: for one calendar day in the UI timezone, every active job with its expected
schedule and that day's runs; an expected run that has not come within the grace period shows
as missed even before the missed-run timer has booked it."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared_code.app_settings import load_app_settings, local_day_bounds, ui_zone
from shared_code.db.models import AppSettings, Customer, Job, JobRun, natural_key
from shared_code.runs.schedules import JobSchedule, job_beginnings
from shared_code.runs.views import RUN_COLUMNS, RUNS_FROM, JobHeading, RunRow, fields_of, run_row
from shared_code.schema.fields import Day, Id
from shared_code.schema.paging import PageInfo, PageQuery, page_of, paginated

DayStatus = Literal["success", "warning", "failed", "missed", "pending", "not_expected"]


class DailyJobsQuery(PageQuery):
    date: Day | None = Field(None, description="The day (YYYY-MM-DD) in the UI timezone; default today.")
    customer_id: Id | None = None


class DailyJob(JobHeading):
    job_id: int
    schedule_kind: str
    expected: bool = Field(description="The schedule expects a run on this day.")
    expected_at: datetime | None
    day_status: DayStatus = Field(
        description="The newest run's effective status; else missed (expected, grace over), "
        "pending (expected, not yet due) or not_expected."
    )
    runs: list[RunRow] = Field(description="That day's runs, oldest first.")


class DailyJobsPage(BaseModel):
    date: date
    timezone: str
    items: list[DailyJob]
    page: PageInfo


def daily_jobs(session: Session, query: DailyJobsQuery, *, now: datetime, grace: timedelta) -> DailyJobsPage:
    settings = load_app_settings(session)
    zone = ui_zone(settings)
    day = query.date or now.astimezone(zone).date()
    start, end = local_day_bounds(day, zone)
    rows, page = page_of(list(session.execute(_active_jobs(query))), query)
    job_ids = [job.id for job, _ in rows]
    runs = _runs_between(session, settings, job_ids, start, end)
    began = job_beginnings(session, job_ids)
    items = []
    for job, customer_name in rows:
        schedule = JobSchedule.of(job)
        expected_at = schedule.slot(day, zone, since=began[job.id])
        own = runs[job.id]
        items.append(
            DailyJob(
                **fields_of(JobHeading, job, but=("customer_name",)),
                customer_name=customer_name,
                job_id=job.id,
                schedule_kind=schedule.kind,
                expected=schedule.expects(day, zone, since=began[job.id]),
                expected_at=expected_at,
                day_status=_day_status(own, expected_at, now, grace),
                runs=own,
            )
        )
    return DailyJobsPage(date=day, timezone=str(zone), items=items, page=page)


def _active_jobs(query: DailyJobsQuery) -> Any:
    statement = paginated(
        select(Job, Customer.name)
        .join(Customer, Customer.id == Job.customer_id)
        .where(Job.live, Job.active, Customer.live, Customer.active)
        .order_by(natural_key(Customer.name), Customer.id, natural_key(Job.job_name), Job.id),
        query,
    )
    if query.customer_id is not None:
        statement = statement.where(Job.customer_id == query.customer_id)
    return statement


def _runs_between(
    session: Session, settings: AppSettings, job_ids: list[int], start: datetime, end: datetime
) -> dict[int, list[RunRow]]:
    runs: dict[int, list[RunRow]] = defaultdict(list)
    if job_ids:
        for run in session.execute(
            select(*RUN_COLUMNS)
            .select_from(RUNS_FROM)
            .where(JobRun.job_id.in_(job_ids), JobRun.run_at >= start, JobRun.run_at < end)
            .order_by(JobRun.run_at, JobRun.id)
        ):
            runs[run.job_id].append(run_row(settings, run))
    return runs


def _day_status(
    runs: list[RunRow], expected_at: datetime | None, now: datetime, grace: timedelta
) -> DayStatus:
    if runs:
        return runs[-1].effective_status
    if expected_at is None:
        return "not_expected"
    return "missed" if now >= expected_at + grace else "pending"
