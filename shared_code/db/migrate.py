"""Schema migrations (Alembic), driven from code: ``python -m shared_code migrate``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(connection: Connection | None = None, role: str | None = None) -> Config:
    """``role``: the migrations run as that role (SET LOCAL ROLE), so that whichever administrator
    logs in, the tables they create belong to it and the next administrator may change them."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    config.attributes["role"] = role
    return config


def upgrade(revision: str = "head", connection: Connection | None = None, *, role: str | None = None) -> None:
    command.upgrade(alembic_config(connection, role), revision)


def downgrade(revision: str, connection: Connection | None = None, *, role: str | None = None) -> None:
    command.downgrade(alembic_config(connection, role), revision)
