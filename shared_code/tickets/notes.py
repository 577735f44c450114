"""Internal tickets and remarks: create with job scopes, link to runs, resolve, list.

One service for both (``NoteKind``). A note is open for a job while
``COALESCE(scope.resolved_at, note.resolved_at) IS NULL``; resolving ends every scope at once,
so propagation stops immediately, and the run links made so far stay as the audit trail."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from shared_code import audit
from shared_code.app_settings import load_app_settings, ui_zone
from shared_code.db.live import live_job_ids, live_runs
from shared_code.db.models import Customer, Job
from shared_code.errors import Conflict, InvalidInput, NotFound
from shared_code.schema.fields import Id, IdList, Text
from shared_code.schema.models import RequestModel, ResponseModel
from shared_code.schema.paging import PageInfo, PageQuery, page_of, paginated
from shared_code.tickets.codes import next_ticket_code
from shared_code.tickets.kinds import NoteKind

# --- request and response models ------------------------------------------------------------------


class NoteCreate(RequestModel):
    description: Text
    job_ids: list[Id] = Field(
        default_factory=list, max_length=100, description="Jobs in scope; the jobs of run_ids are added."
    )
    run_ids: list[Id] = Field(default_factory=list, max_length=1000, description="Runs to link now.")


class NoteLinks(RequestModel):
    run_ids: IdList


class NoteListQuery(PageQuery):
    state: Literal["open", "resolved", "all"] = Field("open", description="Filter by resolution.")
    job_id: Id | None = Field(None, description="Only notes scoped to this job.")


class ScopeView(ResponseModel):
    job_id: int
    job_name: str
    customer_name: str
    resolved_at: datetime | None


class NoteView(ResponseModel):
    id: int
    description: str
    created_at: datetime
    created_by: str
    resolved_at: datetime | None
    resolved_by: str | None
    scopes: list[ScopeView] = Field(default_factory=list)


class TicketView(NoteView):
    ticket_code: str
    psa_provider: str | None = Field(description="The PSA of the ticket it mirrors.")
    psa_ticket_id: int | None = Field(description="The PSA's id (None for a number entered by hand).")
    psa_ticket_number: str | None
    psa_ticket_url: str | None


class RemarkView(NoteView):
    pass


class LinkResult(BaseModel):
    linked: list[int] = Field(description="Runs linked by this request.")
    already_linked: list[int] = Field(description="Runs that were linked before (left as they were).")


class TicketList(BaseModel):
    items: list[TicketView]
    page: PageInfo


class RemarkList(BaseModel):
    items: list[RemarkView]
    page: PageInfo


def view_model(kind: NoteKind) -> type[NoteView]:
    return TicketView if kind.numbered else RemarkView


def list_model(kind: NoteKind) -> type[TicketList] | type[RemarkList]:
    return TicketList if kind.numbered else RemarkList


# --- services --------------------------------------------------------------------------------------


def list_notes(session: Session, kind: NoteKind, query: NoteListQuery) -> tuple[list[NoteView], PageInfo]:
    statement = select(kind.note).order_by(kind.note.created_at.desc(), kind.note.id.desc())
    if query.state == "open":
        statement = statement.where(kind.note.resolved_at.is_(None))
    elif query.state == "resolved":
        statement = statement.where(kind.note.resolved_at.is_not(None))
    if query.job_id is not None:
        scoped = select(kind.scope.note_id).where(kind.scope.job_id == query.job_id)
        statement = statement.where(kind.note.id.in_(scoped))
    rows = list(session.scalars(paginated(statement, query)))
    notes, page = page_of(rows, query)
    return views(session, kind, notes), page


def get_note(session: Session, kind: NoteKind, note_id: int) -> Any:
    note = session.get(kind.note, note_id)
    if note is None:
        raise NotFound(f"no such {kind.name}: {note_id}")
    return note


def create_note(
    session: Session, kind: NoteKind, body: NoteCreate, actor: str, *, now: datetime | None = None
) -> NoteView:
    now = now or datetime.now(UTC)
    runs = live_runs(session, body.run_ids, missing=InvalidInput) if body.run_ids else {}
    job_ids = live_job_ids(session, body.job_ids) | {run.job_id for run in runs.values()}
    if not job_ids:
        raise InvalidInput(
            "job_ids: give at least one job (or a run)",
            details=[{"field": "body.job_ids", "message": "at least one job or run is required"}],
        )
    note = kind.note(description=body.description, created_by=actor, created_at=now)
    if kind.numbered:
        note.ticket_code = next_ticket_code(session, now, ui_zone(load_app_settings(session)))
    session.add(note)
    session.flush()
    session.add_all(kind.scope(note_id=note.id, job_id=job_id, created_at=now) for job_id in sorted(job_ids))
    _add_links(session, kind, note.id, runs.keys())
    audit.record(
        session,
        actor,
        "create",
        kind.name,
        note.id,
        {"job_ids": sorted(job_ids), "run_ids": sorted(runs), **_code_of(kind, note)},
    )
    return views(session, kind, [note])[0]


def resolve_note(
    session: Session, kind: NoteKind, note_id: int, actor: str, *, now: datetime | None = None
) -> NoteView:
    note = get_note(session, kind, note_id)
    if note.resolved_at is not None:
        raise Conflict(
            f"{kind.name} {note_id} was already resolved at {note.resolved_at.isoformat()}",
            code="already_resolved",
        )
    now = now or datetime.now(UTC)
    note.resolved_at, note.resolved_by = now, actor
    session.execute(
        update(kind.scope)
        .where(kind.scope.note_id == note.id, kind.scope.resolved_at.is_(None))
        .values(resolved_at=now)
    )
    audit.record(session, actor, "resolve", kind.name, note.id, _code_of(kind, note))
    return views(session, kind, [note])[0]


def link_note(session: Session, kind: NoteKind, note_id: int, body: NoteLinks, actor: str) -> LinkResult:
    """Link runs by hand (idempotent). A resolved note takes no new links: it is closed."""
    note = get_note(session, kind, note_id)
    if note.resolved_at is not None:
        raise Conflict(f"{kind.name} {note_id} is resolved; it takes no new links", code="already_resolved")
    runs = live_runs(session, body.run_ids, missing=InvalidInput)
    linked = _add_links(session, kind, note.id, runs.keys())
    if linked:
        audit.record(session, actor, "link", kind.name, note.id, {"run_ids": linked})
    return LinkResult(linked=linked, already_linked=sorted(set(runs) - set(linked)))


def _add_links(session: Session, kind: NoteKind, note_id: int, run_ids: Iterable[int]) -> list[int]:
    """Insert the missing links; returns the runs newly linked."""
    rows = [{kind.link.note_id: note_id, kind.link.job_run_id: run_id} for run_id in sorted(run_ids)]
    if not rows:
        return []
    statement = insert(kind.link).values(rows).on_conflict_do_nothing().returning(kind.link.job_run_id)
    return sorted(session.execute(statement).scalars())


def _code_of(kind: NoteKind, note: Any) -> dict[str, str]:
    return {"ticket_code": note.ticket_code} if kind.numbered else {}


def views(session: Session, kind: NoteKind, notes: Sequence[Any]) -> list[NoteView]:
    """Notes with their scopes (one query for all of them)."""
    scopes: dict[int, list[ScopeView]] = defaultdict(list)
    if notes:
        for scope, job_name, customer_name in session.execute(
            select(kind.scope, Job.job_name, Customer.name)
            .join(Job, Job.id == kind.scope.job_id)
            .join(Customer, Customer.id == Job.customer_id)
            .where(kind.scope.note_id.in_([n.id for n in notes]))
            .order_by(kind.scope.job_id)
        ):
            scopes[scope.note_id].append(
                ScopeView(
                    job_id=scope.job_id,
                    job_name=job_name,
                    customer_name=customer_name,
                    resolved_at=scope.resolved_at,
                )
            )
    model = view_model(kind)
    return [model.model_validate(note).model_copy(update={"scopes": scopes[note.id]}) for note in notes]
