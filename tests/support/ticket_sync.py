"""Runs linked to tickets in the fake Autotask, the settings that switch the integration on, and a
provider pointed at the fake: what the poll and resolve tests share."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared_code.db.models import AppSettings, ExternalTicket, Job, JobRun, Ticket, TicketScope
from shared_code.psa.autotask.client import AutotaskClient, Credentials, RetryPolicy
from shared_code.psa.autotask.provider import AutotaskProvider
from shared_code.tickets.external import RUNS_WITH_TICKETS
from tests.support import fake_autotask
from tests.support.factories import T0, a_job, a_run
from tests.support.fake_autotask_sync import SyncFakeAutotask

COMPLETE = fake_autotask.COMPLETE
IN_PROGRESS = 8
_codes = itertools.count(1)


def enable_autotask(db: Session, autotask: SyncFakeAutotask, **fields: object) -> AppSettings:
    """The settings row with the integration on, pointed at the fake, 'Complete' as completed status."""
    settings = db.get(AppSettings, 1) or AppSettings(id=1)
    values = {
        "autotask_enabled": True,
        "autotask_username": fake_autotask.USERNAME,
        "autotask_integration_code": fake_autotask.INTEGRATION_CODE,
        "autotask_api_base_url": autotask.api_url,
        "autotask_completed_status_id": COMPLETE,
        **fields,
    }
    for name, value in values.items():
        setattr(settings, name, value)
    db.add(settings)
    db.flush()
    return settings


def fake_provider(
    autotask: SyncFakeAutotask, *, timeout: float = 2.0, retry_budget: float = 1.0
) -> AutotaskProvider:
    client = AutotaskClient(
        Credentials(fake_autotask.USERNAME, fake_autotask.INTEGRATION_CODE, SecretStr(fake_autotask.SECRET)),
        api_url=autotask.api_url,
        timeout_seconds=timeout,
        retry=RetryPolicy(budget_seconds=retry_budget, first_backoff=0.05, max_backoff=0.2),
    )
    return AutotaskProvider(client)


# A run's PSA ticket under the names the run's own columns had before the link moved to
# ``external_tickets`` (migration 0009), so the Autotask tests assert the same facts as before.
LEGACY_NAMES = {
    "autotask_ticket_id": ExternalTicket.external_id,
    "autotask_ticket_number": ExternalTicket.number,
    "autotask_ticket_url": ExternalTicket.url,
    "autotask_ticket_created_at": ExternalTicket.created_at,
    "autotask_ticket_created_by": ExternalTicket.created_by,
    "autotask_ticket_deleted_at": ExternalTicket.deleted_in_psa_at,
    "ticket_last_polled_at": ExternalTicket.last_polled_at,
    "ticket_status_snapshot": ExternalTicket.status_snapshot,
    "ticket_resolution_origin": ExternalTicket.resolution_origin,
    "ticket_resolved_at": ExternalTicket.resolved_at,
}
RUN_OWN = [c for c in JobRun.__table__.c if c.name != "external_ticket_id"]


def _legacy_rows(db: Session) -> Any:
    labelled = [column.label(name) for name, column in LEGACY_NAMES.items()]
    return select(*RUN_OWN, *labelled).select_from(RUNS_WITH_TICKETS)


def run_states(db: Session) -> dict[int, dict[str, Any]]:
    """Every run's row with its ticket, by id (as the job_runs row read before 0009)."""
    return {row["id"]: dict(row) for row in db.execute(_legacy_rows(db)).mappings()}


def legacy(db: Session, run: JobRun | int) -> SimpleNamespace:
    """One run's ticket state, read now."""
    run_id = run if isinstance(run, int) else run.id
    row = db.execute(_legacy_rows(db).where(JobRun.id == run_id)).mappings().one()
    return SimpleNamespace(**row)


def internal_of(db: Session, ticket_id: int) -> Ticket:
    """The internal ticket that mirrors the PSA ticket ``ticket_id``."""
    return db.scalars(
        select(Ticket)
        .join(ExternalTicket, ExternalTicket.ticket_id == Ticket.id)
        .where(ExternalTicket.external_id == ticket_id)
    ).one()


def opener(
    autotask: SyncFakeAutotask, **options: float
) -> Callable[[], AbstractContextManager[AutotaskProvider]]:
    """What the services take to reach Autotask: a provider pointed at the fake, closed after use."""

    @contextmanager
    def open_provider() -> Iterator[AutotaskProvider]:
        with fake_provider(autotask, **options) as provider:
            yield provider

    return open_provider


def linked_run(
    db: Session, autotask: SyncFakeAutotask, job: Job | None = None, *, status: int = 1, **ticket: object
) -> JobRun:
    """A failed run with a new Autotask ticket (made in the fake) and its matching internal ticket."""
    job = job or a_job(db)
    made = autotask.add_ticket(status=status, **ticket)
    run = a_run(db, job, at=T0 + timedelta(minutes=next(_codes)))
    link(db, run, made)
    return run


def link(db: Session, run: JobRun, made: dict[str, object]) -> ExternalTicket:
    """The fake's ticket becomes the run's, with its internal ticket scoped to the job."""
    internal = Ticket(
        ticket_code=f"T20261120.{next(_codes):04d}",
        description=f"Autotask {made['ticketNumber']}",
        created_by="op",
    )
    db.add(internal)
    db.flush()
    external = ExternalTicket(
        ticket_id=internal.id,
        provider="autotask",
        external_id=int(made["id"]),  # type: ignore[call-overload]
        number=str(made["ticketNumber"]),
        url=f"https://autotask.example/ticket/{made['id']}",
    )
    db.add(external)
    db.flush()
    run.external_ticket_id = external.id
    db.add(TicketScope(note_id=internal.id, job_id=run.job_id))
    db.flush()
    return external


def many_linked_runs(db: Session, autotask: SyncFakeAutotask, count: int) -> list[JobRun]:
    """``count`` runs, each with its own active ticket in the fake, inserted in bulk (missed runs of
    one job: they need no mail)."""
    job = a_job(db)
    links = [
        ExternalTicket(provider="autotask", external_id=int(made["id"]), number=str(made["ticketNumber"]))  # type: ignore[call-overload]
        for made in (autotask.add_ticket(status=1) for _ in range(count))
    ]
    db.add_all(links)
    db.flush()
    runs = [
        JobRun(
            job_id=job.id,
            run_at=T0 + timedelta(minutes=index),
            status="missed",
            effective_status="missed",
            missed=True,
            external_ticket_id=external.id,
        )
        for index, external in enumerate(links)
    ]
    db.add_all(runs)
    db.flush()
    return runs
