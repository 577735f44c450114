"""GET /api/health: ok with the database up; 503 naming the database when it is down."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from shared_code import health
from shared_code.devdb import EmbeddedPostgres


def test_health_is_ok_with_the_database_up(api) -> None:
    response = api.get("/api/health", role=None)
    assert (response.status, response.json()) == (200, {"status": "ok", "database": "ok"})


@pytest.mark.slow  # starts and stops a second PostgreSQL
def test_health_is_503_naming_the_database_when_it_is_stopped(api, monkeypatch) -> None:
    server = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="bc-stopped-")) / "pg", keep_data=False)
    engine = create_engine(server.url("postgres"), connect_args={"timeout": 3})
    monkeypatch.setattr(health, "get_engine", lambda: engine)
    assert api.get("/api/health", role=None).status == 200
    server.stop()
    engine.dispose()

    response = api.get("/api/health", role=None)
    assert response.status == 503
    error = response.json()["error"]
    assert error["details"] == {"status": "degraded", "database": "unavailable"}
    assert "database unavailable" in error["message"]
    assert "Traceback" not in response.body.decode()
