"""Booking parsed mail (SPEC §6): a known job gets a run, an unknown job waits in the Inbox.

A job is identified by sender, software, backup type and job name, compared case-insensitively
and trimmed, in SQL (the same expressions as the unique index on live jobs). Approval, and the
booking of a mail whose job is not found, take a transaction-scoped advisory lock on that
identity: a mail ingested while its job is being approved either sees the new job or is seen by
the approval, never neither.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text, and_, bindparam, func, select
from sqlalchemy.orm import Session

from shared_code.db.models import Job, JobRun, MailMessage, Override, ci_key
from shared_code.runs.creation import create_run
from shared_code.runs.overrides import ObjectResult, live_and_in_scope_of_job

_SEPARATOR = "\x1f"
IDENTITY_COLUMNS = ("from_address", "backup_software", "backup_type", "job_name")


@dataclass(frozen=True)
class JobIdentity:
    from_address: str
    backup_software: str
    backup_type: str
    job_name: str

    @classmethod
    def of(cls, mail: MailMessage) -> JobIdentity:
        return cls.of_row({name: getattr(mail, name) for name in IDENTITY_COLUMNS})

    @classmethod
    def of_row(cls, row: Mapping[str, Any]) -> JobIdentity:
        """The identity of a mail row about to be stored."""
        return cls(*(row[name] or "" for name in IDENTITY_COLUMNS))

    def columns(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in IDENTITY_COLUMNS}

    def matches(self, model: type[Job] | type[MailMessage]) -> Any:
        """SQL: the row's four identity columns equal this identity (case-insensitive, trimmed)."""
        return _identity_is(model, self.columns())

    def lock(self, session: Session) -> None:
        """Serialise booking and approval of this identity until the transaction ends."""
        key = func.concat_ws(_SEPARATOR, *(ci_key(value) for value in self.columns().values()))
        session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))


def _identity_is(model: type[Job] | type[MailMessage], values: Mapping[str, Any]) -> Any:
    return and_(*(ci_key(getattr(model, name)) == ci_key(values[name]) for name in IDENTITY_COLUMNS))


@dataclass(frozen=True)
class BookableJob:
    """A live job, and the live overrides whose scope takes in its runs."""

    job: Job
    overrides: list[Override]


# Built once, with the identity as parameters: ingestion looks a job up for every mail, and
# building the statement costs more than running it. The overrides come along in the same
# round trip (one row per override, or one with none).
_BOOKABLE_JOB = (
    select(Job, Override)
    .outerjoin(Override, live_and_in_scope_of_job())
    .where(_identity_is(Job, {name: bindparam(name, type_=Text) for name in IDENTITY_COLUMNS}))
    .where(Job.live)
)


def bookable_job(session: Session, identity: JobIdentity) -> BookableJob | None:
    rows = session.execute(_BOOKABLE_JOB, identity.columns()).all()
    if not rows:
        return None
    return BookableJob(rows[0].Job, [row.Override for row in rows if row.Override is not None])


def job_with_identity(session: Session, identity: JobIdentity) -> Job | None:
    found = bookable_job(session, identity)
    return found.job if found is not None else None


def job_to_book(session: Session, identity: JobIdentity) -> BookableJob | None:
    """The live job a parsed mail of this identity becomes a run of; None: it waits in the Inbox.

    A known job needs no lock (approval only ever adds jobs). An unknown one is looked up again
    under the identity's lock, held until the transaction ends: either an approval that was under
    way has committed its job by then, or the next approval sees this mail in the Inbox."""
    found = bookable_job(session, identity)
    if found is None:
        identity.lock(session)
        found = bookable_job(session, identity)
    return found


def book_if_known(session: Session, mail: MailMessage, objects: list[ObjectResult]) -> JobRun | None:
    """The run of a stored, parsed mail whose job exists; None leaves the mail in the Inbox."""
    found = job_to_book(session, JobIdentity.of(mail))
    return None if found is None else book_into(session, found.job, mail, objects, found.overrides)


def book_into(
    session: Session, job: Job, mail: MailMessage, objects: list[ObjectResult], overrides: list[Override]
) -> JobRun:
    """The mail becomes a run of the job (overrides applied, open tickets linked) and leaves the Inbox."""
    status = mail.parsed_status
    if status is None:
        raise ValueError(f"mail {mail.id} has no parsed status and cannot become a run")
    run = create_run(
        session,
        job,
        run_at=mail.received_at,
        status=status,
        objects=objects,
        mail_id=mail.id,
        overrides=overrides,
    )
    for column, value in booked_columns(job.id).items():
        setattr(mail, column, value)
    return run


def booked_columns(job_id: int) -> dict[str, Any]:
    """What a booked mail is, however it was booked (at ingestion, approval or re-parse): in its
    job, out of the Inbox."""
    return {"job_id": job_id, "location": "processed"}


def unreadable_explained(session: Session, from_address: str | None, subject: str | None, reason: str) -> str:
    """Why a mail no parser could read is in the Inbox: when it comes from a known job's sender and
    its subject names that job (a truncated or mangled report), the Inbox says which job it looks like."""
    job = _job_it_looks_like(session, from_address, subject)
    if job is None:
        return reason
    return f"looks like job {job.job_name!r} ({job.backup_software}), could not be read: {reason}"


def _job_it_looks_like(session: Session, from_address: str | None, subject: str | None) -> Job | None:
    """The sender's live job whose name the subject carries (the longest such name)."""
    if not from_address or not subject:
        return None
    senders_jobs = session.scalars(
        select(Job).where(Job.live, ci_key(Job.from_address) == ci_key(bindparam("sender", from_address)))
    )
    folded = subject.casefold()
    named = [
        job for job in senders_jobs if job.job_name.strip() and job.job_name.strip().casefold() in folded
    ]
    return max(named, key=lambda job: len(job.job_name.strip()), default=None)
