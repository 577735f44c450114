"""Overrides: a matching override changes a run's interpreted (effective) status; the parsed
status is kept. The most specific scope wins (job, then customer, then global), then the newest.

Overrides apply when a run is booked (``create_run``) and are re-applied to the runs an
override touches whenever it is created, changed or deleted (``reapply_override``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, or_, select, update
from sqlalchemy.orm import Session

from shared_code.db.models import Job, JobRun, MailObject, Override

SCOPE_PRIORITY = {"job": 0, "customer": 1, "global": 2}
REAPPLY_BATCH = 2000


@dataclass(frozen=True)
class ObjectResult:
    name: str
    status: str
    message: str | None


def live_overrides(session: Session) -> list[Override]:
    return list(session.scalars(select(Override).where(Override.live)))


def live_and_in_scope_of_job() -> ColumnElement[bool]:
    """SQL, joining overrides to jobs: the live overrides whose scope takes in the job's runs
    (``in_force`` then checks their active window)."""
    return and_(
        Override.live,
        or_(
            Override.scope == "global",
            and_(Override.scope == "customer", Override.customer_id == Job.customer_id),
            and_(Override.scope == "job", Override.job_id == Job.id),
        ),
    )


def in_force(overrides: Iterable[Override], customer_id: int, job_id: int, at: datetime) -> list[Override]:
    """The overrides that can apply to the job's runs at ``at``, most specific and newest first."""
    return by_priority(o for o in overrides if OverrideReach.of(o).covers(customer_id, job_id, at))


def by_priority(overrides: Iterable[Override]) -> list[Override]:
    return sorted(overrides, key=lambda o: (SCOPE_PRIORITY[o.scope], -o.id))


def matches(override: Override, status: str, objects: Sequence[ObjectResult]) -> bool:
    """Status (if set) is the run's; object name and message text (if set) must fit one object."""
    if override.match_status and override.match_status != status:
        return False
    if not (override.match_object_name or override.match_message):
        return True
    return any(_object_fits(override, obj) for obj in objects)


def _object_fits(override: Override, obj: ObjectResult) -> bool:
    if override.match_object_name and override.match_object_name.strip().casefold() != obj.name.casefold():
        return False
    return not override.match_message or override.match_message.casefold() in (obj.message or "").casefold()


def effective_status(
    overrides: Sequence[Override], status: str, objects: Sequence[ObjectResult]
) -> tuple[str, Override | None]:
    """The status to show and filter by, and the override that set it (if any)."""
    for override in overrides:
        if matches(override, status, objects):
            return override.result_status, override
    return status, None


# --- re-application when an override changes ------------------------------------------------------


@dataclass(frozen=True)
class OverrideReach:
    """Where an override can apply: its scope target and its active window."""

    scope: str
    customer_id: int | None
    job_id: int | None
    active_from: datetime
    active_until: datetime | None

    @classmethod
    def of(cls, override: Override) -> OverrideReach:
        return cls(
            override.scope, override.customer_id, override.job_id, override.active_from, override.active_until
        )

    def covers(self, customer_id: int, job_id: int, at: datetime) -> bool:
        in_window = self.active_from <= at and (self.active_until is None or at < self.active_until)
        in_scope = (
            self.scope == "global"
            or (self.scope == "customer" and self.customer_id == customer_id)
            or (self.scope == "job" and self.job_id == job_id)
        )
        return in_window and in_scope


def reapply_override(session: Session, override: Override, before: OverrideReach | None = None) -> int:
    """Recompute the effective status of every run the override reaches now or reached before
    (``before``: its reach prior to the change), keeping the parsed status. Returns runs changed."""
    session.flush()
    candidates = or_(JobRun.override_id == override.id, _reach_filter(OverrideReach.of(override)))
    if before is not None:
        candidates = or_(candidates, _reach_filter(before))
    live = live_overrides(session)
    changed, after_id = 0, 0
    while runs := session.execute(
        select(
            JobRun.id,
            JobRun.job_id,
            Job.customer_id,
            JobRun.run_at,
            JobRun.status,
            JobRun.mail_id,
            JobRun.effective_status,
            JobRun.override_id,
        )
        .join(Job, Job.id == JobRun.job_id)
        .where(candidates, JobRun.id > after_id)
        .order_by(JobRun.id)
        .limit(REAPPLY_BATCH)
    ).all():
        changed += _apply_to_batch(session, runs, live)
        after_id = runs[-1].id
    return changed


def _reach_filter(reach: OverrideReach) -> ColumnElement[bool]:
    window = JobRun.run_at >= reach.active_from
    if reach.active_until is not None:
        window = and_(window, JobRun.run_at < reach.active_until)
    if reach.scope == "job":
        return and_(window, JobRun.job_id == reach.job_id)
    if reach.scope == "customer":
        return and_(window, Job.customer_id == reach.customer_id)
    return window


def _apply_to_batch(session: Session, runs: Sequence[Row[Any]], live: list[Override]) -> int:
    objects = objects_of_mails(session, [run.mail_id for run in runs if run.mail_id is not None])
    changes = []
    for run in runs:
        applicable = in_force(live, run.customer_id, run.job_id, run.run_at)
        shown, chosen = effective_status(applicable, run.status, objects.get(run.mail_id, []))
        chosen_id = chosen.id if chosen is not None else None
        if (shown, chosen_id) != (run.effective_status, run.override_id):
            changes.append({"id": run.id, "effective_status": shown, "override_id": chosen_id})
    if changes:
        session.execute(update(JobRun), changes)
    return len(changes)


def objects_of_mails(session: Session, mail_ids: list[int]) -> dict[int, list[ObjectResult]]:
    """The stored objects of each mail, in report order (one query for them all)."""
    found: dict[int, list[ObjectResult]] = defaultdict(list)
    if mail_ids:
        for row in session.execute(
            select(MailObject.mail_id, MailObject.name, MailObject.status, MailObject.message)
            .where(MailObject.mail_id.in_(mail_ids))
            .order_by(MailObject.mail_id, MailObject.position)
        ):
            found[row.mail_id].append(ObjectResult(row.name, row.status, row.message))
    return found
