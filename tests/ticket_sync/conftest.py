"""Ticket sync tests talk to their own fake Autotask: the base fake plus latency, shared faults and
fast id queries (``tests.support.fake_autotask_sync``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared_code.psa.provider import ReferenceData
from tests.support.fake_autotask_sync import SyncFakeAutotask
from tests.support.ticket_sync import fake_provider


@pytest.fixture(scope="session")
def sync_autotask() -> Iterator[SyncFakeAutotask]:
    fake = SyncFakeAutotask()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def autotask(sync_autotask: SyncFakeAutotask) -> SyncFakeAutotask:
    """Emptied (records, faults, latency, counts), and the zones the app discovered forgotten."""
    from shared_code.psa.autotask.client import forget_zones

    sync_autotask.reset()
    forget_zones()
    return sync_autotask


@pytest.fixture
def reference(autotask: SyncFakeAutotask) -> ReferenceData:
    """The fake's picklists, as a refresh of the reference data stores them."""
    provider = fake_provider(autotask)
    try:
        return provider.reference_data()
    finally:
        provider.client.close()
