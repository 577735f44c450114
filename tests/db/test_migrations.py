"""The migrations are the schema: they agree with the models and go down and up cleanly."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from shared_code.db import migrate, models  # noqa: F401
from shared_code.db.base import Base
from shared_code.db.engine import get_engine


def test_models_and_migrations_agree(database) -> None:
    with get_engine().connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_server_default": True})
        assert compare_metadata(context, Base.metadata) == []


@pytest.mark.slow  # a second database, migrated up, down and up
def test_downgrade_to_base_and_upgrade_again(database) -> None:
    scratch = f"bc_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(database.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{scratch}"'))
    engine = create_engine(make_url(database.url).set(database=scratch))
    try:
        with engine.begin() as connection:
            migrate.upgrade("head", connection)
            assert "job_runs" in inspect(connection).get_table_names()
            migrate.downgrade("base", connection)
            assert inspect(connection).get_table_names() == ["alembic_version"]
            migrate.upgrade("head", connection)
            tables = set(inspect(connection).get_table_names())
        assert tables == {*Base.metadata.tables, "alembic_version"}
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{scratch}"'))
        admin.dispose()
