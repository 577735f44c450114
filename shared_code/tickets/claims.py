"""The one attempt to create a run's PSA ticket (``psa_ticket_creations``, keyed by the run).

Step 1 of the creation command (``psa.ticket_creation``): the attempt is claimed in its own
transaction, committed before the PSA is called, so of any number of concurrent requests one
creates and the others answer 409 ``ticket_creation_in_progress``. An attempt whose outcome was
lost (``unknown``), or one left behind by a crash (``pending`` for longer than a request can live),
is continued by looking for the ticket in the PSA before creating again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from shared_code.db.engine import unit_of_work
from shared_code.db.models import ExternalTicket, JobRun, PsaTicketCreation
from shared_code.errors import Conflict

# A claim older than this was left by a request that died (the Functions timeout is shorter).
STALE_CLAIM = timedelta(minutes=15)

Outcome = Literal["pending", "unknown", "created", "failed"]


@dataclass(frozen=True)
class Claim:
    look_since: datetime | None  # an earlier attempt may have stored a ticket from this time on
    started_at: datetime


def claim_creation(session: Session, run_id: int, provider: str, reference: str, actor: str) -> Claim:
    """Take the run's one creation attempt, or 409 while another request holds it (the caller's
    transaction commits it)."""
    now = datetime.now(UTC)
    inserted = session.execute(
        insert(PsaTicketCreation)
        .values(job_run_id=run_id, provider=provider, reference=reference, started_by=actor, started_at=now)
        .on_conflict_do_nothing()
        .returning(PsaTicketCreation.job_run_id)
    ).first()
    if inserted is not None:
        return Claim(look_since=None, started_at=now)
    attempt = session.scalars(
        select(PsaTicketCreation).where(PsaTicketCreation.job_run_id == run_id).with_for_update()
    ).one()
    if attempt.outcome == "pending" and attempt.started_at > now - STALE_CLAIM:
        raise Conflict(
            f"A PSA ticket for run {run_id} is being created (since {attempt.started_at:%H:%M:%S} UTC).",
            code="ticket_creation_in_progress",
        )
    if attempt.outcome == "created" and not _replacing(session, run_id):
        raise Conflict(f"Run {run_id} already has a PSA ticket.", code="run_has_ticket")
    # An earlier attempt of another PSA cannot have stored a ticket in this one.
    same_psa = attempt.provider == provider
    look_since = attempt.started_at if same_psa and attempt.outcome in ("pending", "unknown") else None
    attempt.outcome, attempt.started_at, attempt.started_by, attempt.finished_at = "pending", now, actor, None
    attempt.provider, attempt.reference = provider, reference
    return Claim(look_since=look_since, started_at=now)


def _replacing(session: Session, run_id: int) -> bool:
    """The run's ticket was deleted in the PSA, so a new one may be made."""
    return (
        session.scalar(
            select(ExternalTicket.deleted_in_psa_at.is_not(None))
            .join(JobRun, JobRun.external_ticket_id == ExternalTicket.id)
            .where(JobRun.id == run_id)
        )
        is True
    )


def creation_unfinished(session: Session, run_id: int) -> bool:
    """A creation attempt is running, or its outcome was lost (linking another ticket must wait)."""
    return (
        session.scalars(
            select(PsaTicketCreation.job_run_id).where(
                PsaTicketCreation.job_run_id == run_id, PsaTicketCreation.outcome.in_(("pending", "unknown"))
            )
        ).first()
        is not None
    )


def record_created(session: Session, run_id: int, external_id: int) -> None:
    """Step 3, in the transaction that stores the ticket on the run."""
    session.execute(
        update(PsaTicketCreation)
        .where(PsaTicketCreation.job_run_id == run_id)
        .values(outcome="created", finished_at=datetime.now(UTC), external_id=external_id)
    )


def finish_attempt(run_id: int, outcome: Outcome, *, still_pending: bool = False) -> None:
    """Records how the attempt ended, in its own transaction (the request's may be rolled back)."""
    statement = update(PsaTicketCreation).where(PsaTicketCreation.job_run_id == run_id)
    if still_pending:
        statement = statement.where(PsaTicketCreation.outcome == "pending")
    with unit_of_work() as session:
        session.execute(statement.values(outcome=outcome, finished_at=datetime.now(UTC)))
