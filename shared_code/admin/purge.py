"""Permanent delete of what is already soft-deleted, in the technical notes' deletion order.

Jobs and mails reference each other (a mail names its job, a run names its mail), so the order
is forced by the foreign keys: link tables, scopes and overrides of the purged jobs first, then
the mails are unlinked from those jobs, then the mails' objects go, then the jobs (their runs
with them), then the mails, and last the customers left without jobs. A mail still booked on a
live run stays, and so does a deleted customer that still has live jobs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from pydantic import BaseModel
from sqlalchemy import CursorResult, Delete, Update, delete, exists, select, update
from sqlalchemy.orm import Session

from shared_code import audit
from shared_code.db.models import (
    Customer,
    Job,
    JobRun,
    MailMessage,
    MailObject,
    Override,
    RemarkJobRun,
    RemarkScope,
    TicketJobRun,
    TicketScope,
)

# correlate(None): these stand on their own even inside a DELETE of the same table.
PURGED_JOBS = select(Job.id).where(~Job.live).correlate(None).scalar_subquery()
PURGED_RUNS = select(JobRun.id).where(JobRun.job_id.in_(PURGED_JOBS)).correlate(None).scalar_subquery()
PURGED_CUSTOMERS = (
    select(Customer.id)
    .where(
        ~Customer.live,
        ~exists().where(Job.customer_id == Customer.id, Job.live),
    )
    .correlate(None)
    .scalar_subquery()
)
_booked_on_live_run = exists().where(JobRun.mail_id == MailMessage.id, JobRun.job_id.not_in(PURGED_JOBS))
PURGED_MAILS = (
    select(MailMessage.id)
    .where(~MailMessage.live, ~_booked_on_live_run)
    .correlate(None)
    .scalar_subquery()
)


def _deleted(statement: Delete | Update) -> Callable[[Session], int]:
    # A DELETE's or UPDATE's result is a CursorResult (its row count); Session.execute is typed as any Result.
    return lambda session: cast(CursorResult[Any], session.execute(statement)).rowcount


STEPS: list[tuple[str, Callable[[Session], int]]] = [
    ("ticket_job_runs", _deleted(delete(TicketJobRun).where(TicketJobRun.job_run_id.in_(PURGED_RUNS)))),
    ("remark_job_runs", _deleted(delete(RemarkJobRun).where(RemarkJobRun.job_run_id.in_(PURGED_RUNS)))),
    ("ticket_scopes", _deleted(delete(TicketScope).where(TicketScope.job_id.in_(PURGED_JOBS)))),
    ("remark_scopes", _deleted(delete(RemarkScope).where(RemarkScope.job_id.in_(PURGED_JOBS)))),
    (
        "overrides",
        _deleted(
            delete(Override).where(
                ~Override.live
                | Override.job_id.in_(PURGED_JOBS)
                | Override.customer_id.in_(PURGED_CUSTOMERS)
            )
        ),
    ),
    (
        "mails_unlinked",
        _deleted(update(MailMessage).where(MailMessage.job_id.in_(PURGED_JOBS)).values(job_id=None)),
    ),
    ("mail_objects", _deleted(delete(MailObject).where(MailObject.mail_id.in_(PURGED_MAILS)))),
    ("job_runs", _deleted(delete(JobRun).where(JobRun.id.in_(PURGED_RUNS)))),
    ("jobs", _deleted(delete(Job).where(Job.id.in_(PURGED_JOBS)))),
    ("mails", _deleted(delete(MailMessage).where(MailMessage.id.in_(PURGED_MAILS)))),
    ("customers", _deleted(delete(Customer).where(Customer.id.in_(PURGED_CUSTOMERS)))),
]


class PurgeResult(BaseModel):
    """Rows removed (or, for mails_unlinked, updated) per table, in the order they were touched."""

    ticket_job_runs: int
    remark_job_runs: int
    ticket_scopes: int
    remark_scopes: int
    overrides: int
    mails_unlinked: int
    mail_objects: int
    job_runs: int
    jobs: int
    mails: int
    customers: int


def purge(session: Session, actor: str) -> PurgeResult:
    counts = {name: step(session) for name, step in STEPS}
    result = PurgeResult(**counts)
    audit.record(session, actor, "purge", "database", None, counts)
    return result
