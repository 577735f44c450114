"""Soft deletion: rows by id that are not soft-deleted (the lookup behind every "no such ..."
answer), live jobs and runs (a job soft-deleted, or of a soft-deleted customer, hides its runs),
and the one statement that soft-deletes mail."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnExpressionArgument, Select, Update, select, update
from sqlalchemy.orm import Session

from shared_code.db.models import Customer, Job, JobRun, MailMessage
from shared_code.errors import AppError, InvalidInput, NotFound

Row = TypeVar("Row")


def live_row(session: Session, model: type[Row], row_id: int) -> Row | None:
    """The row of ``model`` (which has ``id`` and ``deleted_at``) with this id, unless soft-deleted."""
    table: Any = model
    return session.scalars(select(model).where(table.id == row_id, table.live)).first()


def soft_delete_mails(now: datetime, *conditions: ColumnExpressionArgument[bool]) -> Update:
    """Soft-delete the live mails matching ``conditions``: ``deleted_at`` and ``location`` move
    together (a CHECK constraint holds them to it)."""
    return (
        update(MailMessage)
        .where(MailMessage.live, *conditions)
        .values(deleted_at=now, location="deleted")
    )


def live_jobs() -> Select[tuple[Job]]:
    return (
        select(Job)
        .join(Customer, Customer.id == Job.customer_id)
        .where(Job.live, Customer.live)
    )


def live_job(session: Session, job_id: int) -> Job:
    job = session.scalars(live_jobs().where(Job.id == job_id)).first()
    if job is None:
        raise NotFound(f"no such job: {job_id}")
    return job


def live_run(session: Session, run_id: int) -> JobRun:
    return live_runs(session, [run_id], missing=NotFound)[run_id]


def live_runs(
    session: Session, run_ids: Iterable[int], *, missing: type[AppError], field: str = "run_ids"
) -> dict[int, JobRun]:
    """Every run asked for, or ``missing`` naming the ids that are not there (and nothing done)."""
    wanted = set(run_ids)
    found = {
        run.id: run
        for run in session.scalars(
            select(JobRun)
            .join(Job, Job.id == JobRun.job_id)
            .join(Customer, Customer.id == Job.customer_id)
            .where(JobRun.id.in_(wanted), Job.live, Customer.live)
        )
    }
    if len(found) < len(wanted):
        raise _missing(missing, "run", field, wanted - found.keys())
    return found


def live_job_ids(session: Session, job_ids: Iterable[int], *, field: str = "job_ids") -> set[int]:
    wanted = set(job_ids)
    found = set(session.scalars(live_jobs().with_only_columns(Job.id).where(Job.id.in_(wanted))))
    if found != wanted:
        raise _missing(InvalidInput, "job", field, wanted - found)
    return found


def _missing(error: type[AppError], noun: str, field: str, ids: set[int]) -> AppError:
    listed = ", ".join(str(i) for i in sorted(ids))
    return error(
        f"no such {noun}: {listed}", details=[{"field": f"body.{field}", "message": f"unknown ids: {listed}"}]
    )
