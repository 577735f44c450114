"""Liveness, the database, ingestion and unusable settings: what GET /api/health reports.

Ok, or ``attention`` while mail that failed to ingest waits for an operator (listed at
``/api/ingestion/failures``): a poisoned message is never hidden behind a green health check; nor
is a setting the platform could not resolve (the webhook's Key Vault reference)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from shared_code.config import get_settings
from shared_code.db.engine import database_outage, get_engine
from shared_code.db.models import IngestionFailure
from shared_code.errors import DatabaseUnavailable


class IngestionHealth(BaseModel):
    unresolved_failures: int = Field(description="Mail whose ingestion failed and is not resolved yet.")
    poisoned: int = Field(description="Of those, messages the queue gave up on (in the poison queue).")


class Health(BaseModel):
    status: Literal["ok", "attention"] = Field(
        description="attention: mail failed to ingest and waits for an operator, or a setting is unusable."
    )
    database: Literal["ok"]
    ingestion: IngestionHealth
    configuration: list[str] = Field(
        description="Settings present but unusable (an unresolved Key Vault reference), each with its fix."
    )


_FAILURE_COUNTS = select(
    func.count().filter(IngestionFailure.state != "resolved"),
    func.count().filter(IngestionFailure.state == "poisoned"),
).select_from(IngestionFailure)


def check_health() -> Health:
    """The report, or ``DatabaseUnavailable`` (503, as every route answers while the database is down)."""
    try:
        with get_engine().connect() as connection:
            unresolved, poisoned = connection.execute(_FAILURE_COUNTS).one()
    except (SQLAlchemyError, OSError) as error:
        database_outage.down(type(getattr(error, "orig", None) or error).__name__)
        raise DatabaseUnavailable(details={"status": "degraded", "database": "unavailable"}) from None
    problems = get_settings().configuration_problems
    return Health(
        status="attention" if unresolved or problems else "ok",
        database="ok",
        ingestion=IngestionHealth(unresolved_failures=unresolved, poisoned=poisoned),
        configuration=problems,
    )
