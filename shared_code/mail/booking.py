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

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from shared_code.db.models import Job, JobRun, MailMessage, MailObject
from shared_code.runs.creation import create_run
from shared_code.runs.overrides import ObjectResult

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

    def _pairs(self, model: Any) -> list[tuple[Any, str]]:
        return [
            (model.from_address, self.from_address),
            (model.backup_software, self.backup_software),
            (model.backup_type, self.backup_type),
            (model.job_name, self.job_name),
        ]

    def matches(self, model: type[Job] | type[MailMessage]) -> Any:
        """SQL: the row's four identity columns equal this identity (case-insensitive, trimmed)."""
        return and_(*(_key(column) == _key(value) for column, value in self._pairs(model)))

    def lock(self, session: Session) -> None:
        """Serialise booking and approval of this identity until the transaction ends."""
        key = func.concat_ws(_SEPARATOR, *(_key(value) for _, value in self._pairs(Job)))
        session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))


def _key(value: Any) -> Any:
    return func.lower(func.btrim(value))


def live_job(session: Session, identity: JobIdentity) -> Job | None:
    return session.scalars(select(Job).where(identity.matches(Job), Job.deleted_at.is_(None))).first()


def job_to_book(session: Session, identity: JobIdentity) -> Job | None:
    """The live job a parsed mail of this identity becomes a run of; None: it waits in the Inbox.

    A known job needs no lock (approval only ever adds jobs). An unknown one is looked up again
    under the identity's lock, held until the transaction ends: either an approval that was under
    way has committed its job by then, or the next approval sees this mail in the Inbox."""
    job = live_job(session, identity)
    if job is None:
        identity.lock(session)
        job = live_job(session, identity)
    return job


def book_if_known(session: Session, mail: MailMessage, objects: list[ObjectResult]) -> JobRun | None:
    """The run of a stored, parsed mail whose job exists; None leaves the mail in the Inbox."""
    job = job_to_book(session, JobIdentity.of(mail))
    return None if job is None else book_into(session, job, mail, objects)


def book_into(session: Session, job: Job, mail: MailMessage, objects: list[ObjectResult]) -> JobRun:
    """The mail becomes a run of the job (overrides applied, open tickets linked) and leaves the Inbox."""
    status = mail.parsed_status
    if status is None:
        raise ValueError(f"mail {mail.id} has no parsed status and cannot become a run")
    run = create_run(session, job, run_at=mail.received_at, status=status, objects=objects, mail=mail)
    mail.job_id = job.id
    mail.location = "processed"
    return run


def stored_objects(session: Session, mail: MailMessage) -> list[ObjectResult]:
    rows = session.scalars(
        select(MailObject).where(MailObject.mail_id == mail.id).order_by(MailObject.position)
    )
    return [ObjectResult(row.name, row.status, row.message) for row in rows]
