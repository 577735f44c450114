"""Overrides: a matching override changes a run's interpreted (effective) status; the parsed
status is kept. The most specific scope wins (job, then customer, then global), then the newest."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shared_code.db.models import Job, Override

SCOPE_PRIORITY = {"job": 0, "customer": 1, "global": 2}


@dataclass(frozen=True)
class ObjectResult:
    name: str
    status: str
    message: str | None


def active_overrides(session: Session, job: Job, at: datetime) -> list[Override]:
    """Live overrides that can apply to the job's runs at ``at``, most specific and newest first."""
    overrides = session.scalars(
        select(Override).where(
            Override.deleted_at.is_(None),
            Override.active_from <= at,
            or_(Override.active_until.is_(None), Override.active_until > at),
            or_(
                Override.scope == "global",
                (Override.scope == "customer") & (Override.customer_id == job.customer_id),
                (Override.scope == "job") & (Override.job_id == job.id),
            ),
        )
    ).all()
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
