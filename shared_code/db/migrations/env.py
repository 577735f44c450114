"""Alembic environment: the app's own engine (so Entra tokens and TLS apply), models as target."""

from __future__ import annotations

from alembic import context

from shared_code.db import models  # noqa: F401  (registers every table on the metadata)
from shared_code.db.base import Base
from shared_code.db.engine import get_engine


def run_migrations() -> None:
    connectable = context.config.attributes.get("connection") or get_engine()
    if hasattr(connectable, "connect"):
        with connectable.connect() as connection:
            _run(connection)
    else:
        _run(connectable)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(connection=connection, target_metadata=Base.metadata, compare_server_default=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
