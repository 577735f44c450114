"""Alembic environment: the app's own engine (so Entra tokens and TLS apply), models as target."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

from shared_code.db import models  # noqa: F401  (registers every table on the metadata)
from shared_code.db.base import Base
from shared_code.db.engine import get_engine


def run_migrations() -> None:
    given: Connection | None = context.config.attributes.get("connection")  # migrate.py's caller's
    if given is not None:
        _run(given)
    else:
        with get_engine().connect() as connection:
            _run(connection)


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata, compare_server_default=True)
    role: str | None = context.config.attributes.get("role")
    with context.begin_transaction():
        if role:  # for this transaction only: the connection may go back to a pool
            connection.execute(text(f"SET LOCAL ROLE {connection.dialect.identifier_preparer.quote(role)}"))
        context.run_migrations()


run_migrations()
