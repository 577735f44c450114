"""Builders for tests: rows inserted directly, runs booked through create_run."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from shared_code.db.models import (
    Customer,
    Job,
    JobRun,
    MailMessage,
    MailObject,
    Override,
    Remark,
    RemarkScope,
    Ticket,
    TicketScope,
)
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


def a_mail(db: Session, *, received_at: datetime = T0, **fields: object) -> MailMessage:
    """A stored mail from Graph, parsed unless told otherwise."""
    mail = MailMessage(
        source="graph",
        graph_message_id=f"msg-{next(_numbers)}",
        received_at=received_at,
        **{"parse_status": "parsed", **fields},
    )
    db.add(mail)
    db.flush()
    return mail


def a_run(
    db: Session,
    job: Job,
    *,
    at: datetime = T0,
    status: str = "failed",
    objects: tuple[ObjectResult, ...] = (),
    size_bytes: int | None = None,
) -> JobRun:
    """A run booked from a mail (with its objects and the size it states), through create_run."""
    mail = a_mail(
        db,
        received_at=at,
        location="processed",
        subject=f"[{status}] {job.job_name}",
        from_address=job.from_address,
        job_id=job.id,
        parser_name="veeam",
        parsed_size_bytes=size_bytes,
    )
    db.add_all(
        MailObject(mail_id=mail.id, position=i, name=o.name, status=o.status, message=o.message)
        for i, o in enumerate(objects)
    )
    db.flush()
    return create_run(db, job, run_at=at, status=status, objects=objects, mail_id=mail.id)


def a_ticket(
    db: Session,
    job: Job,
    *,
    code: str | None = None,
    resolved_at: datetime | None = None,
    description: str = "x",
) -> Ticket:
    """An internal ticket scoped to the job."""
    ticket = Ticket(
        ticket_code=code or f"T20261120.{next(_numbers):04d}",
        description=description,
        created_by="op",
        resolved_at=resolved_at,
    )
    db.add(ticket)
    db.flush()
    db.add(TicketScope(note_id=ticket.id, job_id=job.id))
    db.flush()
    return ticket


def a_remark(db: Session, job: Job, *, description: str = "Known slow NAS") -> Remark:
    """A remark scoped to the job."""
    remark = Remark(description=description, created_by="op")
    db.add(remark)
    db.flush()
    db.add(RemarkScope(note_id=remark.id, job_id=job.id))
    db.flush()
    return remark


def an_override(
    db: Session,
    *,
    job: Job | None = None,
    customer: Customer | None = None,
    result_status: str = "success",
    reason: str = "known",
    **fields: object,
) -> Override:
    """An override in force since the day before T0: of the job, else of the customer, else global."""
    scope = "job" if job is not None else "customer" if customer is not None else "global"
    override = Override(
        scope=scope,
        job_id=job.id if job is not None else None,
        customer_id=customer.id if customer is not None else None,
        result_status=result_status,
        reason=reason,
        created_by="op",
        **{"active_from": T0 - timedelta(days=1), **fields},
    )
    db.add(override)
    db.flush()
    return override
