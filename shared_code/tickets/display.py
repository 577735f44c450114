"""Which tickets and remarks a run shows (technical notes, "Run Checks Popup Modal").

Two sources, one query, no duplicates: the notes linked to the run (always shown: the audit
trail) and the open notes scoped to its job (a new note shows before any run is linked to it).
No date filter at all: the popup's ``active_from_date <= run_date`` loses to the Critical Rules'
"never date-based" (SPEC §7)."""

from __future__ import annotations

from typing import Literal, TypeVar

from pydantic import Field
from sqlalchemy import distinct, func, literal, select, union_all
from sqlalchemy.orm import Session

from shared_code.db.models import JobRun
from shared_code.tickets.kinds import NoteKind
from shared_code.tickets.notes import NoteView, RemarkView, TicketView, views

Source = Literal["link", "scope"]


class SourcedNote(NoteView):
    sources: list[Source] = Field(
        description="Why the run shows it: 'link' (linked to this run), 'scope' (open on its job)."
    )


class RunTicket(TicketView, SourcedNote):
    pass


class RunRemark(RemarkView, SourcedNote):
    pass


Shown = TypeVar("Shown", bound=SourcedNote)


def notes_for_run(session: Session, kind: NoteKind, run: JobRun, model: type[Shown]) -> list[Shown]:
    """The run's notes of ``kind`` as ``model`` (``RunTicket`` or ``RunRemark``)."""
    linked = select(kind.link.note_id.label("note_id"), literal("link").label("source")).where(
        kind.link.job_run_id == run.id
    )
    open_on_job = (
        select(kind.scope.note_id, literal("scope"))
        .join(kind.note, kind.note.id == kind.scope.note_id)
        .where(kind.scope.job_id == run.job_id, kind.is_open())
    )
    sources = union_all(linked, open_on_job).subquery()
    rows = session.execute(
        select(kind.note, func.array_agg(distinct(sources.c.source)))
        .join(sources, sources.c.note_id == kind.note.id)
        .group_by(kind.note.id)
        .order_by(kind.note.created_at, kind.note.id)
    ).all()
    shown = views(session, kind, [note for note, _ in rows])
    return [
        model(**view.model_dump(), sources=sorted(found))
        for view, (_, found) in zip(shown, rows, strict=True)
    ]
