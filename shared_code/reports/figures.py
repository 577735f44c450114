"""The report's figures, each one SQL aggregate over the period's runs (never a query per job or
per run): runs by effective status per job, success rates, the longest failing streak per job,
the weekly trend, the missed runs, and the overview of every active customer.

Days and weeks are those of the UI timezone. A run counts in the period when its ``run_at`` falls
in it; missed runs are runs too (booked at the expected time), so each expected run that came or
was missed is counted once. Informational jobs (update notices) are reported apart and never take
part in totals or success rates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Date, Float, Select, and_, case, cast, func, literal_column, or_, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from shared_code.db.models import Customer, Job, JobRun
from shared_code.reports.period import Period

STATUSES = ("success", "warning", "failed", "missed")
SUCCESSFUL = ("success", "warning")  # a warning's backup completed: it counts as successful
FAILING = ("failed", "missed")
MISSED_RUNS_LISTED = 1000


class RunCounts(BaseModel):
    success: int = 0
    warning: int = 0
    failed: int = 0
    missed: int = 0

    def __add__(self, other: RunCounts) -> RunCounts:
        return RunCounts(**{status: getattr(self, status) + getattr(other, status) for status in STATUSES})

    @property
    def expected(self) -> int:
        return self.success + self.warning + self.failed + self.missed

    @property
    def successful(self) -> int:
        return self.success + self.warning


class Rate(BaseModel):
    runs: RunCounts
    expected_runs: int = Field(description="Runs that came or were missed (informational jobs apart).")
    successful_runs: int = Field(description="Expected runs whose effective status is success or warning.")
    success_rate: float | None = Field(
        description="successful_runs / expected_runs (0..1); null when nothing was expected and for "
        "informational jobs."
    )

    @classmethod
    def of(cls, counts: RunCounts, *, rated: bool = True) -> Rate:
        """``rated=False`` for informational jobs: counted, but no rate."""
        return cls(
            runs=counts,
            expected_runs=counts.expected,
            successful_runs=counts.successful,
            success_rate=rate(counts.successful, counts.expected) if rated else None,
        )


def rate(successful: int, expected: int) -> float | None:
    return round(successful / expected, 4) if expected else None


class Streak(BaseModel):
    days: int = Field(description="Consecutive days with a run whose last run failed or was missed.")
    first_day: date
    last_day: date


class JobFigures(Rate):
    job_id: int
    job_name: str
    backup_software: str
    backup_type: str
    informational: bool = Field(description="Update notices and the like: apart from totals and rates.")
    longest_failing_streak: Streak | None


class WeekFigures(BaseModel):
    week_start: date = Field(description="The Monday the week starts on (UI timezone).")
    expected_runs: int
    successful_runs: int
    success_rate: float | None


class MissedRun(BaseModel):
    job_id: int
    job_name: str
    run_at: datetime


# --- the SQL pieces -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """The period as SQL: its bounds and the UI timezone days and weeks are taken in."""

    start: datetime
    end: datetime
    timezone: str

    @classmethod
    def of(cls, period: Period) -> Window:
        start, end = period.bounds()
        return cls(start, end, period.timezone)

    def runs_in(self) -> Any:
        return and_(JobRun.run_at >= self.start, JobRun.run_at < self.end)

    def local_day(self) -> Any:
        return cast(func.timezone(self.timezone, JobRun.run_at), Date)

    def local_week(self) -> Any:
        return cast(func.date_trunc("week", func.timezone(self.timezone, JobRun.run_at)), Date)


def _status_counts() -> list[Any]:
    return [
        func.count(JobRun.id).filter(JobRun.effective_status == status).label(status) for status in STATUSES
    ]


def _counts(row: Any) -> RunCounts:
    return RunCounts(**{status: getattr(row, status) for status in STATUSES})


def _successful_and_expected() -> list[Any]:
    return [
        func.count(JobRun.id).filter(JobRun.effective_status.in_(SUCCESSFUL)).label("successful"),
        func.count(JobRun.id).label("expected"),
    ]


def _reported_jobs(customer_id: int) -> Any:
    """The customer's live jobs; inactive ones only when they ran in the period (HAVING below)."""
    return and_(Job.customer_id == customer_id, Job.live)


# --- a customer -----------------------------------------------------------------------------------------


def job_figures(session: Session, customer_id: int, window: Window) -> list[JobFigures]:
    streaks = longest_failing_streaks(session, customer_id, window)
    statement = (
        select(
            Job.id, Job.job_name, Job.backup_software, Job.backup_type, Job.informational, *_status_counts()
        )
        .outerjoin(JobRun, and_(JobRun.job_id == Job.id, window.runs_in()))
        .where(_reported_jobs(customer_id))
        .group_by(Job.id)
        .having(or_(Job.active, func.count(JobRun.id) > 0))
        .order_by(Job.informational, func.lower(Job.job_name), Job.id)
    )
    return [
        JobFigures(
            **Rate.of(_counts(row), rated=not row.informational).model_dump(),
            job_id=row.id,
            job_name=row.job_name,
            backup_software=row.backup_software,
            backup_type=row.backup_type,
            informational=row.informational,
            longest_failing_streak=streaks.get(row.id),
        )
        for row in session.execute(statement)
    ]


def longest_failing_streaks(session: Session, customer_id: int, window: Window) -> dict[int, Streak]:
    """Per job, the longest run of consecutive run days whose last run failed or was missed
    (gaps and islands: a day's rank among all the job's days minus its rank among its failing
    days is constant along a streak)."""
    last_status = func.array_agg(
        aggregate_order_by(JobRun.effective_status, JobRun.run_at.desc(), JobRun.id.desc())
    )[1]
    days = (
        select(
            JobRun.job_id.label("job_id"),
            window.local_day().label("day"),
            last_status.in_(FAILING).label("failing"),
        )
        .join(Job, Job.id == JobRun.job_id)
        .where(_reported_jobs(customer_id), ~Job.informational, window.runs_in())
        .group_by(JobRun.job_id, literal_column("day"))
        .subquery("days")
    )
    ranked = select(
        days.c.job_id,
        days.c.day,
        days.c.failing,
        (
            func.row_number().over(partition_by=days.c.job_id, order_by=days.c.day)
            - func.row_number().over(partition_by=(days.c.job_id, days.c.failing), order_by=days.c.day)
        ).label("island"),
    ).subquery("ranked")
    streaks = (
        select(
            ranked.c.job_id,
            func.count().label("days"),
            func.min(ranked.c.day).label("first_day"),
            func.max(ranked.c.day).label("last_day"),
        )
        .where(ranked.c.failing)
        .group_by(ranked.c.job_id, ranked.c.island)
        .subquery("streaks")
    )
    longest = (
        select(streaks)
        .distinct(streaks.c.job_id)
        .order_by(streaks.c.job_id, streaks.c.days.desc(), streaks.c.first_day)
    )
    return {
        row.job_id: Streak(days=row.days, first_day=row.first_day, last_day=row.last_day)
        for row in session.execute(longest)
    }


def weekly_figures(session: Session, customer_ids: list[int], window: Window) -> dict[int, list[WeekFigures]]:
    """Per customer, each week's success rate (weeks with expected runs only)."""
    if not customer_ids:
        return {}
    week = window.local_week().label("week")
    statement = (
        select(Job.customer_id, week, *_successful_and_expected())
        .join(Job, Job.id == JobRun.job_id)
        .where(Job.customer_id.in_(customer_ids), Job.live, ~Job.informational, window.runs_in())
        .group_by(Job.customer_id, literal_column("week"))  # by name: the expression's parameters differ
        .order_by(Job.customer_id, literal_column("week"))
    )
    weeks: dict[int, list[WeekFigures]] = {customer_id: [] for customer_id in customer_ids}
    for row in session.execute(statement):
        weeks[row.customer_id].append(
            WeekFigures(
                week_start=row.week,
                expected_runs=row.expected,
                successful_runs=row.successful,
                success_rate=rate(row.successful, row.expected),
            )
        )
    return weeks


def missed_runs(session: Session, customer_id: int, window: Window) -> list[MissedRun]:
    statement = (
        select(JobRun.job_id, Job.job_name, JobRun.run_at)
        .join(Job, Job.id == JobRun.job_id)
        .where(_reported_jobs(customer_id), JobRun.missed, window.runs_in())
        .order_by(JobRun.run_at, JobRun.id)
        .limit(MISSED_RUNS_LISTED)
    )
    return [
        MissedRun(job_id=r.job_id, job_name=r.job_name, run_at=r.run_at) for r in session.execute(statement)
    ]


# --- every customer -------------------------------------------------------------------------------------


class CustomerFigures(Rate):
    customer_id: int
    customer_name: str
    jobs: int = Field(description="Live, active, not informational jobs.")


def overview_statement(window: Window) -> Select[Any]:
    """Every live, active customer with its run counts and success rate, worst first: lowest rate,
    then most failed and missed runs; customers with nothing expected come last."""
    counts = _status_counts()
    expected = func.count(JobRun.id)
    successful = func.count(JobRun.id).filter(JobRun.effective_status.in_(SUCCESSFUL))
    success_rate = cast(successful, Float) / func.nullif(expected, 0)
    failing = func.count(JobRun.id).filter(JobRun.effective_status.in_(FAILING))
    return (
        select(
            Customer.id,
            Customer.name,
            func.count(func.distinct(Job.id)).filter(Job.active).label("jobs"),
            *counts,
        )
        .outerjoin(Job, and_(Job.customer_id == Customer.id, Job.live, ~Job.informational))
        .outerjoin(JobRun, and_(JobRun.job_id == Job.id, window.runs_in()))
        .where(Customer.live, Customer.active)
        .group_by(Customer.id)
        .order_by(
            case((expected == 0, 1), else_=0),
            success_rate,
            failing.desc(),
            func.lower(Customer.name),
            Customer.id,
        )
    )


def customer_figures(row: Any) -> CustomerFigures:
    return CustomerFigures(
        **Rate.of(_counts(row)).model_dump(), customer_id=row.id, customer_name=row.name, jobs=row.jobs
    )
