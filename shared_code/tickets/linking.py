"""Ticket propagation to new runs (technical notes, "Ticket Propagation to New Runs").

Every new run, from a mail or a missed run, gets:
- strategy 1: a link to every open internal ticket and remark scoped to its job, open meaning
  ``COALESCE(scope.resolved_at, note.resolved_at) IS NULL``. No date logic: a resolved ticket
  stops linking at once, and links made earlier stay as the audit trail;
- strategy 2: the job's open Autotask ticket copied onto the run: the most recent one on the
  job that is not deleted in the PSA and not resolved.

Both are parts of the statement that inserts the run (``runs.creation``), so that a new run and
its links are one round trip: every mail pays for it, and ingestion throughput counts it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import CTE, ColumnElement, exists, func, insert, select

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
COPIED_AUTOTASK_COLUMNS = (
    "autotask_ticket_id",
    "autotask_ticket_number",
    "autotask_ticket_url",
    "autotask_ticket_created_at",
    "autotask_ticket_created_by",
)


def open_autotask_ticket(job_id: ColumnElement[Any]) -> CTE:
    """Strategy 2: the job's most recent Autotask ticket that is neither deleted in the PSA nor
    resolved (at most one row, with the columns a new run copies)."""
    resolved_internally = exists().where(
        Ticket.autotask_ticket_id == JobRun.autotask_ticket_id, Ticket.resolved_at.is_not(None)
    )
    return (
        select(*(JobRun.__table__.c[name] for name in COPIED_AUTOTASK_COLUMNS))
        .where(
            JobRun.job_id == job_id,
            JobRun.autotask_ticket_id.is_not(None),
            JobRun.autotask_ticket_deleted_at.is_(None),
            JobRun.ticket_resolved_at.is_(None),
            ~resolved_internally,
        )
        .order_by(JobRun.autotask_ticket_created_at.desc().nulls_last(), JobRun.id.desc())
        .limit(1)
        .cte("open_autotask_ticket")
    )


def links_to_open_notes(new_run: CTE) -> list[CTE]:
    """Strategy 1 for the run that ``new_run`` inserts (a CTE returning its ``id`` and ``job_id``):
    data-modifying CTEs linking it to its job's open tickets and remarks."""
    return [_open_note_links(new_run, note, scope, link) for note, scope, link in NOTE_KINDS]


def _open_note_links(new_run: CTE, note: type, scope: type, link: type) -> CTE:
    open_notes = (
        select(note.id, new_run.c.id)
        .join(scope, scope.note_id == note.id)
        .where(scope.job_id == new_run.c.job_id, func.coalesce(scope.resolved_at, note.resolved_at).is_(None))
        .distinct()
    )
    # A new run has no links yet, so a plain INSERT does.
    statement = insert(link.__table__).from_select([link.note_id, link.job_run_id], open_notes)
    return statement.cte(f"new_{link.__tablename__}")
