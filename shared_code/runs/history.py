"""A job's recent history as a strip of days (Run Checks, Jobs and a job's page): for each calendar
day in the UI timezone the worst effective status of its runs, or whether a run was expected at all,
with override and reviewed marks and the run a click opens. One call serves a whole page of jobs:
three statements whatever the number of jobs (settings, jobs, runs) plus the reasons of the days'
worst runs."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared_code.app_settings import load_app_settings, local_day_bounds, ui_zone
from shared_code.db.models import Job, JobRun
from shared_code.runs.reasons import reasons_for
from shared_code.runs.schedules import JobSchedule
from shared_code.schema.fields import Id, comma_separated
from shared_code.schema.models import RequestModel

DayStatus = Literal["success", "warning", "failed", "missed", "none", "not_expected"]
SEVERITY = {"failed": 0, "missed": 1, "warning": 2, "success": 3}
MAX_JOBS = 200


class HistoryQuery(RequestModel):
    job_ids: Annotated[
        list[Id], BeforeValidator(comma_separated), Field(min_length=1, max_length=MAX_JOBS)
    ] = Field(description="The jobs on the page (comma-separated).")
    days: int = Field(14, ge=1, le=62, description="Days back from today, today included.")


class HistoryDay(BaseModel):
    date: date
    status: DayStatus = Field(
        description="The worst effective status of the day's runs; 'none': a run was expected (or the "
        "schedule is unknown) and none is there; 'not_expected': the schedule expects none."
    )
    run_id: int | None = Field(description="The day's worst run (the newest of them): what a click opens.")
    runs: int
    overridden: bool = Field(description="An override set the status of one of the day's runs.")
    reviewed: bool = Field(description="Every run of the day is reviewed.")
    message: str | None = Field(description="Why the worst run is not a success, in one line.")


class JobHistory(BaseModel):
    job_id: int
    days: list[HistoryDay] = Field(description="Oldest first, today last.")


class JobHistories(BaseModel):
    timezone: str
    jobs: list[JobHistory]


def job_histories(session: Session, query: HistoryQuery, *, now: datetime) -> JobHistories:
    zone = ui_zone(load_app_settings(session))
    today = now.astimezone(zone).date()
    days = [today - timedelta(days=back) for back in range(query.days - 1, -1, -1)]
    start, _ = local_day_bounds(days[0], zone)
    _, end = local_day_bounds(today, zone)
    jobs = {job.id: job for job in session.scalars(select(Job).where(Job.id.in_(query.job_ids), Job.live))}
    runs = session.execute(
        select(
            JobRun.id,
            JobRun.job_id,
            JobRun.mail_id,
            JobRun.run_at,
            JobRun.status,
            JobRun.effective_status,
            JobRun.missed,
            JobRun.override_id,
            JobRun.reviewed_at,
        )
        .where(JobRun.job_id.in_(list(jobs)), JobRun.run_at >= start, JobRun.run_at < end)
        .order_by(JobRun.run_at, JobRun.id)
    ).all()
    by_day: dict[tuple[int, date], list[Any]] = defaultdict(list)
    for run in runs:
        by_day[(run.job_id, run.run_at.astimezone(zone).date())].append(run)
    worst = {key: _worst(day_runs) for key, day_runs in by_day.items()}
    reasons = reasons_for(session, list(worst.values()))
    return JobHistories(
        timezone=str(zone),
        jobs=[
            JobHistory(
                job_id=job_id,
                days=[
                    _day(day, by_day.get((job_id, day), []), worst.get((job_id, day)), jobs[job_id], reasons)
                    for day in days
                ],
            )
            for job_id in query.job_ids
            if job_id in jobs
        ],
    )


def _worst(runs: list[Any]) -> Any:
    """The most severe run of the day; the newest among equals."""
    return min(reversed(runs), key=lambda run: SEVERITY[run.effective_status])


def _day(day: date, runs: list[Any], worst: Any, job: Job, reasons: dict[int, Any]) -> HistoryDay:
    if worst is None:
        expected = job.schedule_kind == "none" or JobSchedule.of(job).expected_on(day)
        return HistoryDay(
            date=day,
            status="none" if expected else "not_expected",
            run_id=None,
            runs=0,
            overridden=False,
            reviewed=False,
            message=None,
        )
    reason = reasons.get(worst.id)
    return HistoryDay(
        date=day,
        status=worst.effective_status,
        run_id=worst.id,
        runs=len(runs),
        overridden=any(run.override_id is not None for run in runs),
        reviewed=all(run.reviewed_at is not None for run in runs),
        message=reason.summary if reason is not None else None,
    )
