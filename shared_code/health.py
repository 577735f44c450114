"""Liveness and the database: what GET /api/health reports."""

from __future__ import annotations

import logging
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from shared_code.db.engine import get_engine
from shared_code.errors import Unavailable

log = logging.getLogger(__name__)


class Health(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]


def check_health() -> Health:
    """Ok, or ``Unavailable`` (503) naming the component that is down."""
    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as error:
        reason = type(getattr(error, "orig", None) or error).__name__
        log.warning("health check: database unavailable (%s)", reason)
        raise Unavailable(
            f"database unavailable ({reason})", details={"status": "degraded", "database": "unavailable"}
        ) from None
    return Health(status="ok", database="ok")
