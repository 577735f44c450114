"""Every new run: overrides applied, open tickets and remarks linked, the open Autotask ticket copied."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared_code.db.models import ExternalTicket, JobRun, RemarkJobRun, TicketJobRun, TicketScope
from shared_code.runs.creation import create_run
from shared_code.runs.overrides import ObjectResult
from tests.support.factories import T0, a_job, a_mail, a_remark, a_ticket, an_override
from tests.support.ticket_sync import legacy


def linked_tickets(db: Session, run: JobRun) -> list[int]:
    return list(db.scalars(select(TicketJobRun.note_id).where(TicketJobRun.job_run_id == run.id)))


def test_a_new_run_gets_the_open_tickets_and_remarks_of_its_job(db: Session) -> None:
    job = a_job(db)
    ticket, remark = a_ticket(db, job), a_remark(db, job)
    run = create_run(db, job, run_at=T0, status="failed", mail_id=a_mail(db).id)
    assert linked_tickets(db, run) == [ticket.id]
    assert list(db.scalars(select(RemarkJobRun.note_id).where(RemarkJobRun.job_run_id == run.id))) == [
        remark.id
    ]


def test_a_resolved_ticket_stops_linking_and_keeps_its_old_links(db: Session) -> None:
    job = a_job(db)
    ticket = a_ticket(db, job)
    first = create_run(db, job, run_at=T0, status="failed", mail_id=a_mail(db).id)
    ticket.resolved_at = T0 + timedelta(minutes=5)
    second = create_run(db, job, run_at=T0 + timedelta(days=1), status="failed", mail_id=a_mail(db).id)
    assert linked_tickets(db, first) == [ticket.id]
    assert linked_tickets(db, second) == []


def test_a_resolved_scope_stops_linking_for_that_job_only(db: Session) -> None:
    job = a_job(db)
    ticket = a_ticket(db, job)
    db.scalars(select(TicketScope)).one().resolved_at = T0
    assert linked_tickets(db, create_run(db, job, run_at=T0, status="failed", mail_id=a_mail(db).id)) == []
    assert ticket.resolved_at is None


def test_a_missed_run_gets_propagation_too(db: Session) -> None:
    job = a_job(db)
    ticket = a_ticket(db, job)
    missed = create_run(db, job, run_at=T0, status="missed")
    assert missed.missed and missed.mail_id is None
    assert linked_tickets(db, missed) == [ticket.id]


def test_the_open_autotask_ticket_is_copied_but_not_a_deleted_or_resolved_one(db: Session) -> None:
    job = a_job(db)
    source = create_run(db, job, run_at=T0, status="failed", mail_id=a_mail(db).id)
    source.external_ticket = ExternalTicket(
        provider="autotask", external_id=4711, number="T20261120.0042", created_at=T0, created_by="op"
    )
    db.flush()
    copied = create_run(db, job, run_at=T0 + timedelta(days=1), status="failed", mail_id=a_mail(db).id)
    assert (legacy(db, copied).autotask_ticket_id, legacy(db, copied).autotask_ticket_number) == (
        4711,
        "T20261120.0042",
    )

    source.external_ticket.deleted_in_psa_at = T0 + timedelta(days=1)  # the ticket of both runs
    db.flush()
    after_delete = create_run(db, job, run_at=T0 + timedelta(days=2), status="failed", mail_id=a_mail(db).id)
    assert legacy(db, after_delete).autotask_ticket_id is None


def test_an_override_sets_the_effective_status_and_keeps_the_parsed_one(db: Session) -> None:
    job = a_job(db)
    an_override(db, job=job, match_status="warning", match_message="low free space")
    objects = [ObjectResult("SRV01", "warning", "Repository has LOW FREE SPACE")]
    run = create_run(db, job, run_at=T0, status="warning", objects=objects, mail_id=a_mail(db).id)
    assert (run.status, run.effective_status, run.override_id is not None) == ("warning", "success", True)
    other = create_run(
        db,
        job,
        run_at=T0,
        status="warning",
        objects=[ObjectResult("SRV01", "warning", "other")],
        mail_id=a_mail(db).id,
    )
    assert other.effective_status == "warning"
