"""Reading the audit trail: newest first, filtered by entity, actor, action and time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared_code.db.models import AuditLog
from shared_code.schema.fields import Moment, Name
from shared_code.schema.models import ResponseModel
from shared_code.schema.paging import PageInfo, PageQuery, page_of, paginated


class AuditLogQuery(PageQuery):
    entity_type: Name | None = Field(None, description="e.g. run, job, customer, ticket, override.")
    entity_id: Name | None = None
    actor: Name | None = None
    action: Name | None = None
    since: Moment | None = Field(None, description="Entries at or after this time.")
    until: Moment | None = Field(None, description="Entries before this time.")


class AuditEntry(ResponseModel):
    id: int
    at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str | None
    details: dict[str, Any] | None
    correlation_id: str | None


class AuditLogPage(BaseModel):
    items: list[AuditEntry]
    page: PageInfo


def audit_log(session: Session, query: AuditLogQuery) -> AuditLogPage:
    statement = select(AuditLog)
    for field in ("entity_type", "entity_id", "actor", "action"):
        value = getattr(query, field)
        if value is not None:
            statement = statement.where(getattr(AuditLog, field) == value)
    if query.since is not None:
        statement = statement.where(AuditLog.at >= query.since)
    if query.until is not None:
        statement = statement.where(AuditLog.at < query.until)
    statement = statement.order_by(AuditLog.at.desc(), AuditLog.id.desc())
    rows, page = page_of(list(session.scalars(paginated(statement, query))), query)
    return AuditLogPage(items=[AuditEntry.model_validate(row) for row in rows], page=page)
