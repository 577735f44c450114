"""Missed runs: when a scheduled run has not arrived within the grace period, a ``missed`` run is
booked once (through create_run, so open tickets and remarks propagate to it).

Run by the hourly ``missed_runs`` timer and by an admin on demand, never while rendering Run
Checks. Each expected slot of the last few days is checked: it is fulfilled by any run of the job
(a missed run included) within half a day of it; otherwise a missed run is booked at the slot.
The database's unique (job, time) index for missed runs settles a race between two generators."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from shared_code import audit
from shared_code.app_settings import load_app_settings, ui_zone
from shared_code.config import get_settings
from shared_code.db.models import Job, JobRun, Override
from shared_code.runs.creation import create_run
from shared_code.runs.overrides import live_overrides
from shared_code.runs.schedules import JobSchedule, job_beginnings, learn_schedules, learnable_jobs

LOOKBACK = timedelta(days=3)
FULFILLED_WITHIN = timedelta(hours=12)
SYSTEM_ACTOR = "system:missed-runs"


class MissedRunsResult(BaseModel):
    schedules_learned: int
    missed_runs_created: int
    run_ids: list[int] = Field(description="The missed runs this pass booked.")


def grace_period() -> timedelta:
    """How long after its expected time a run may still arrive (MISSED_RUN_GRACE_MINUTES)."""
    return timedelta(minutes=get_settings().missed_run_grace_minutes)


def generate_missed_runs(
    session: Session,
    *,
    now: datetime | None = None,
    grace: timedelta | None = None,
    actor: str = SYSTEM_ACTOR,
) -> MissedRunsResult:
    """Learn stale schedules, then book every due missed run once."""
    now = now or datetime.now(UTC)
    grace = grace if grace is not None else grace_period()
    zone = ui_zone(load_app_settings(session))
    learned = learn_schedules(session, now, zone)
    jobs = list(
        session.scalars(learnable_jobs().where(Job.schedule_kind != "none", Job.schedule_time.is_not(None)))
    )
    began = job_beginnings(session, [job.id for job in jobs])
    due = _due_slots(jobs, began, now=now, grace=grace, zone=zone)
    arrived = _runs_near(session, [job.id for job in jobs], now)
    overrides = live_overrides(session)
    created = [
        run.id
        for job, slot in due
        if not _fulfilled(slot, arrived[job.id])
        and (run := _book_missed(session, job, slot, overrides)) is not None
    ]
    if created:
        audit.record(session, actor, "generate_missed_runs", "run", None, {"run_ids": created})
    return MissedRunsResult(schedules_learned=learned, missed_runs_created=len(created), run_ids=created)


def overdue_jobs(
    session: Session, *, now: datetime | None = None, grace: timedelta | None = None
) -> list[tuple[Job, datetime]]:
    """Jobs whose latest expected run (by the learned schedule) has not arrived within the grace
    period, with that expected time, most overdue first. A missed run booked for the slot does not
    count as arrived: the job is overdue until a report comes in."""
    now = now or datetime.now(UTC)
    grace = grace if grace is not None else grace_period()
    zone = ui_zone(load_app_settings(session))
    jobs = list(
        session.scalars(
            learnable_jobs()
            .where(Job.schedule_kind != "none", Job.schedule_time.is_not(None))
            .options(selectinload(Job.customer))
        )
    )
    began = job_beginnings(session, [job.id for job in jobs])
    latest: dict[int, tuple[Job, datetime]] = {}
    for job, slot in _due_slots(jobs, began, now=now, grace=grace, zone=zone):
        if job.id not in latest or slot > latest[job.id][1]:
            latest[job.id] = (job, slot)
    arrived = _runs_near(session, list(latest), now, reports_only=True)
    overdue = [(job, slot) for job, slot in latest.values() if not _fulfilled(slot, arrived[job.id])]
    return sorted(overdue, key=lambda pair: pair[1])


def _due_slots(
    jobs: Sequence[Job], began: dict[int, datetime], *, now: datetime, grace: timedelta, zone: ZoneInfo
) -> list[tuple[Job, datetime]]:
    """Expected slots from LOOKBACK ago (or the job's beginning) up to now minus the grace period."""
    first_day, last_day = (now - LOOKBACK).astimezone(zone).date(), now.astimezone(zone).date()
    days = [first_day + timedelta(n) for n in range((last_day - first_day).days + 1)]
    due = []
    for job in jobs:
        schedule = JobSchedule.of(job)
        for day in days:
            slot = schedule.slot(day, zone, since=began[job.id])
            if slot is not None and now - LOOKBACK <= slot <= now - grace:
                due.append((job, slot))
    return due


def _runs_near(
    session: Session, job_ids: list[int], now: datetime, *, reports_only: bool = False
) -> dict[int, list[datetime]]:
    near: dict[int, list[datetime]] = defaultdict(list)
    if job_ids:
        conditions = [JobRun.job_id.in_(job_ids), JobRun.run_at >= now - LOOKBACK - FULFILLED_WITHIN]
        if reports_only:
            conditions.append(JobRun.missed.is_(False))
        for job_id, run_at in session.execute(select(JobRun.job_id, JobRun.run_at).where(*conditions)):
            near[job_id].append(run_at)
    return near


def _fulfilled(slot: datetime, run_times: Sequence[datetime]) -> bool:
    return any(abs(run_at - slot) <= FULFILLED_WITHIN for run_at in run_times)


def _book_missed(session: Session, job: Job, slot: datetime, overrides: list[Override]) -> JobRun | None:
    """Book the missed run, or None when another generator booked it first."""
    try:
        with session.begin_nested():
            return create_run(session, job, run_at=slot, status="missed", overrides=overrides)
    except IntegrityError:
        return None
