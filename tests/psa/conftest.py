from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy.orm import Session

from shared_code.db.models import Customer, Job, JobRun
from shared_code.psa.autotask.client import AutotaskClient, Credentials, RetryPolicy
from shared_code.psa.autotask.provider import AutotaskProvider
from shared_code.runs.overrides import ObjectResult
from tests.support import fake_autotask
from tests.support.factories import a_customer, a_job, a_run
from tests.support.fake_autotask import FakeAutotask, enabled_body


class Sleeps(list[float]):
    """Stands in for time.sleep: records the waits instead of waiting; ``clock`` counts them as passed."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)

    def clock(self) -> float:
        return time.monotonic() + sum(self)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def credentials(secret: str = fake_autotask.SECRET) -> Credentials:
    return Credentials(fake_autotask.USERNAME, fake_autotask.INTEGRATION_CODE, SecretStr(secret))


@pytest.fixture
def client(autotask: FakeAutotask, sleeps: Sleeps) -> Iterator[AutotaskClient]:
    """A client that discovers its zone at the fake; retry waits are recorded, not slept."""
    client = AutotaskClient(
        credentials(),
        zone_lookup_url=autotask.zone_lookup_url,
        timeout_seconds=5,
        retry=RetryPolicy(),
        sleep=sleeps,
        clock=sleeps.clock,
    )
    yield client
    client.close()


@pytest.fixture
def provider(client: AutotaskClient) -> AutotaskProvider:
    return AutotaskProvider(client)


OBJECTS = (
    ObjectResult("SRV-DC01", "failed", "Error: Failed to create snapshot"),
    ObjectResult("SRV-FS02", "warning", "Retrying"),
    ObjectResult("SRV-OK", "success", None),
)


@dataclass
class Setup:
    customer: Customer
    job: Job
    run: JobRun
    company_id: int


def configure(api: Any, **changes: Any) -> None:
    response = api.put("/api/settings/autotask", body=enabled_body(**changes))
    assert response.status == 200, response.json()


@pytest.fixture
def mapped_run(api: Any, db: Session, autotask: FakeAutotask) -> Setup:
    configure(api)
    company_id = autotask.add_company("Acme Corp")
    customer = a_customer(
        db,
        "Acme",
        psa_company_provider="autotask",
        psa_company_id=company_id,
        psa_company_name="Acme Corp",
        psa_mapping_status="ok",
    )
    job = a_job(db, customer, job_name="Nightly SQL")
    run = a_run(db, job, status="failed", objects=OBJECTS)
    db.commit()
    return Setup(customer, job, run, company_id)


def create(api: Any, run_id: int) -> Any:
    """POST /api/runs/{id}/autotask-ticket as an operator."""
    return api.post(f"/api/runs/{run_id}/autotask-ticket", role="Operator")
