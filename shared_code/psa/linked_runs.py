"""The runs linked to a PSA ticket: which of them a poll looks at, and how what the PSA says about
a ticket reaches every run linked to it (Phase 2.1–2.4).

One ticket is linked to many runs by propagation, so every change here is keyed by ticket id and
applies to all of its runs at once, in the caller's transaction:
- resolution (by the PSA or by Backupchecks) sets the resolution fields on every run linked to
  the ticket and resolves the matching internal ticket and its scopes, so propagation stops;
- deletion in the PSA marks the unresolved runs' linkage deleted, keeping id, number and URL;
- an active ticket only refreshes the status snapshot and the time of the poll.
Every statement is set-based (a poll over thousands of tickets is a handful of statements) and
re-checks the run's state in its WHERE clause, so a concurrent poll or resolve changes nothing
twice and the first resolution's origin is the one kept."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Text, cast, func, literal, select, update
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Session, aliased

from shared_code import audit
from shared_code.db.models import Customer, Job, JobRun, ResolutionOrigin, Ticket, TicketScope

PSA_ACTOR = "autotask"  # who resolved an internal ticket when the PSA completed it first


@dataclass(frozen=True)
class PollScope:
    """The tickets a poll asks the PSA about, each with the runs on screen that it is linked to."""

    runs_by_ticket: dict[int, list[int]]
    unknown_run_ids: list[int] = field(default_factory=list)  # no such (live) run
    skipped_run_ids: list[int] = field(default_factory=list)  # no usable ticket, resolved or deleted

    @property
    def ticket_ids(self) -> list[int]:
        return sorted(self.runs_by_ticket)


def usable_ticket_id() -> Any:
    """A linkage is invalid without a usable ticket id (e.g. a manual number not looked up)."""
    return JobRun.autotask_ticket_id.is_not(None) & (JobRun.autotask_ticket_id > 0)


def unresolved_and_not_deleted() -> Any:
    return JobRun.ticket_resolved_at.is_(None) & JobRun.autotask_ticket_deleted_at.is_(None)


def poll_scope(session: Session, run_ids: Collection[int]) -> PollScope:
    """Phase 2 "Polling scope": tickets linked to the given (visible) runs that are not resolved,
    not deleted in the PSA and have a usable ticket id. One statement."""
    rows = session.execute(
        select(JobRun.id, JobRun.autotask_ticket_id, (usable_ticket_id() & unresolved_and_not_deleted()))
        .join(Job, Job.id == JobRun.job_id)
        .join(Customer, Customer.id == Job.customer_id)
        .where(JobRun.id.in_(set(run_ids)), Job.live, Customer.live)
    ).all()
    runs_by_ticket: dict[int, list[int]] = defaultdict(list)
    skipped: list[int] = []
    for run_id, ticket_id, polled in rows:
        if polled:
            runs_by_ticket[ticket_id].append(run_id)
        else:
            skipped.append(run_id)
    found = {run_id for run_id, _, _ in rows}
    return PollScope(
        runs_by_ticket={ticket: sorted(runs) for ticket, runs in runs_by_ticket.items()},
        unknown_run_ids=sorted(set(run_ids) - found),
        skipped_run_ids=sorted(skipped),
    )


def record_snapshots(session: Session, snapshots: Mapping[int, dict[str, Any]], *, at: datetime) -> list[int]:
    """Active tickets: the status snapshot and the poll time of their unresolved, not deleted runs,
    nothing else. Returns the runs updated."""
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
    statement = (
        update(JobRun)
        .where(JobRun.autotask_ticket_id == polled.c.ticket_id, unresolved_and_not_deleted())
        .values(ticket_status_snapshot=cast(polled.c.snapshot, JSONB), ticket_last_polled_at=at)
        .returning(JobRun.id)
    )
    return sorted(session.execute(statement).scalars())


@dataclass(frozen=True)
class TicketResolution:
    ticket_id: int
    origin: ResolutionOrigin  # the origin the runs now carry: the first resolution's
    run_ids: list[int]  # runs this call resolved
    internal_ticket_ids: list[int]  # internal tickets this call resolved


def resolve_linked_runs(
    session: Session,
    ticket_ids: Iterable[int],
    *,
    origin: ResolutionOrigin,
    at: datetime,
    actor: str,
) -> list[TicketResolution]:
    """Resolve every run linked to each ticket, and the matching internal tickets and their scopes.

    A run already resolved is left as it is. A run still open on a ticket that other runs already
    resolved (linked while the resolution happened) takes their origin and time: a ticket resolved
    by Backupchecks and later seen Completed by a poll stays "Resolved by Backupchecks"."""
    wanted = sorted(set(ticket_ids))
    if not wanted:
        return []
    earlier = aliased(JobRun)

    def first_resolution(column: Any) -> Any:
        return (
            select(column)
            .where(
                earlier.autotask_ticket_id == JobRun.autotask_ticket_id,
                earlier.ticket_resolved_at.is_not(None),
            )
            .order_by(earlier.ticket_resolved_at, earlier.id)
            .limit(1)
            .scalar_subquery()
        )

    values: dict[str, Any] = {
        "ticket_resolved_at": func.coalesce(first_resolution(earlier.ticket_resolved_at), at),
        "ticket_resolution_origin": func.coalesce(first_resolution(earlier.ticket_resolution_origin), origin),
    }
    resolved_runs = session.execute(
        update(JobRun)
        .where(JobRun.autotask_ticket_id.in_(wanted), JobRun.ticket_resolved_at.is_(None))
        .values(**values)
        .returning(JobRun.id, JobRun.autotask_ticket_id, JobRun.ticket_resolution_origin)
    ).all()
    internal = _resolve_internal_tickets(
        session, wanted, at=at, actor=actor if origin == "backupchecks" else PSA_ACTOR
    )
    resolutions = _per_ticket(wanted, resolved_runs, internal, origin)
    for resolution in resolutions:
        if resolution.run_ids or resolution.internal_ticket_ids:
            audit.record(
                session,
                actor,
                "resolve",
                "autotask_ticket",
                resolution.ticket_id,
                {
                    "origin": resolution.origin,
                    "run_ids": resolution.run_ids,
                    "internal_ticket_ids": resolution.internal_ticket_ids,
                },
            )
    return resolutions


def _resolve_internal_tickets(
    session: Session, ticket_ids: list[int], *, at: datetime, actor: str
) -> list[tuple[int, int]]:
    """(internal ticket id, Autotask ticket id) of the internal tickets resolved now; their scopes end
    with them, so neither strategy propagates the ticket any more."""
    resolved = session.execute(
        update(Ticket)
        .where(Ticket.autotask_ticket_id.in_(ticket_ids), Ticket.resolved_at.is_(None))
        .values(resolved_at=at, resolved_by=actor)
        .returning(Ticket.id, Ticket.autotask_ticket_id)
    ).all()
    session.execute(
        update(TicketScope)
        .where(
            TicketScope.note_id.in_(select(Ticket.id).where(Ticket.autotask_ticket_id.in_(ticket_ids))),
            TicketScope.resolved_at.is_(None),
        )
        .values(resolved_at=at)
    )
    return [(row[0], row[1]) for row in resolved]


def _per_ticket(
    ticket_ids: list[int], runs: Iterable[Any], internal: Iterable[tuple[int, int]], origin: ResolutionOrigin
) -> list[TicketResolution]:
    run_ids: dict[int, list[int]] = defaultdict(list)
    origins: dict[int, ResolutionOrigin] = {}
    for run_id, ticket_id, run_origin in runs:
        run_ids[ticket_id].append(run_id)
        origins[ticket_id] = run_origin
    internal_ids: dict[int, list[int]] = defaultdict(list)
    for internal_id, ticket_id in internal:
        internal_ids[ticket_id].append(internal_id)
    return [
        TicketResolution(
            ticket_id=ticket_id,
            origin=origins.get(ticket_id, origin),
            run_ids=sorted(run_ids[ticket_id]),
            internal_ticket_ids=sorted(internal_ids[ticket_id]),
        )
        for ticket_id in ticket_ids
    ]


def mark_deleted_in_psa(
    session: Session, ticket_ids: Iterable[int], *, at: datetime, actor: str
) -> dict[int, list[int]]:
    """Tickets the PSA no longer has: their unresolved runs' linkage is marked deleted in the PSA.
    Id, number and URL stay (history); ticket actions are blocked until the operator links or
    creates a replacement; propagation skips the ticket. Nothing is unlinked. Returns the runs
    marked, per ticket."""
    wanted = sorted(set(ticket_ids))
    if not wanted:
        return {}
    rows = session.execute(
        update(JobRun)
        .where(JobRun.autotask_ticket_id.in_(wanted), unresolved_and_not_deleted())
        .values(autotask_ticket_deleted_at=at, ticket_last_polled_at=at)
        .returning(JobRun.id, JobRun.autotask_ticket_id)
    ).all()
    marked: dict[int, list[int]] = defaultdict(list)
    for run_id, ticket_id in rows:
        marked[ticket_id].append(run_id)
    for ticket_id, run_ids in marked.items():
        audit.record(
            session, actor, "deleted_in_psa", "autotask_ticket", ticket_id, {"run_ids": sorted(run_ids)}
        )
    return {ticket_id: sorted(run_ids) for ticket_id, run_ids in marked.items()}
