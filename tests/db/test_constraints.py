"""The database itself holds the rules that must never break."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DatabaseError, IntegrityError
from sqlalchemy.orm import Session

from shared_code.db.models import Customer, ExternalTicket, Job, JobRun, MailMessage

NOW = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)


def make_job(db: Session, **identity: str) -> Job:
    customer = Customer(name=f"Customer {db.query(Customer).count() + 1}")
    job = Job(
        customer=customer,
        from_address=identity.get("from_address", "backup@example.test"),
        backup_software=identity.get("backup_software", "Veeam"),
        backup_type=identity.get("backup_type", "Backup Job"),
        job_name=identity.get("job_name", "Daily VM Backup"),
    )
    db.add(job)
    db.flush()
    return job


def make_mail(db: Session, **fields: object) -> MailMessage:
    mail = MailMessage(source="graph", received_at=NOW, parse_status="parsed", **fields)
    db.add(mail)
    db.flush()
    return mail


def test_one_run_per_mail(db: Session) -> None:
    job, mail = make_job(db), make_mail(db, graph_message_id="AAMk1")
    db.add(JobRun(job=job, mail=mail, run_at=NOW, status="success", effective_status="success"))
    db.flush()
    db.add(JobRun(job=job, mail=mail, run_at=NOW, status="success", effective_status="success"))
    with pytest.raises(IntegrityError, match="uq_job_runs_mail_id"):
        db.flush()


def test_graph_message_id_is_unique(db: Session) -> None:
    make_mail(db, graph_message_id="AAMk1")
    with pytest.raises(IntegrityError, match="uq_mail_messages_graph_message_id"):
        make_mail(db, graph_message_id="AAMk1")


def test_job_identity_is_case_insensitive_and_trimmed(db: Session) -> None:
    make_job(db)
    with pytest.raises(IntegrityError, match="uq_jobs_live_identity"):
        make_job(db, from_address=" BACKUP@example.test ", job_name="daily vm backup")


def test_a_soft_deleted_job_frees_its_identity(db: Session) -> None:
    job = make_job(db)
    job.deleted_at = NOW
    db.flush()
    assert make_job(db).id != job.id


def test_a_missed_run_exists_once_per_job_and_time(db: Session) -> None:
    job = make_job(db)
    db.add(JobRun(job=job, run_at=NOW, status="missed", effective_status="missed", missed=True))
    db.flush()
    db.add(JobRun(job=job, run_at=NOW, status="missed", effective_status="missed", missed=True))
    with pytest.raises(IntegrityError, match="uq_job_runs_missed"):
        db.flush()


def test_one_autotask_ticket_may_be_linked_to_many_runs(db: Session) -> None:
    job = make_job(db)
    ticket = ExternalTicket(provider="autotask", external_id=4711, number="T20261120.0001")
    for number, mail_id in enumerate(("AAMk1", "AAMk2")):
        run = JobRun(
            job=job,
            mail=make_mail(db, graph_message_id=mail_id),
            run_at=NOW.replace(hour=number),
            status="failed",
            effective_status="failed",
            external_ticket=ticket,
        )
        db.add(run)
    db.flush()  # would raise if the ticket id were unique across runs
    assert db.scalar(select(func.count()).where(JobRun.external_ticket_id == ticket.id)) == 2


def test_a_run_without_a_mail_must_be_a_missed_run(db: Session) -> None:
    db.add(JobRun(job=make_job(db), run_at=NOW, status="success", effective_status="success"))
    with pytest.raises(DatabaseError, match="missed_has_no_mail"):  # pg8000 reports CHECK as DatabaseError
        db.flush()


def test_a_mail_is_deleted_in_its_location_and_deleted_at_together(db: Session) -> None:
    mail = make_mail(db, graph_message_id="AAMk1")
    mail.deleted_at = NOW  # location still 'inbox'
    with pytest.raises(DatabaseError, match="deleted_location"):
        db.flush()
