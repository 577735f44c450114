"""A client and provider pointed at the fake ConnectWise (``connectwise``, tests/conftest.py) whose
retry waits are recorded, not slept (``sleeps``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from shared_code.psa.connectwise.client import ConnectWiseClient, Credentials, RetryPolicy
from shared_code.psa.connectwise.provider import ConnectWiseProvider, credentials
from tests.psa.conftest import Sleeps
from tests.support import fake_connectwise
from tests.support.fake_connectwise import FakeConnectWise


def wait_until(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    """For a request the fake handles after the client stopped waiting (a lost answer)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


class Waits(Sleeps):
    """Retry waits recorded, not slept; the client's clock is those waits alone, so a slow machine
    (real time passing between requests) never changes how many retries fit in a budget."""

    def clock(self) -> float:
        return sum(self)


@pytest.fixture
def sleeps() -> Waits:
    return Waits()


def fake_credentials(fake: FakeConnectWise, **changes: str) -> Credentials:
    values = {
        "site": fake.site,
        "company_id": fake_connectwise.COMPANY_ID,
        "public_key": fake_connectwise.PUBLIC_KEY,
        "private_key": fake_connectwise.PRIVATE_KEY,
        "client_id": fake_connectwise.CLIENT_ID,
        **changes,
    }
    return credentials(**values)


def make_client(
    fake: FakeConnectWise,
    sleeps: Sleeps,
    *,
    retry: RetryPolicy | None = None,
    timeout_seconds: float = 30.0,  # generous: a slow machine must not turn into retries
    current_run_id: Callable[[], int | None] = lambda: None,
) -> ConnectWiseClient:
    return ConnectWiseClient(
        fake_credentials(fake),
        timeout_seconds=timeout_seconds,
        retry=retry or RetryPolicy(),
        sleep=sleeps,
        clock=sleeps.clock,
        current_run_id=current_run_id,
    )


@pytest.fixture
def client(connectwise: FakeConnectWise, sleeps: Sleeps) -> Iterator[ConnectWiseClient]:
    with make_client(connectwise, sleeps) as client:
        yield client


@pytest.fixture
def provider(client: ConnectWiseClient) -> ConnectWiseProvider:
    return ConnectWiseProvider(client)
