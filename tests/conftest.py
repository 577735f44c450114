"""Test session: a real PostgreSQL with the migrations applied, a fake Entra ID, the dev host.

The database is the one at TEST_DATABASE_URL when set (its public schema is rebuilt), else an
embedded server started for the session. Tests that touch the database ask for ``db``, which
empties every table first, so each test starts from a clean, fully migrated schema.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.support.azurite import Azurite, free_port
from tests.support.database import TestDatabase
from tests.support.entra import FakeEntra
from tests.support.fake_autotask import FakeAutotask
from tests.support.fake_graph import FakeGraph

_session_state: dict[str, Any] = {}


def pytest_configure(config: pytest.Config) -> None:
    database = TestDatabase(os.environ.get("TEST_DATABASE_URL"))
    entra = FakeEntra()
    graph = FakeGraph()
    autotask = FakeAutotask()
    azurite = Azurite(free_port())  # started by the tests that need it
    # The app reads its settings from the environment once; set them before anything imports it.
    os.environ.update(
        {
            "DATABASE_URL": database.url,
            "LOG_LEVEL": "INFO",
            **entra.env(),
            **graph.env(),
            "AzureWebJobsStorage": azurite.connection_string,
        }
    )
    for name in ("WEBSITE_INSTANCE_ID", "WEBSITE_SITE_NAME"):
        os.environ.pop(name, None)
    database.reset_schema()
    from shared_code.db.migrate import upgrade

    upgrade("head")
    _session_state.update(database=database, entra=entra, graph=graph, autotask=autotask, azurite=azurite)


def pytest_unconfigure(config: pytest.Config) -> None:
    from shared_code.db.engine import reset_engine

    reset_engine()
    if "database" in _session_state:
        _session_state["entra"].stop()
        _session_state["graph"].stop()
        _session_state["autotask"].stop()
        _session_state["azurite"].stop()
        _session_state["database"].stop()


@pytest.fixture(scope="session")
def database() -> TestDatabase:
    return _session_state["database"]


@pytest.fixture(scope="session")
def entra() -> FakeEntra:
    return _session_state["entra"]


@pytest.fixture
def graph() -> FakeGraph:
    """The session's fake Graph, emptied (mailbox, subscriptions, faults, request counts)."""
    fake: FakeGraph = _session_state["graph"]
    fake.reset()
    return fake


@pytest.fixture
def autotask() -> FakeAutotask:
    """The session's fake Autotask, emptied (records, faults, request counts, its zone), and the
    zones the app discovered forgotten."""
    from shared_code.psa.autotask.client import forget_zones

    fake: FakeAutotask = _session_state["autotask"]
    fake.reset()
    forget_zones()
    return fake


@pytest.fixture(scope="session")
def azurite() -> Azurite:
    """Azurite's queue service, which the app's AzureWebJobsStorage points at."""
    emulator: Azurite = _session_state["azurite"]
    emulator.start()
    return emulator


def _table_names() -> list[str]:
    from shared_code.db import models  # noqa: F401
    from shared_code.db.base import Base

    return [table.name for table in Base.metadata.sorted_tables]


@pytest.fixture
def db() -> Iterator[Session]:
    """A session on an emptied database (every table truncated, identities restarted)."""
    from shared_code.db.engine import get_engine, get_sessionmaker

    with get_engine().begin() as connection:
        connection.execute(text(f"TRUNCATE {', '.join(_table_names())} RESTART IDENTITY CASCADE"))
    session = get_sessionmaker()()
    try:
        yield session
    finally:
        session.close()


@pytest.fixture(scope="session")
def host() -> Any:
    from shared_code.devhost import DevHost

    return DevHost()


class ApiClient:
    """Requests through the dev host, as the given role (Admin unless said otherwise)."""

    def __init__(self, host: Any, entra: FakeEntra) -> None:
        self.host, self.entra = host, entra

    def request(self, method: str, path: str, *, role: str | None = "Admin", **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if role is not None:
            headers.update(self.entra.bearer(role))
        return self.host.request(method, path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Any:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Any:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.request("DELETE", path, **kwargs)


@pytest.fixture
def api(db: Session, host: Any, entra: FakeEntra) -> ApiClient:
    return ApiClient(host, entra)
