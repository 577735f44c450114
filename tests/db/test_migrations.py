"""The migrations are the schema: they agree with the models and go down and up cleanly."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url

from shared_code.db import migrate, models  # noqa: F401
from shared_code.db.base import Base
from shared_code.db.engine import get_engine


def test_models_and_migrations_agree(database) -> None:
    with get_engine().connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_server_default": True})
        assert compare_metadata(context, Base.metadata) == []


@contextmanager
def scratch_database(database) -> Iterator[Engine]:
    """A second, empty database, dropped afterwards."""
    scratch = f"bc_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(database.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{scratch}"'))
    engine = create_engine(make_url(database.url).set(database=scratch))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{scratch}"'))
        admin.dispose()


@pytest.mark.slow  # a second database, migrated up, down and up
def test_downgrade_to_base_and_upgrade_again(database) -> None:
    with scratch_database(database) as engine:
        with engine.begin() as connection:
            migrate.upgrade("head", connection)
            assert "job_runs" in inspect(connection).get_table_names()
            migrate.downgrade("base", connection)
            assert inspect(connection).get_table_names() == ["alembic_version"]
            migrate.upgrade("head", connection)
            tables = set(inspect(connection).get_table_names())
        assert tables == {*Base.metadata.tables, "alembic_version"}


@pytest.mark.slow  # a second database
def test_duplicate_manual_tickets_made_before_the_unique_index_are_merged_into_the_oldest(database) -> None:
    with scratch_database(database) as engine, engine.begin() as connection:
        migrate.upgrade("0007", connection)
        connection.execute(
            text(
                "INSERT INTO customers (id, name) VALUES (1, 'Acme');"
                "INSERT INTO jobs (id, customer_id, from_address, backup_software, backup_type, job_name) "
                "VALUES (1, 1, 'a@x', 'S', 'T', 'A'), (2, 1, 'a@x', 'S', 'T', 'B');"
                "INSERT INTO job_runs (id, job_id, run_at, status, effective_status, missed) VALUES "
                "(1, 1, now(), 'missed', 'missed', true), (2, 2, now(), 'missed', 'missed', true);"
                "INSERT INTO tickets (id, description, created_by, ticket_code, autotask_ticket_number) VALUES "
                "(1, 'd', 'op', 'T1', 'T20261101.0042'), (2, 'd', 'op', 'T2', 'T20261101.0042'),"
                " (3, 'd', 'op', 'T3', 'T20261101.0099');"
                "INSERT INTO ticket_scopes (ticket_id, job_id) VALUES (1, 1), (2, 1), (2, 2), (3, 1);"
                "INSERT INTO ticket_job_runs (ticket_id, job_run_id) VALUES (1, 1), (2, 1), (2, 2), (3, 1);"
            )
        )
        migrate.upgrade("0008", connection)

        def rows(sql: str) -> list[tuple[int, ...]]:
            return [tuple(row) for row in connection.execute(text(sql))]

        assert rows("SELECT id FROM tickets ORDER BY id") == [(1,), (3,)]
        assert rows("SELECT ticket_id, job_id FROM ticket_scopes ORDER BY 1, 2") == [(1, 1), (1, 2), (3, 1)]
        assert rows("SELECT ticket_id, job_run_id FROM ticket_job_runs ORDER BY 1, 2") == [
            (1, 1),
            (1, 2),
            (3, 1),
        ]
