"""Schedules learned from a job's history: daily, weekly (some weekdays) or monthly (a day of the
month), and the expected time of day, in the UI timezone.

A weekday counts as regular when the job ran on most of its occurrences between its first and
last run in the window; all seven make a daily schedule. Otherwise one day of the month seen in
most months makes a monthly schedule. Missed runs never teach anything, and informational jobs
(update notices) are never learned."""

from __future__ import annotations

import calendar
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from shared_code.db.models import Customer, Job, JobRun

LEARNING_WINDOW = timedelta(days=100)
RELEARN_AFTER = timedelta(days=1)
MIN_RUN_DAYS = 3
REGULAR_SHARE = 0.6
MIN_OCCURRENCES = 2  # a weekday (or month) must have come round at least twice to judge it
BATCH = 200


@dataclass(frozen=True)
class JobSchedule:
    kind: str  # daily | weekly | monthly | none
    weekdays: tuple[int, ...] = ()
    day_of_month: int | None = None
    time_of_day: time | None = None

    @classmethod
    def of(cls, job: Job) -> JobSchedule:
        return cls(
            job.schedule_kind,
            tuple(job.schedule_weekdays or ()),
            job.schedule_day_of_month,
            job.schedule_time,
        )

    def expected_on(self, day: date) -> bool:
        if self.kind == "daily":
            return True
        if self.kind == "weekly":
            return day.weekday() in self.weekdays
        if self.kind == "monthly" and self.day_of_month is not None:
            # A day past the month's end (the 31st in April) falls on its last day.
            return day.day == min(self.day_of_month, calendar.monthrange(day.year, day.month)[1])
        return False

    def slot(self, day: date, zone: ZoneInfo, *, since: datetime | None = None) -> datetime | None:
        """When a run is expected on ``day``, or None; nothing is expected before ``since`` (the job's
        beginning, ``job_beginnings``)."""
        if self.time_of_day is None or not self.expected_on(day):
            return None
        at = datetime.combine(day, self.time_of_day, tzinfo=zone)
        return None if since is not None and at < since else at

    def expects(self, day: date, zone: ZoneInfo, *, since: datetime) -> bool:
        """Whether a run is expected on ``day`` of a job that began at ``since``."""
        if self.time_of_day is not None:
            return self.slot(day, zone, since=since) is not None
        return self.expected_on(day) and day >= since.astimezone(zone).date()


def job_beginnings(session: Session, job_ids: Sequence[int]) -> dict[int, datetime]:
    """When each job began: its creation or, when earlier (an imported archive), its first run.
    A job expects no run before it began."""
    if not job_ids:
        return {}
    rows = session.execute(
        select(Job.id, func.least(Job.created_at, func.min(JobRun.run_at)))
        .outerjoin(JobRun, JobRun.job_id == Job.id)
        .where(Job.id.in_(job_ids))
        .group_by(Job.id)
    )
    return {job_id: began for job_id, began in rows}


UNSCHEDULED = JobSchedule("none")


def learn_schedule(run_times: Sequence[datetime], zone: ZoneInfo) -> JobSchedule:
    local = sorted(t.astimezone(zone) for t in run_times)
    days = sorted({t.date() for t in local})
    if len(days) < MIN_RUN_DAYS:
        return UNSCHEDULED
    at = _typical_time(local)
    weekdays = _regular_weekdays(days)
    if len(weekdays) == 7:
        return JobSchedule("daily", time_of_day=at)
    if weekdays:
        return JobSchedule("weekly", weekdays=tuple(weekdays), time_of_day=at)
    day_of_month = _regular_day_of_month(days)
    if day_of_month is not None:
        return JobSchedule("monthly", day_of_month=day_of_month, time_of_day=at)
    return UNSCHEDULED


def _typical_time(local: Sequence[datetime]) -> time:
    minutes = int(statistics.median_low(t.hour * 60 + t.minute for t in local))
    return time(minutes // 60, minutes % 60)


def _regular_weekdays(days: Sequence[date]) -> list[int]:
    seen = Counter(d.weekday() for d in days)
    span = (days[-1] - days[0]).days + 1
    possible = Counter((days[0] + timedelta(n)).weekday() for n in range(span))
    return [
        weekday
        for weekday in range(7)
        if possible[weekday] >= MIN_OCCURRENCES and seen[weekday] / possible[weekday] >= REGULAR_SHARE
    ]


def _regular_day_of_month(days: Sequence[date]) -> int | None:
    months = (days[-1].year - days[0].year) * 12 + days[-1].month - days[0].month + 1
    day, count = Counter(d.day for d in days).most_common(1)[0]
    if months >= MIN_OCCURRENCES and count >= MIN_OCCURRENCES and count / months >= REGULAR_SHARE:
        return day
    return None


def learnable_jobs() -> Select[tuple[Job]]:
    """Live, active, non-informational jobs of live, active customers."""
    return (
        select(Job)
        .join(Customer, Customer.id == Job.customer_id)
        .where(
            Job.live,
            Job.active,
            ~Job.informational,
            Customer.live,
            Customer.active,
        )
    )


def learn_schedules(session: Session, now: datetime, zone: ZoneInfo) -> int:
    """(Re)learn the schedules not learned in the last day; returns how many were learned."""
    stale = or_(Job.schedule_learned_at.is_(None), Job.schedule_learned_at < now - RELEARN_AFTER)
    jobs = list(session.scalars(learnable_jobs().where(stale).order_by(Job.id)))
    for start in range(0, len(jobs), BATCH):
        batch = jobs[start : start + BATCH]
        history = _run_times(session, [job.id for job in batch], now)
        for job in batch:
            _store(job, learn_schedule(history[job.id], zone), now)
    session.flush()
    return len(jobs)


def _run_times(session: Session, job_ids: list[int], now: datetime) -> dict[int, list[datetime]]:
    times: dict[int, list[datetime]] = defaultdict(list)
    for job_id, run_at in session.execute(
        select(JobRun.job_id, JobRun.run_at).where(
            JobRun.job_id.in_(job_ids),
            ~JobRun.missed,
            JobRun.run_at >= now - LEARNING_WINDOW,
            JobRun.run_at <= now,
        )
    ):
        times[job_id].append(run_at)
    return times


def _store(job: Job, schedule: JobSchedule, now: datetime) -> None:
    job.schedule_kind = schedule.kind
    job.schedule_weekdays = list(schedule.weekdays) or None
    job.schedule_day_of_month = schedule.day_of_month
    job.schedule_time = schedule.time_of_day
    job.schedule_learned_at = now
