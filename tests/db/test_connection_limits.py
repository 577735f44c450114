"""A server whose connection slots are all taken ("too many clients") is a transient fault: a new
connection waits for a free slot instead of failing the work that asked for it (issue 27, item 4)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pg8000.exceptions
import pg8000.native
import pytest
from sqlalchemy import text

from shared_code.config import load_settings
from shared_code.db import engine as engine_module
from shared_code.db.engine import build_engine, connect_retrying, too_many_clients
from shared_code.devdb import EmbeddedPostgres

FULL = {"S": "FATAL", "C": "53300", "M": "sorry, too many clients already"}


def _refusing(times: int) -> tuple[list[int], object]:
    calls: list[int] = []

    def connect() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise pg8000.exceptions.DatabaseError(dict(FULL))
        return "connection"

    return calls, connect


def test_a_refusal_for_too_many_clients_is_retried_and_logged_once(monkeypatch, caplog) -> None:
    monkeypatch.setattr(engine_module.time, "sleep", lambda _seconds: None)
    calls, connect = _refusing(3)
    with caplog.at_level(logging.WARNING, logger=engine_module.__name__):
        assert connect_retrying(connect) == "connection"  # type: ignore[arg-type]
    assert len(calls) == 4
    assert [r.getMessage() for r in caplog.records if "too many clients" in r.getMessage()] == [
        "database refused a connection (too many clients); retrying for up to 60 s"
    ]


def test_the_refusal_is_raised_once_the_budget_is_spent(monkeypatch) -> None:
    monkeypatch.setattr(engine_module.time, "sleep", lambda _seconds: None)
    _, connect = _refusing(1000)
    with pytest.raises(pg8000.exceptions.DatabaseError) as raised:
        connect_retrying(connect, budget_seconds=0)  # type: ignore[arg-type]
    assert too_many_clients(raised.value)


def test_other_connection_errors_are_not_retried() -> None:
    calls: list[int] = []

    def connect() -> str:
        calls.append(1)
        raise pg8000.exceptions.DatabaseError(
            {"S": "FATAL", "C": "28P01", "M": "password authentication failed"}
        )

    with pytest.raises(pg8000.exceptions.DatabaseError):
        connect_retrying(connect)  # type: ignore[arg-type]
    assert len(calls) == 1
    assert not too_many_clients(OSError("connection refused"))


@pytest.mark.slow  # starts a second PostgreSQL
def test_a_full_server_is_waited_for_and_the_connection_then_works(tmp_path: Path) -> None:
    """Both slots of a two-connection server are taken; the engine's connect is refused, retries,
    and succeeds once a slot is freed (freed when the retry is announced, not after some time)."""
    server = EmbeddedPostgres.with_connection_limit(tmp_path / "pg", 2)
    held = [
        pg8000.native.Connection("postgres", unix_sock=server.socket, database="postgres") for _ in range(2)
    ]

    class FreeASlot(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "too many clients" in record.getMessage() and held:
                held.pop().close()

    handler = FreeASlot()
    logging.getLogger(engine_module.__name__).addHandler(handler)
    settings = load_settings({"DATABASE_URL": server.url("postgres"), "AUTH_MODE": "off"})
    engine = build_engine(settings)
    try:
        with engine.connect() as connection:
            assert (
                connection.scalar(
                    text("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")
                )
                == 2
            )
        assert len(held) == 1, "the connect was refused first, then waited for the freed slot"
    finally:
        logging.getLogger(engine_module.__name__).removeHandler(handler)
        engine.dispose()
        for connection in held:
            connection.close()
        server.stop()


def test_one_engine_per_process_even_when_first_asked_on_two_threads(monkeypatch) -> None:
    """Two first requests at once must not build two engines (two pools: more connections than
    DATABASE_POOL_SIZE, which the deployment's arithmetic counts on)."""
    built: list[object] = []
    building, proceed = threading.Event(), threading.Event()
    real_build = engine_module.build_engine

    def slow_build(settings, **kwargs):  # type: ignore[no-untyped-def]
        built.append(settings)
        building.set()
        proceed.wait(timeout=10)
        return real_build(settings, **kwargs)

    engine_module.reset_engine()
    monkeypatch.setattr(engine_module, "build_engine", slow_build)
    engines: list[object] = []
    first = threading.Thread(target=lambda: engines.append(engine_module.get_engine()))
    second = threading.Thread(target=lambda: engines.append(engine_module.get_engine()))
    try:
        first.start()
        assert building.wait(timeout=10)
        second.start()
        second.join(timeout=0.3)  # it is blocked on the first one's build (or, before the fix, builds too)
        proceed.set()
        first.join(timeout=10)
        second.join(timeout=10)
        assert len(built) == 1
        assert engines[0] is engines[1]
    finally:
        proceed.set()
        engine_module.reset_engine()
