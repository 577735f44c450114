"""Ticket propagation to new runs (technical notes, "Ticket Propagation to New Runs").

Every new run, from a mail or a missed run, gets:
- strategy 1: a link to every open internal ticket and remark scoped to its job, open meaning
  ``COALESCE(scope.resolved_at, note.resolved_at) IS NULL``. No date logic: a resolved ticket
  stops linking at once, and links made earlier stay as the audit trail;
- strategy 2: the job's open Autotask ticket copied onto the run: the most recent one on the
  job that is not deleted in the PSA and not resolved.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import CTE, Select, exists, func, insert, literal, select
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
    """Apply both strategies to a run that has just been flushed (it needs its id).

    One round trip: the links are inserted by data-modifying CTEs of the statement that finds the
    Autotask ticket to copy (every new run pays for this, so ingestion throughput counts it)."""
    links = [_open_note_links(run, note, scope, link) for note, scope, link in NOTE_KINDS]
    source = session.execute(_open_autotask_ticket(run).add_cte(*links)).first()
    if source is not None and run.autotask_ticket_id is None:
        (
            run.autotask_ticket_id,
            run.autotask_ticket_number,
            run.autotask_ticket_url,
            run.autotask_ticket_created_at,
            run.autotask_ticket_created_by,
        ) = source


def _open_note_links(run: JobRun, note: type, scope: type, link: type) -> CTE:
    open_notes = (
        select(note.id, literal(run.id, JobRun.id.type))
        .join(scope, scope.note_id == note.id)
        .where(scope.job_id == run.job_id, func.coalesce(scope.resolved_at, note.resolved_at).is_(None))
        .distinct()
    )
    # A new run has no links yet, so a plain INSERT does (SQLAlchemy caches it; ON CONFLICT it compiles anew).
    statement = insert(link).from_select([link.note_id, link.job_run_id], open_notes)
    return statement.cte(f"new_{link.__tablename__}")


def _open_autotask_ticket(run: JobRun) -> Select[tuple[Any, ...]]:
    """The job's most recent Autotask ticket that is neither deleted in the PSA nor resolved."""
    resolved_internally = exists().where(
        Ticket.autotask_ticket_id == JobRun.autotask_ticket_id, Ticket.resolved_at.is_not(None)
    )
    return (
        select(
            JobRun.autotask_ticket_id,
            JobRun.autotask_ticket_number,
            JobRun.autotask_ticket_url,
            JobRun.autotask_ticket_created_at,
            JobRun.autotask_ticket_created_by,
        )
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
    )
