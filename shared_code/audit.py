"""The audit trail: who did what to which entity, when (``GET /api/audit-log``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from shared_code import correlation
from shared_code.db.models import AuditLog


def record(
    session: Session,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: object | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Add an entry in the caller's transaction, so it exists exactly when the change does."""
    session.add(
        AuditLog(
            actor=actor,
            action=action,
            entity_type=entity_type,
            entity_id=None if entity_id is None else str(entity_id),
            details=details,
            correlation_id=correlation.current(),
        )
    )
