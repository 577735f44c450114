"""Booking a mail of a known job: overrides set the effective status, and the new run gets the
job's open tickets and remarks and its open Autotask ticket (technical notes, "Ticket Propagation
to New Runs"), at ingestion as at approval. Tickets are inserted directly."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared_code.db.models import (
    ExternalTicket,
    JobRun,
    MailMessage,
    RemarkJobRun,
    TicketJobRun,
)
from shared_code.mail.ingest import ingest
from shared_code.mail.sources import RawMail
from shared_code.parsers import parse_mail
from tests.mail.mails import T0, VEEAM, job_for, mime
from tests.support.factories import a_job, a_remark, a_ticket, an_override
from tests.support.ticket_sync import legacy


def book(name: str = VEEAM) -> int:
    """A mail of a known job comes in; the id of the run it became."""
    ingested = ingest(RawMail("directory", f"/archive/{name}.eml", mime(name)))
    assert ingested.run_id is not None
    return ingested.run_id


def linked(db: Session, link: type, run_id: int) -> list[int]:
    return sorted(db.scalars(select(link.note_id).where(link.job_run_id == run_id)))


def test_a_booked_run_gets_the_open_tickets_and_remarks_of_its_job_only(db) -> None:
    job = job_for(db, VEEAM)
    wanted = a_ticket(db, job)
    a_ticket(db, job, resolved_at=T0)
    remark = a_remark(db, job)
    db.commit()  # ingestion books in its own transaction
    run_id = book()
    assert linked(db, TicketJobRun, run_id) == [wanted.id]
    assert linked(db, RemarkJobRun, run_id) == [remark.id]

    wanted.resolved_at = T0 + timedelta(hours=1)  # resolved: stops linking at once, old link stays
    db.commit()
    later = book()
    assert linked(db, TicketJobRun, later) == []
    assert linked(db, TicketJobRun, run_id) == [wanted.id]


def test_a_booked_run_gets_the_jobs_open_autotask_ticket(db) -> None:
    job_for(db, VEEAM)
    first = db.get(JobRun, book())
    first.external_ticket = ExternalTicket(
        provider="autotask", external_id=4711, number="T20261120.0042", created_at=T0, created_by="op"
    )
    db.commit()
    second = legacy(db, book())
    assert (second.autotask_ticket_id, second.autotask_ticket_number) == (4711, "T20261120.0042")
    first.external_ticket.deleted_in_psa_at = T0  # the ticket of both runs
    db.commit()
    assert legacy(db, book()).autotask_ticket_id is None  # deleted in the PSA: not propagated


def test_an_override_sets_the_effective_status_of_a_booked_run(db) -> None:
    job = job_for(db, VEEAM)
    an_override(db, job=job, match_status="warning", match_message="transaction logs")
    db.commit()
    run = db.get(JobRun, book())
    assert (run.status, run.effective_status, run.override_id is not None) == ("warning", "success", True)


def test_a_booked_run_takes_only_live_overrides_whose_scope_holds_its_job(db) -> None:
    job = job_for(db, VEEAM)
    elsewhere = a_job(db)
    matching = {"match_status": "warning", "match_message": "transaction logs"}
    an_override(db, job=elsewhere, **matching)
    an_override(db, customer=elsewhere.customer, **matching)
    an_override(db, **matching, deleted_at=T0)
    an_override(db, **matching, active_until=T0 - timedelta(hours=1))
    db.commit()
    assert db.get(JobRun, book()).effective_status == "warning"

    of_customer = an_override(db, customer=job.customer, **matching, result_status="failed")
    an_override(db, **matching)  # global: less specific than the customer's
    db.commit()
    assert db.get(JobRun, book()).override_id == of_customer.id


def test_a_mail_whose_parse_runs_over_the_budget_is_stored_unparsed_and_left_unbooked(
    db, monkeypatch
) -> None:
    import shared_code.mail.ingest as ingestion
    from shared_code.config import get_settings
    from shared_code.db.models import MailMessage

    job_for(db, VEEAM)
    db.commit()
    tight = get_settings().model_copy(update={"parse_budget_seconds": 1e-9})
    monkeypatch.setattr(ingestion, "get_settings", lambda: tight)

    ingested = ingest(RawMail("directory", "/archive/slow.eml", mime(VEEAM)))

    mail = db.get(MailMessage, ingested.mail_id)
    assert (ingested.run_id, mail.parse_status, mail.location) == (None, "unparsed", "inbox")
    assert "could not be read: parse took too long" in mail.parse_error  # and which job it looks like


def test_a_booked_run_reads_the_size_its_report_states_through_its_mail(db) -> None:
    job_for(db, VEEAM)
    db.commit()
    run = db.get(JobRun, book())
    assert run is not None and run.mail_id is not None

    mail = db.get(MailMessage, run.mail_id)
    assert mail is not None
    assert mail.parsed_size_bytes == parse_mail(mime(VEEAM)).result.size_bytes  # type: ignore[union-attr]
    assert mail.parsed_size_bytes
