"""Admin: the audit trail and the permanent purge of soft-deleted rows."""

from __future__ import annotations

from typing import TYPE_CHECKING

import azure.functions as func

from functions.http import api_route
from shared_code.api.auth import Role
from shared_code.api.routing import Call

if TYPE_CHECKING:
    from shared_code.admin.audit_log import AuditLogPage
    from shared_code.admin.purge import PurgeResult

bp = func.Blueprint()


@api_route(
    bp,
    "GET",
    "audit-log",
    role=Role.ADMIN,
    tag="admin",
    query="shared_code.admin.audit_log:AuditLogQuery",
    response="shared_code.admin.audit_log:AuditLogPage",
)
def audit_log_list(call: Call) -> AuditLogPage:
    """Who did what to which entity, newest first."""
    from shared_code.admin.audit_log import audit_log

    return audit_log(call.db, call.query)


@api_route(bp, "POST", "admin/purge", role=Role.ADMIN, tag="admin", response="shared_code.admin.purge:PurgeResult")
def admin_purge(call: Call) -> PurgeResult:
    """Permanently delete rows already soft-deleted, in the technical notes' deletion order."""
    from shared_code.admin.purge import purge

    return purge(call.db, call.actor)
