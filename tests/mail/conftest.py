"""Fixtures of the ingestion tests: the dev host's queues emptied, counters of SQL statements."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from shared_code.db.engine import get_engine


@pytest.fixture
def queues(host: Any) -> Any:
    """The session's dev host with its in-memory queues emptied."""
    host.queues.clear()
    return host


class StatementCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.statements.append(statement)


@pytest.fixture
def sql_statements() -> Iterator[list[str]]:
    """Every SQL statement the app's engine sends while the test runs."""
    counter = StatementCounter()
    engine = get_engine()
    event.listen(engine, "before_cursor_execute", counter)
    try:
        yield counter.statements
    finally:
        event.remove(engine, "before_cursor_execute", counter)
