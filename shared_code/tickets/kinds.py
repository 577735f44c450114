"""Tickets and remarks have the same shape (note, job scopes, run links); one description of each
lets every service and route serve both."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select

from shared_code.db.models import Remark, RemarkJobRun, RemarkScope, Ticket, TicketJobRun, TicketScope


@dataclass(frozen=True)
class NoteKind:
    name: str  # singular, as in the audit log and messages
    plural: str  # as in the URL
    note: Any
    scope: Any
    link: Any
    numbered: bool  # tickets get a ticket_code

    def is_open(self) -> ColumnElement[bool]:
        """A note is open for a job while neither its scope nor the note itself is resolved."""
        return func.coalesce(self.scope.resolved_at, self.note.resolved_at).is_(None)

    def open_count_for_job(self, job_id: Any) -> Any:
        """Correlated count of the job's open notes (the 🎫 and remark indicators)."""
        return (
            select(func.count())
            .select_from(self.scope)
            .join(self.note, self.note.id == self.scope.note_id)
            .where(self.scope.job_id == job_id, self.is_open())
            .scalar_subquery()
        )


TICKETS = NoteKind("ticket", "tickets", Ticket, TicketScope, TicketJobRun, numbered=True)
REMARKS = NoteKind("remark", "remarks", Remark, RemarkScope, RemarkJobRun, numbered=False)
KINDS = {kind.plural: kind for kind in (TICKETS, REMARKS)}
