"""A run's PSA ticket: the provider-neutral link to a ticket in a PSA (``external_tickets``), held
with the internal ticket it belongs to.

One row per PSA ticket, shared by every run linked to it (the run it was made for, the runs it was
copied to by propagation), so what the PSA says about the ticket is written once, for all of them:
- resolution (by the PSA or by Backupchecks) resolves the row and the matching internal ticket and
  its scopes, so propagation stops;
- deletion in the PSA marks the row deleted, keeping id, number and URL;
- an active ticket only refreshes the status snapshot and the time of the poll.
Each change re-checks the row's state in its WHERE clause, so a concurrent poll or resolve changes
nothing twice and the first resolution's origin is the one kept. No statement here waits for a
PSA: the PSA layer asks first, then records what it learnt here.

How a run shows its ticket (``TicketState``) and whether Resolve is available for it are here too,
so that run lists need no PSA code."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import Integer, Text, cast, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, insert
from sqlalchemy.orm import Session

from shared_code import audit
from shared_code.app_settings import load_app_settings, ui_zone
from shared_code.db.engine import unit_of_work
from shared_code.db.models import (
    AppSettings,
    Customer,
    ExternalTicket,
    Job,
    JobRun,
    ResolutionOrigin,
    Ticket,
    TicketJobRun,
    TicketScope,
)
from shared_code.db.settings import PROVIDER_LABELS, ExternalProvider
from shared_code.errors import Conflict
from shared_code.schema.models import ResponseModel
from shared_code.tickets.codes import next_ticket_code

# --- how a run shows its PSA ticket ------------------------------------------------------------------

ResolveBlock = Literal[
    "psa_disabled", "other_psa", "no_completed_status", "no_ticket", "deleted_in_psa", "already_resolved"
]
BLOCK_MESSAGES: dict[str, str] = {
    "psa_disabled": "No PSA integration is active.",
    "other_psa": "The ticket is in another PSA than the active one.",
    "no_completed_status": "No 'completed' status is configured for the PSA.",
    "no_ticket": "The run has no PSA ticket (or only a ticket number not looked up yet).",
    "deleted_in_psa": "The ticket was deleted in the PSA; link or create a replacement.",
    "already_resolved": "The ticket is already resolved.",
}
RESOLUTION_BADGES: dict[str | None, Literal["Resolved by PSA", "Resolved by Backupchecks"]] = {
    "psa": "Resolved by PSA",
    "backupchecks": "Resolved by Backupchecks",
}

# The link's columns a run row is read with (list queries select these next to the run's own,
# from ``RUNS_WITH_TICKETS``).
TICKET_COLUMNS = (
    ExternalTicket.id.label("ticket_link_id"),
    ExternalTicket.provider.label("ticket_provider"),
    ExternalTicket.external_id.label("ticket_external_id"),
    ExternalTicket.number.label("ticket_number"),
    ExternalTicket.url.label("ticket_url"),
    ExternalTicket.created_at.label("ticket_created_at"),
    ExternalTicket.created_by.label("ticket_created_by"),
    ExternalTicket.status_snapshot.label("ticket_status_snapshot"),
    ExternalTicket.last_polled_at.label("ticket_last_polled_at"),
    ExternalTicket.deleted_in_psa_at.label("ticket_deleted_in_psa_at"),
    ExternalTicket.resolution_origin.label("ticket_resolution_origin"),
    ExternalTicket.resolved_at.label("ticket_resolved_at"),
)
RUNS_WITH_TICKETS = JobRun.__table__.outerjoin(
    ExternalTicket.__table__, ExternalTicket.id == JobRun.external_ticket_id
)


@dataclass(frozen=True)
class LinkFields:
    """A run's ticket link as a row of ``TICKET_COLUMNS`` carries it (all None: no ticket)."""

    ticket_link_id: int | None = None
    ticket_provider: str | None = None
    ticket_external_id: int | None = None
    ticket_number: str | None = None
    ticket_url: str | None = None
    ticket_created_at: datetime | None = None
    ticket_created_by: str | None = None
    ticket_status_snapshot: dict[str, Any] | None = None
    ticket_last_polled_at: datetime | None = None
    ticket_deleted_in_psa_at: datetime | None = None
    ticket_resolution_origin: str | None = None
    ticket_resolved_at: datetime | None = None

    @classmethod
    def of(cls, link: ExternalTicket | None) -> LinkFields:
        if link is None:
            return cls()
        return cls(
            ticket_link_id=link.id,
            ticket_provider=link.provider,
            ticket_external_id=link.external_id,
            ticket_number=link.number,
            ticket_url=link.url,
            ticket_created_at=link.created_at,
            ticket_created_by=link.created_by,
            ticket_status_snapshot=link.status_snapshot,
            ticket_last_polled_at=link.last_polled_at,
            ticket_deleted_in_psa_at=link.deleted_in_psa_at,
            ticket_resolution_origin=link.resolution_origin,
            ticket_resolved_at=link.resolved_at,
        )

    @classmethod
    def of_row(cls, row: Any) -> LinkFields:
        return cls(**{column.key: getattr(row, column.key) for column in TICKET_COLUMNS})


def link_of_run(session: Session, run: JobRun) -> LinkFields:
    return LinkFields.of(
        session.get(ExternalTicket, run.external_ticket_id) if run.external_ticket_id else None
    )


def resolve_blocked_reason(settings: AppSettings, link: LinkFields) -> ResolveBlock | None:
    """Why Resolve is not available for the run, or None when it is (SPEC §9, Resolve)."""
    if settings.psa_provider == "none":
        return "psa_disabled"
    if link.ticket_provider is not None and link.ticket_provider != settings.psa_provider:
        return "other_psa"
    if settings.psa_closed_status_required and settings.psa_closed_status_id is None:
        return "no_completed_status"
    if link.ticket_external_id is None or link.ticket_external_id <= 0:  # no usable ticket id
        return "no_ticket"
    if link.ticket_deleted_in_psa_at is not None:
        return "deleted_in_psa"
    if link.ticket_resolved_at is not None:
        return "already_resolved"
    return None


class TicketState(BaseModel):
    provider: ExternalProvider | None = Field(description="The PSA the ticket is in.")
    psa_label: str | None = Field(
        description="The name of the ticket's PSA or, without a ticket, of the active PSA (None: none active)."
    )
    ticket_id: int | None
    ticket_number: str | None
    ticket_url: str | None
    created_at: datetime | None
    created_by: str | None
    status_snapshot: dict[str, Any] | None = Field(description="The ticket's state at the last poll.")
    last_polled_at: datetime | None
    resolution_origin: Literal["psa", "backupchecks"] | None = Field(
        description="'psa': Resolved by PSA; 'backupchecks': Resolved by Backupchecks."
    )
    resolution_badge: Literal["Resolved by PSA", "Resolved by Backupchecks"] | None = Field(
        description="The resolution-origin badge's text."
    )
    resolved_at: datetime | None
    ticket_deleted_in_psa: bool
    deleted_in_psa_warning: str | None = Field(
        description="The deleted-in-PSA banner's text: the ticket is gone from the PSA, its actions are "
        "blocked, its id, number and URL are kept; link or create a replacement."
    )
    can_resolve: bool
    resolve_blocked_reason: ResolveBlock | None
    resolve_blocked_message: str | None = Field(description="The blocked reason, for people.")


def ticket_state(settings: AppSettings, link: LinkFields) -> TicketState:
    blocked = resolve_blocked_reason(settings, link)
    return TicketState(
        provider=link.ticket_provider,  # type: ignore[arg-type]
        psa_label=_psa_label(settings, link),
        ticket_id=link.ticket_external_id,
        ticket_number=link.ticket_number,
        ticket_url=link.ticket_url,
        created_at=link.ticket_created_at,
        created_by=link.ticket_created_by,
        status_snapshot=link.ticket_status_snapshot,
        last_polled_at=link.ticket_last_polled_at,
        resolution_origin=link.ticket_resolution_origin,  # type: ignore[arg-type]
        resolution_badge=RESOLUTION_BADGES.get(link.ticket_resolution_origin),
        resolved_at=link.ticket_resolved_at,
        ticket_deleted_in_psa=link.ticket_deleted_in_psa_at is not None,
        deleted_in_psa_warning=_deleted_warning(link),
        can_resolve=blocked is None,
        resolve_blocked_reason=blocked,
        resolve_blocked_message=BLOCK_MESSAGES[blocked] if blocked else None,
    )


def _psa_label(settings: AppSettings, link: LinkFields) -> str | None:
    name = link.ticket_provider or settings.psa_provider
    return None if name in (None, "none") else _psa(name)


def _deleted_warning(link: LinkFields) -> str | None:
    if link.ticket_deleted_in_psa_at is None:
        return None
    name = link.ticket_number or link.ticket_external_id
    psa = PROVIDER_LABELS.get(link.ticket_provider or "", "the PSA")
    return (
        f"{psa} ticket {name} was deleted in {psa} (noticed {link.ticket_deleted_in_psa_at:%Y-%m-%d %H:%M} UTC). "
        "Ticket actions are blocked; link or create a replacement ticket."
    )


# --- propagation, strategy 2 -------------------------------------------------------------------------


def open_external_ticket(job_id: Any) -> Any:
    """Strategy 2 (technical notes, "Ticket Propagation to New Runs"): the job's most recent PSA
    ticket that is neither deleted in the PSA nor resolved (in the PSA or internally), as a scalar
    subquery of its link's id. A part of the statement that inserts a run (``runs.creation``)."""
    return (
        select(ExternalTicket.id)
        .join(JobRun, JobRun.external_ticket_id == ExternalTicket.id)
        .outerjoin(Ticket, Ticket.id == ExternalTicket.ticket_id)
        .where(
            JobRun.job_id == job_id,
            ExternalTicket.external_id.is_not(None),
            ExternalTicket.deleted_in_psa_at.is_(None),
            ExternalTicket.resolved_at.is_(None),
            Ticket.resolved_at.is_(None),
        )
        .order_by(ExternalTicket.created_at.desc().nulls_last(), JobRun.id.desc())
        .limit(1)
        .scalar_subquery()
    )


# --- the poll's scope and what it learnt ---------------------------------------------------------------


@dataclass(frozen=True)
class PollScope:
    """The tickets a poll asks the PSA about (by the PSA's id), each with the runs on screen linked to it."""

    provider: str
    runs_by_ticket: dict[int, list[int]]
    unknown_run_ids: list[int] = field(default_factory=list)  # no such (live) run
    skipped_run_ids: list[int] = field(default_factory=list)  # no usable ticket, resolved or deleted

    @property
    def ticket_ids(self) -> list[int]:
        return sorted(self.runs_by_ticket)


def _open_link() -> Any:
    return ExternalTicket.resolved_at.is_(None) & ExternalTicket.deleted_in_psa_at.is_(None)


def poll_scope(session: Session, provider: str, run_ids: Collection[int]) -> PollScope:
    """Phase 2 "Polling scope": tickets of ``provider`` linked to the given (visible) runs that are not
    resolved, not deleted in the PSA and have a usable ticket id. One statement."""
    polled = (
        (ExternalTicket.provider == provider)
        & ExternalTicket.external_id.is_not(None)
        & (ExternalTicket.external_id > 0)
        & _open_link()
    )
    rows = session.execute(
        select(JobRun.id, ExternalTicket.external_id, func.coalesce(polled, False))
        .select_from(RUNS_WITH_TICKETS)
        .join(Job, Job.id == JobRun.job_id)
        .join(Customer, Customer.id == Job.customer_id)
        .where(JobRun.id.in_(set(run_ids)), Job.live, Customer.live)
    ).all()
    runs_by_ticket: dict[int, list[int]] = defaultdict(list)
    skipped: list[int] = []
    for run_id, ticket_id, is_polled in rows:
        if is_polled:
            runs_by_ticket[ticket_id].append(run_id)
        else:
            skipped.append(run_id)
    found = {run_id for run_id, _, _ in rows}
    return PollScope(
        provider=provider,
        runs_by_ticket={ticket: sorted(runs) for ticket, runs in runs_by_ticket.items()},
        unknown_run_ids=sorted(set(run_ids) - found),
        skipped_run_ids=sorted(skipped),
    )


def _runs_of(session: Session, link_ids: Iterable[int]) -> dict[int, list[int]]:
    """The runs linked to each link (by link id)."""
    runs: dict[int, list[int]] = defaultdict(list)
    wanted = sorted(set(link_ids))
    if wanted:
        for run_id, link_id in session.execute(
            select(JobRun.id, JobRun.external_ticket_id)
            .where(JobRun.external_ticket_id.in_(wanted))
            .order_by(JobRun.id)
        ):
            runs[link_id].append(run_id)
    return runs


def record_snapshots(
    session: Session, provider: str, snapshots: Mapping[int, dict[str, Any]], *, at: datetime
) -> list[int]:
    """Active tickets: the status snapshot and the poll time of their open links, nothing else.
    Returns the runs whose ticket was updated."""
    if not snapshots:
        return []
    polled = (
        func.unnest(
            literal(list(snapshots), ARRAY(Integer)),
            literal([json.dumps(s) for s in snapshots.values()], ARRAY(Text)),
        )
        .table_valued("ticket_id", "snapshot")
        .render_derived("polled")
    )
    links = session.execute(
        update(ExternalTicket)
        .where(
            ExternalTicket.provider == provider,
            ExternalTicket.external_id == polled.c.ticket_id,
            _open_link(),
        )
        .values(status_snapshot=cast(polled.c.snapshot, JSONB), last_polled_at=at)
        .returning(ExternalTicket.id)
    ).scalars()
    return sorted(run_id for runs in _runs_of(session, links).values() for run_id in runs)


@dataclass(frozen=True)
class TicketResolution:
    ticket_id: int  # the PSA's id
    origin: ResolutionOrigin  # the origin the ticket now carries: the first resolution's
    run_ids: list[int]  # runs this call resolved
    internal_ticket_ids: list[int]  # internal tickets this call resolved


def resolve_linked_runs(
    session: Session,
    provider: str,
    ticket_ids: Iterable[int],
    *,
    origin: ResolutionOrigin,
    at: datetime,
    actor: str,
) -> list[TicketResolution]:
    """Resolve each ticket's link (and so every run linked to it), the matching internal tickets and
    their scopes. A link already resolved keeps its origin and time: a ticket resolved by Backupchecks
    and later seen completed by a poll stays "Resolved by Backupchecks"."""
    wanted = sorted(set(ticket_ids))
    if not wanted:
        return []
    resolved = session.execute(
        update(ExternalTicket)
        .where(
            ExternalTicket.provider == provider,
            ExternalTicket.external_id.in_(wanted),
            ExternalTicket.resolved_at.is_(None),
        )
        .values(resolved_at=at, resolution_origin=origin)
        .returning(ExternalTicket.id, ExternalTicket.external_id)
    ).all()
    runs = _runs_of(session, [link_id for link_id, _ in resolved])
    run_ids: dict[int, list[int]] = defaultdict(list)
    for link_id, ticket_id in resolved:
        run_ids[ticket_id] += runs[link_id]
    internal = _resolve_internal_tickets(
        session, provider, wanted, at=at, actor=actor if origin == "backupchecks" else provider
    )
    origins: dict[int, Any] = dict(
        session.execute(  # type: ignore[arg-type]
            select(ExternalTicket.external_id, ExternalTicket.resolution_origin).where(
                ExternalTicket.provider == provider,
                ExternalTicket.external_id.in_(wanted),
                ExternalTicket.resolved_at.is_not(None),
            )
        ).all()
    )
    resolutions = [
        TicketResolution(
            ticket_id=ticket_id,
            origin=origins.get(ticket_id, origin),
            run_ids=sorted(run_ids[ticket_id]),
            internal_ticket_ids=sorted(internal[ticket_id]),
        )
        for ticket_id in wanted
    ]
    for resolution in resolutions:
        if resolution.run_ids or resolution.internal_ticket_ids:
            audit.record(
                session,
                actor,
                "resolve",
                f"{provider}_ticket",
                resolution.ticket_id,
                {
                    "origin": resolution.origin,
                    "run_ids": resolution.run_ids,
                    "internal_ticket_ids": resolution.internal_ticket_ids,
                },
            )
    return resolutions


def _resolve_internal_tickets(
    session: Session, provider: str, ticket_ids: list[int], *, at: datetime, actor: str
) -> dict[int, list[int]]:
    """The internal tickets resolved now, per PSA ticket id; their scopes end with them, so neither
    strategy propagates the ticket any more."""
    mirrors = select(ExternalTicket.ticket_id).where(
        ExternalTicket.provider == provider, ExternalTicket.external_id.in_(ticket_ids)
    )
    resolved = session.execute(
        update(Ticket)
        .where(Ticket.id.in_(mirrors), Ticket.resolved_at.is_(None))
        .values(resolved_at=at, resolved_by=actor)
        .returning(Ticket.id)
    ).scalars()
    session.execute(
        update(TicketScope)
        .where(TicketScope.note_id.in_(mirrors), TicketScope.resolved_at.is_(None))
        .values(resolved_at=at)
    )
    internal: dict[int, list[int]] = defaultdict(list)
    resolved_ids = list(resolved)
    if resolved_ids:
        for ticket_id, internal_id in session.execute(
            select(ExternalTicket.external_id, ExternalTicket.ticket_id).where(
                ExternalTicket.ticket_id.in_(resolved_ids)
            )
        ):
            internal[ticket_id].append(internal_id)
    return internal


def mark_deleted_in_psa(
    session: Session, provider: str, ticket_ids: Iterable[int], *, at: datetime, actor: str
) -> dict[int, list[int]]:
    """Tickets the PSA no longer has: their open links are marked deleted in the PSA. Id, number and URL
    stay (history); ticket actions are blocked until the operator links or creates a replacement;
    propagation skips the ticket. Nothing is unlinked. Returns the runs marked, per ticket."""
    wanted = sorted(set(ticket_ids))
    if not wanted:
        return {}
    links = session.execute(
        update(ExternalTicket)
        .where(ExternalTicket.provider == provider, ExternalTicket.external_id.in_(wanted), _open_link())
        .values(deleted_in_psa_at=at, last_polled_at=at)
        .returning(ExternalTicket.id, ExternalTicket.external_id)
    ).all()
    runs = _runs_of(session, [link_id for link_id, _ in links])
    marked: dict[int, list[int]] = defaultdict(list)
    for link_id, ticket_id in links:
        marked[ticket_id] += runs[link_id]
    for ticket_id, run_ids in marked.items():
        if run_ids:
            audit.record(
                session,
                actor,
                "deleted_in_psa",
                f"{provider}_ticket",
                ticket_id,
                {"run_ids": sorted(run_ids)},
            )
    return {ticket_id: sorted(run_ids) for ticket_id, run_ids in marked.items() if run_ids}


# --- linking a PSA ticket to a run -----------------------------------------------------------------------


class PsaTicketFacts(BaseModel):
    """What the PSA said of a ticket that is to be stored on a run."""

    provider: ExternalProvider
    external_id: int
    number: str
    url: str | None
    title: str | None


class StoredLink(ResponseModel):
    run_id: int
    provider: str
    external_id: int | None
    number: str
    url: str | None
    internal_ticket_id: int
    internal_ticket_code: str


def run_has_ticket(session: Session, run: JobRun) -> ExternalTicket | None:
    """The run's PSA ticket when it has one that is not deleted in the PSA (a deleted one may be replaced)."""
    link = session.get(ExternalTicket, run.external_ticket_id) if run.external_ticket_id else None
    return link if link is not None and link.deleted_in_psa_at is None else None


def store_psa_ticket(session: Session, run_id: int, facts: PsaTicketFacts, actor: str) -> StoredLink:
    """The PSA ticket becomes the run's, with its internal ticket (scoped to the job, linked to the
    run) so propagation carries it to the job's later runs. Only while the run has none, or only one
    deleted in the PSA (whose id, number and URL stay on its internal ticket): else 409."""
    now = datetime.now(UTC)
    run = session.get(JobRun, run_id)
    assert run is not None
    link = session.scalars(
        select(ExternalTicket)
        .join(Ticket, Ticket.id == ExternalTicket.ticket_id)
        .where(
            ExternalTicket.provider == facts.provider,
            ExternalTicket.external_id == facts.external_id,
            Ticket.resolved_at.is_(None),
        )
        .limit(1)
    ).first()
    if link is None:
        note = _new_internal_ticket(
            session, actor, facts.title or f"{_psa(facts.provider)} ticket {facts.number}"
        )
        link = ExternalTicket(ticket_id=note.id, provider=facts.provider, created_at=now, created_by=actor)
        session.add(link)
    link.external_id, link.number, link.url = facts.external_id, facts.number, facts.url
    link.deleted_in_psa_at = None
    session.flush()
    replaceable = select(ExternalTicket.id).where(ExternalTicket.deleted_in_psa_at.is_not(None))
    stored = session.execute(
        update(JobRun)
        .where(
            JobRun.id == run_id,
            or_(JobRun.external_ticket_id.is_(None), JobRun.external_ticket_id.in_(replaceable)),
        )
        .values(external_ticket_id=link.id)
        .returning(JobRun.id)
    ).first()
    if stored is None:
        raise Conflict(f"Run {run_id} got a PSA ticket meanwhile.", code="run_has_ticket")
    session.refresh(run)
    mirror = session.get(Ticket, link.ticket_id)
    assert mirror is not None
    _link(session, mirror, run)
    return StoredLink(
        run_id=run_id,
        provider=facts.provider,
        external_id=facts.external_id,
        number=facts.number,
        url=facts.url,
        internal_ticket_id=mirror.id,
        internal_ticket_code=mirror.ticket_code,
    )


def keep_manual_number(session: Session, run: JobRun, provider: str, number: str, actor: str) -> StoredLink:
    """A ticket number kept as typed (integration disabled, or compatibility mode), on an internal
    ticket only: with no PSA id it is never polled until linked. Parallel links of one number make
    one internal ticket: they take turns on a transaction-scoped advisory lock on the number (held
    by PostgreSQL until the transaction ends), so the second finds the first one's ticket."""
    session.execute(
        select(func.pg_advisory_xact_lock(func.hashtextextended(f"manual-psa-number:{provider}:{number}", 0)))
    )
    # The number's open ticket, whichever job it was first entered on (it is then scoped to both,
    # as a ticket the PSA knows by id is).
    note = session.scalars(
        select(Ticket)
        .join(ExternalTicket, ExternalTicket.ticket_id == Ticket.id)
        .where(
            ExternalTicket.provider == provider,
            ExternalTicket.number == number,
            ExternalTicket.external_id.is_(None),
            Ticket.resolved_at.is_(None),
        )
        .order_by(Ticket.id)
        .limit(1)
    ).first()
    if note is None:
        note = _new_internal_ticket(session, actor, f"{_psa(provider)} ticket {number} (entered by hand)")
        session.add(ExternalTicket(ticket_id=note.id, provider=provider, number=number))
        session.flush()
    _link(session, note, run)
    audit.record(
        session, actor, "link_manual", "job_run", run.id, {"ticket_number": number, "ticket_id": note.id}
    )
    return StoredLink(
        run_id=run.id,
        provider=provider,
        external_id=None,
        number=number,
        url=None,
        internal_ticket_id=note.id,
        internal_ticket_code=note.ticket_code,
    )


def _psa(provider: str) -> str:
    return PROVIDER_LABELS.get(provider, provider)


def _new_internal_ticket(session: Session, actor: str, description: str) -> Ticket:
    now = datetime.now(UTC)
    note = Ticket(
        description=description,
        created_by=actor,
        created_at=now,
        ticket_code=next_ticket_code(session, now, ui_zone(load_app_settings(session))),
    )
    session.add(note)
    session.flush()
    return note


def _link(session: Session, note: Ticket, run: JobRun) -> None:
    """Scope the ticket to the run's job (propagation, strategy 1) and link the run (audit trail)."""
    session.execute(insert(TicketScope).values(note_id=note.id, job_id=run.job_id).on_conflict_do_nothing())
    session.execute(insert(TicketJobRun).values(note_id=note.id, job_run_id=run.id).on_conflict_do_nothing())


# --- one Resolve at a time per ticket, without a lock held while the PSA answers --------------------------

RESOLVE_CLAIM_TIMEOUT = timedelta(minutes=5)  # a claim older than this was left by a request that died


def claim_resolve(link_id: int) -> bool:
    """Take the ticket's Resolve, in a transaction of its own (committed at once): False while another
    operator's Resolve holds it, or when the ticket is resolved already."""
    now = datetime.now(UTC)
    with unit_of_work() as session:
        taken = session.execute(
            update(ExternalTicket)
            .where(
                ExternalTicket.id == link_id,
                ExternalTicket.resolved_at.is_(None),
                or_(
                    ExternalTicket.resolve_started_at.is_(None),
                    ExternalTicket.resolve_started_at < now - RESOLVE_CLAIM_TIMEOUT,
                ),
            )
            .values(resolve_started_at=now)
            .returning(ExternalTicket.id)
        ).first()
    return taken is not None


def release_resolve(link_id: int, session: Session | None = None) -> None:
    """In ``session`` (committed with what the Resolve wrote), else in a transaction of its own."""
    statement = update(ExternalTicket).where(ExternalTicket.id == link_id).values(resolve_started_at=None)
    if session is not None:
        session.execute(statement)
        return
    with unit_of_work() as own:
        own.execute(statement)


def current_link(link_id: int) -> LinkFields:
    """The link as committed now (what a waiting Resolve looks at)."""
    with unit_of_work() as session:
        return LinkFields.of(session.get(ExternalTicket, link_id))
