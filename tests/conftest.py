"""Test session: a real PostgreSQL with the migrations applied, fake Entra ID, Graph, Autotask and
ConnectWise, the dev host.

Each is started by the first test that asks for it (``database``, ``db``, ``entra``, ``graph``,
``autotask``, ``connectwise``, ``host``), so ``pytest tests/parsers`` starts none. Their addresses are
fixed when the session starts and written into the environment the app reads its settings from, once.

The database is the one at TEST_DATABASE_URL when set (its public schema is rebuilt), else an
embedded server. Tests that touch the database ask for ``db``, which empties every table first,
so each test starts from a clean, fully migrated schema.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tests.support.api_client import ApiClient
    from tests.support.database import TestDatabase
    from tests.support.entra import FakeEntra
    from tests.support.fake_autotask import FakeAutotask
    from tests.support.fake_connectwise import FakeConnectWise
    from tests.support.fake_graph import FakeGraph

_session_state: dict[str, Any] = {}
# The storage emulator's published development account (its key is public, not a secret).
STORAGE_CONNECTION_STRING = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey="
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
    "QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;"
)


def pytest_configure(config: pytest.Config) -> None:
    from cryptography.fernet import Fernet

    from tests.support.database import TestDatabase
    from tests.support.entra import FakeEntra
    from tests.support.fake_autotask import FakeAutotask
    from tests.support.fake_graph import FakeGraph

    database = TestDatabase(os.environ.get("TEST_DATABASE_URL"), os.environ.get("PYTEST_XDIST_WORKER"))
    entra = FakeEntra()
    graph = FakeGraph()
    autotask = FakeAutotask()
    # The app reads its settings from the environment once; set them before anything imports it.
    os.environ.update(
        {
            "DATABASE_URL": database.raw_url,
            "LOG_LEVEL": "INFO",
            **entra.env(),
            **graph.env(),
            **autotask.env(),
            "SETTINGS_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            # The dev host delivers queue messages itself; a connection string is configured as in
            # a local Functions host, so that the tests can see its key is never logged.
            "AzureWebJobsStorage": STORAGE_CONNECTION_STRING,
        }
    )
    for name in ("WEBSITE_INSTANCE_ID", "WEBSITE_SITE_NAME"):
        os.environ.pop(name, None)
    _session_state.update(database=database, entra=entra, graph=graph, autotask=autotask)


def pytest_unconfigure(config: pytest.Config) -> None:
    if "database" not in _session_state:
        return
    if _session_state["database"].started:
        from shared_code.db.engine import reset_engine

        reset_engine()
    for name in ("entra", "graph", "autotask", "database"):
        if name in _session_state:
            _session_state[name].stop()


@pytest.fixture(scope="session")
def database() -> TestDatabase:
    """The session's database, migrated to the latest revision (built on first use)."""
    return _session_state["database"].start()


@pytest.fixture(scope="session")
def entra() -> FakeEntra:
    return _session_state["entra"].start()


@pytest.fixture
def graph() -> FakeGraph:
    """The session's fake Graph, emptied (mailbox, subscriptions, faults, request counts)."""
    fake: FakeGraph = _session_state["graph"].start()
    fake.reset()
    return fake


@pytest.fixture
def autotask() -> FakeAutotask:
    """The session's fake Autotask (started on first use; AUTOTASK_ZONE_LOOKUP_URL names it), emptied
    (records, faults, request counts, its zone), and the zones the app discovered forgotten."""
    from shared_code.psa.autotask.client import forget_zones

    fake: FakeAutotask = _session_state["autotask"].start()
    fake.reset()
    forget_zones()
    return fake


@pytest.fixture(scope="session")
def connectwise_server() -> Iterator[FakeConnectWise]:
    from tests.support.fake_connectwise import FakeConnectWise

    fake = FakeConnectWise().start()
    yield fake
    fake.stop()


@pytest.fixture
def connectwise(connectwise_server: FakeConnectWise) -> FakeConnectWise:
    """The session's fake ConnectWise (started on first use; settings name its site), emptied."""
    connectwise_server.reset()
    return connectwise_server


@pytest.fixture
def db(database: TestDatabase) -> Iterator[Session]:
    """A session on an emptied database (every table truncated, identities restarted)."""
    from shared_code.db.engine import get_sessionmaker
    from tests.support.database import empty_every_table

    empty_every_table()
    session = get_sessionmaker()()
    try:
        yield session
    finally:
        session.close()


@pytest.fixture(scope="session")
def host(database: TestDatabase) -> Any:
    """The dev host serving the app (whose every route may reach the database)."""
    from shared_code.devhost import DevHost

    return DevHost()


@pytest.fixture
def api(db: Session, host: Any, entra: FakeEntra) -> ApiClient:
    """Requests through the dev host on an emptied database, with tokens from the fake Entra ID."""
    from tests.support.api_client import ApiClient

    return ApiClient(host, entra)
