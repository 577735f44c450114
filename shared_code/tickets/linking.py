"""Ticket propagation to new runs, strategy 1 (technical notes, "Ticket Propagation to New Runs").

Every new run, from a mail or a missed run, gets a link to every open internal ticket and remark
scoped to its job, open meaning ``COALESCE(scope.resolved_at, note.resolved_at) IS NULL``. No date
logic: a resolved ticket stops linking at once, and links made earlier stay as the audit trail.
Strategy 2 (the job's open PSA ticket copied onto the run) is ``tickets.external``.

Both are parts of the statement that inserts the run (``runs.creation``), so that a new run and
its links are one round trip: every mail pays for it, and ingestion throughput counts it.
"""

from __future__ import annotations

from sqlalchemy import CTE, func, insert, select

from shared_code.db.models import (
    Remark,
    RemarkJobRun,
    RemarkScope,
    Ticket,
    TicketJobRun,
    TicketScope,
)

NOTE_KINDS = ((Ticket, TicketScope, TicketJobRun), (Remark, RemarkScope, RemarkJobRun))


def links_to_open_notes(new_run: CTE) -> list[CTE]:
    """Strategy 1 for the run that ``new_run`` inserts (a CTE returning its ``id`` and ``job_id``):
    data-modifying CTEs linking it to its job's open tickets and remarks."""
    return [_open_note_links(new_run, note, scope, link) for note, scope, link in NOTE_KINDS]


def _open_note_links(
    new_run: CTE,
    note: type[Ticket] | type[Remark],
    scope: type[TicketScope] | type[RemarkScope],
    link: type[TicketJobRun] | type[RemarkJobRun],
) -> CTE:
    open_notes = (
        select(note.id, new_run.c.id)
        .join(scope, scope.note_id == note.id)
        .where(scope.job_id == new_run.c.job_id, func.coalesce(scope.resolved_at, note.resolved_at).is_(None))
        .distinct()
    )
    # A new run has no links yet, so a plain INSERT does.
    statement = insert(link.__table__).from_select([link.note_id, link.job_run_id], open_notes)
    return statement.cte(f"new_{link.__tablename__}")
