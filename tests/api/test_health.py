"""GET /api/health: ok with the database up; 503 naming the database when it is down; an outage
is one log line and the same 503 on every route."""

from __future__ import annotations

import logging
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from shared_code import health
from shared_code.api import dispatch
from shared_code.config import get_settings
from shared_code.db import engine as engine_module
from shared_code.db.base import Base
from shared_code.db.engine import build_engine
from shared_code.db.models import IngestionFailure
from shared_code.devdb import EmbeddedPostgres


def test_health_is_ok_with_the_database_up(api) -> None:
    response = api.get("/api/health", role=None)
    assert (response.status, response.json()) == (
        200,
        {
            "status": "ok",
            "database": "ok",
            "ingestion": {"unresolved_failures": 0, "poisoned": 0},
            "configuration": [],
        },
    )


@pytest.mark.slow  # starts and stops a second PostgreSQL
def test_health_is_503_naming_the_database_when_it_is_stopped(api, monkeypatch) -> None:
    server = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="bc-stopped-")) / "pg", keep_data=False)
    engine = create_engine(server.url("postgres"), connect_args={"timeout": 3})
    IngestionFailure.__table__.create(engine)  # what health counts besides reaching the server
    monkeypatch.setattr(health, "get_engine", lambda: engine)
    assert api.get("/api/health", role=None).status == 200
    server.stop()
    engine.dispose()

    response = api.get("/api/health", role=None)
    assert response.status == 503
    error = response.json()["error"]
    assert error["details"] == {"status": "degraded", "database": "unavailable"}
    assert error["code"] == "database_unavailable"  # as every route answers
    assert response.headers["Retry-After"] == "5"
    assert "Traceback" not in response.body.decode()


def test_a_database_outage_is_one_log_line_and_the_routes_answer_503_with_retry_after(
    api, monkeypatch, caplog
) -> None:
    """Pooled connections die with the server: every route and health answer the same 503 with
    Retry-After, the log says so once (no traceback per request or connection), and once more
    when the database is back."""
    datadir = Path(tempfile.mkdtemp(prefix="bc-outage-")) / "pg"
    server = EmbeddedPostgres(datadir, keep_data=True)
    engine = build_engine(get_settings().model_copy(update={"database_url": server.url("postgres")}))
    Base.metadata.create_all(engine)
    monkeypatch.setattr(engine_module, "get_sessionmaker", lambda: sessionmaker(engine))
    monkeypatch.setattr(health, "get_engine", lambda: engine)
    monkeypatch.setattr(engine_module, "database_outage", engine_module.OutageLog())
    monkeypatch.setattr(health, "database_outage", engine_module.database_outage)
    monkeypatch.setattr(dispatch, "database_outage", engine_module.database_outage)
    with ThreadPoolExecutor(5) as pool:  # five pooled connections
        assert set(pool.map(lambda _: api.get("/api/customers").status, range(5))) == {200}

    caplog.clear()
    server.stop()
    with caplog.at_level(logging.INFO):
        answers = [api.get(path) for path in ["/api/customers", "/api/run-checks", "/api/health"] * 4]
    for response in answers:
        assert response.status == 503
        assert response.json()["error"]["code"] == "database_unavailable"
        assert response.headers["Retry-After"] == "5"
    problems = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage().split(":")[0] for r in problems] == ["database unavailable (InterfaceError)"]
    assert not any(r.exc_info for r in caplog.records)

    restarted = EmbeddedPostgres(datadir, keep_data=False)
    caplog.clear()
    try:
        with caplog.at_level(logging.INFO):
            assert api.get("/api/customers").status == 200
        assert "database reachable again" in caplog.text
    finally:
        engine.dispose()
        restarted.stop()
