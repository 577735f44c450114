from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from shared_code.psa.autotask.client import AutotaskClient, Credentials, RetryPolicy
from shared_code.psa.autotask.provider import AutotaskProvider
from tests.support import fake_autotask
from tests.support.fake_autotask import FakeAutotask


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
