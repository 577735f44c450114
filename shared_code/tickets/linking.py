"""Ticket propagation to new runs (technical notes, "Ticket Propagation to New Runs").

Every new run, from a mail or a missed run, gets:
- strategy 1: a link to every open internal ticket and remark scoped to its job, open meaning
  ``COALESCE(scope.resolved_at, note.resolved_at) IS NULL``. No date logic: a resolved ticket
  stops linking at once, and links made earlier stay as the audit trail;
- strategy 2: the job's open Autotask ticket copied onto the run: the most recent one on the
  job that is not deleted in the PSA and not resolved.
"""

from __future__ import annotations

from sqlalchemy import exists, func, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from shared_code.db.models import (
    JobRun,
    Remark,
    RemarkJobRun,
    RemarkScope,
    Ticket,
    TicketJobRun,
    TicketScope,
)

NOTE_KINDS = ((Ticket, TicketScope, TicketJobRun), (Remark, RemarkScope, RemarkJobRun))


def link_open_tickets_to_run(session: Session, run: JobRun) -> None:
    """Apply both strategies to a run that has just been flushed (it needs its id)."""
    for note, scope, link in NOTE_KINDS:
        _link_open_notes(session, run, note, scope, link)
    if run.autotask_ticket_id is None:
        _copy_open_autotask_ticket(session, run)


def _link_open_notes(session: Session, run: JobRun, note: type, scope: type, link: type) -> None:
    open_notes = (
        select(note.id, literal(run.id, JobRun.id.type))
        .join(scope, scope.note_id == note.id)
        .where(scope.job_id == run.job_id, func.coalesce(scope.resolved_at, note.resolved_at).is_(None))
        .distinct()
    )
    statement = insert(link).from_select([link.note_id, link.job_run_id], open_notes)
    session.execute(statement.on_conflict_do_nothing())


def _copy_open_autotask_ticket(session: Session, run: JobRun) -> None:
    resolved_internally = exists().where(
        Ticket.autotask_ticket_id == JobRun.autotask_ticket_id, Ticket.resolved_at.is_not(None)
    )
    source = session.scalars(
        select(JobRun)
        .where(
            JobRun.job_id == run.job_id,
            JobRun.id != run.id,
            JobRun.autotask_ticket_id.is_not(None),
            JobRun.autotask_ticket_deleted_at.is_(None),
            JobRun.ticket_resolved_at.is_(None),
            ~resolved_internally,
        )
        .order_by(JobRun.autotask_ticket_created_at.desc().nulls_last(), JobRun.id.desc())
        .limit(1)
    ).first()
    if source is None:
        return
    run.autotask_ticket_id = source.autotask_ticket_id
    run.autotask_ticket_number = source.autotask_ticket_number
    run.autotask_ticket_url = source.autotask_ticket_url
    run.autotask_ticket_created_at = source.autotask_ticket_created_at
    run.autotask_ticket_created_by = source.autotask_ticket_created_by
