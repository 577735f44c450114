"""Admin: the audit trail and the permanent purge of soft-deleted rows."""

from __future__ import annotations

import azure.functions as func

from functions.http import api_route
from shared_code.admin.audit_log import AuditLogPage, AuditLogQuery, audit_log
from shared_code.admin.purge import PurgeResult, purge
from shared_code.api.auth import Role
from shared_code.api.routing import Call

bp = func.Blueprint()


@api_route(bp, "GET", "audit-log", role=Role.ADMIN, tag="admin", query=AuditLogQuery, response=AuditLogPage)
def audit_log_list(call: Call) -> AuditLogPage:
    """Who did what to which entity, newest first."""
    return audit_log(call.db, call.query)


@api_route(bp, "POST", "admin/purge", role=Role.ADMIN, tag="admin", response=PurgeResult)
def admin_purge(call: Call) -> PurgeResult:
    """Permanently delete rows already soft-deleted, in the technical notes' deletion order."""
    return purge(call.db, call.actor)
