"""Rows by id that are not soft-deleted: the lookup behind every "no such ..." answer."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

Row = TypeVar("Row")


def live_row(session: Session, model: type[Row], row_id: int) -> Row | None:
    """The row of ``model`` (which has ``id`` and ``deleted_at``) with this id, unless soft-deleted."""
    table: Any = model
    return session.scalars(select(model).where(table.id == row_id, table.deleted_at.is_(None))).first()
