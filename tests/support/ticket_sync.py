"""Runs linked to tickets in the fake Autotask, the settings that switch the integration on, and a
provider pointed at the fake: what the poll and resolve tests share."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import timedelta

from pydantic import SecretStr
from sqlalchemy.orm import Session

from shared_code.db.models import AppSettings, Job, JobRun, Ticket, TicketScope
from shared_code.psa.autotask.client import AutotaskClient, Credentials, RetryPolicy
from shared_code.psa.autotask.provider import AutotaskProvider
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


def opener(
    autotask: SyncFakeAutotask, **options: float
) -> Callable[[], AbstractContextManager[AutotaskProvider]]:
    """What the services take to reach Autotask: a provider pointed at the fake, closed after use."""

    @contextmanager
    def open_provider() -> Iterator[AutotaskProvider]:
        provider = fake_provider(autotask, **options)
        try:
            yield provider
        finally:
            provider.client.close()

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


def link(db: Session, run: JobRun, made: dict[str, object]) -> None:
    run.autotask_ticket_id = int(made["id"])  # type: ignore[call-overload]
    run.autotask_ticket_number = str(made["ticketNumber"])
    run.autotask_ticket_url = f"https://autotask.example/ticket/{made['id']}"
    internal = Ticket(
        ticket_code=f"T20261120.{next(_codes):04d}",
        description=f"Autotask {made['ticketNumber']}",
        created_by="op",
        autotask_ticket_id=run.autotask_ticket_id,
        autotask_ticket_number=run.autotask_ticket_number,
    )
    db.add(internal)
    db.flush()
    db.add(TicketScope(note_id=internal.id, job_id=run.job_id))
    db.flush()


def many_linked_runs(db: Session, autotask: SyncFakeAutotask, count: int) -> list[JobRun]:
    """``count`` runs, each with its own active ticket in the fake, inserted in bulk (missed runs of
    one job: they need no mail)."""
    job = a_job(db)
    runs = []
    for index in range(count):
        made = autotask.add_ticket(status=1)
        runs.append(
            JobRun(
                job_id=job.id,
                run_at=T0 + timedelta(minutes=index),
                status="missed",
                effective_status="missed",
                missed=True,
                autotask_ticket_id=int(made["id"]),
                autotask_ticket_number=str(made["ticketNumber"]),
            )
        )
    db.add_all(runs)
    db.flush()
    return runs
