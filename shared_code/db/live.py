"""Soft deletion: rows by id that are not soft-deleted (the lookup behind every "no such ..."
answer), and the one statement that soft-deletes mail."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Update, select, update
from sqlalchemy.orm import Session

from shared_code.db.models import MailMessage

Row = TypeVar("Row")


def live_row(session: Session, model: type[Row], row_id: int) -> Row | None:
    """The row of ``model`` (which has ``id`` and ``deleted_at``) with this id, unless soft-deleted."""
    table: Any = model
    return session.scalars(select(model).where(table.id == row_id, table.deleted_at.is_(None))).first()


def soft_delete_mails(now: datetime, *conditions: ColumnElement[bool]) -> Update:
    """Soft-delete the live mails matching ``conditions``: ``deleted_at`` and ``location`` move
    together (a CHECK constraint holds them to it)."""
    return (
        update(MailMessage)
        .where(MailMessage.deleted_at.is_(None), *conditions)
        .values(deleted_at=now, location="deleted")
    )
