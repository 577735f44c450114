"""Builders for the operator tests: rows inserted directly, runs booked through create_run."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from shared_code.db.models import Customer, Job, JobRun, MailMessage, MailObject
from shared_code.runs.creation import create_run
from shared_code.runs.overrides import ObjectResult

T0 = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
_numbers = itertools.count(1)


def a_customer(db: Session, name: str | None = None, **fields: object) -> Customer:
    customer = Customer(name=name or f"Customer {next(_numbers)}", **fields)
    db.add(customer)
    db.flush()
    return customer


def a_job(db: Session, customer: Customer | None = None, **fields: object) -> Job:
    identity = {
        "from_address": "backup@example.test",
        "backup_software": "Veeam",
        "backup_type": "Backup Job",
        "job_name": f"Job {next(_numbers)}",
        **fields,
    }
    job = Job(customer=customer or a_customer(db), **identity)
    db.add(job)
    db.flush()
    return job


def a_run(
    db: Session,
    job: Job,
    *,
    at: datetime = T0,
    status: str = "failed",
    objects: tuple[ObjectResult, ...] = (),
) -> JobRun:
    """A run booked from a mail (with its objects), through create_run."""
    mail = MailMessage(
        source="graph",
        graph_message_id=f"msg-{next(_numbers)}",
        received_at=at,
        parse_status="parsed",
        location="processed",
        subject=f"[{status}] {job.job_name}",
        from_address=job.from_address,
        job_id=job.id,
        parser_name="veeam",
    )
    db.add(mail)
    db.flush()
    db.add_all(
        MailObject(mail_id=mail.id, position=i, name=o.name, status=o.status, message=o.message)
        for i, o in enumerate(objects)
    )
    db.flush()
    return create_run(db, job, run_at=at, status=status, objects=objects, mail=mail)
