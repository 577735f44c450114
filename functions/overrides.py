"""Overrides: list, create, change, delete; each change is re-applied to the runs it reaches."""

from __future__ import annotations

from typing import TYPE_CHECKING

import azure.functions as func

from functions.http import api_route
from shared_code.api.auth import Role
from shared_code.api.routing import Call

if TYPE_CHECKING:
    from shared_code.runs.override_changes import OverrideApplied, OverrideList, OverridePreview

bp = func.Blueprint()
OVERRIDES = "shared_code.runs.override_changes"


@api_route(
    bp,
    "GET",
    "overrides",
    role=Role.VIEWER,
    tag="overrides",
    query=f"{OVERRIDES}:OverrideListQuery",
    response=f"{OVERRIDES}:OverrideList",
)
def overrides_list(call: Call) -> OverrideList:
    """Live overrides, newest first."""
    from shared_code.runs.override_changes import list_overrides

    return list_overrides(call.db, call.query)


@api_route(
    bp,
    "POST",
    "overrides",
    role=Role.OPERATOR,
    tag="overrides",
    body=f"{OVERRIDES}:OverrideCreate",
    response=f"{OVERRIDES}:OverrideApplied",
    status=201,
)
def overrides_create(call: Call) -> OverrideApplied:
    """Create an override; runs it reaches get their effective status recomputed."""
    from shared_code.runs.override_changes import create_override

    return create_override(call.db, call.body, call.actor)


@api_route(
    bp,
    "POST",
    "overrides/preview",
    role=Role.OPERATOR,
    tag="overrides",
    body=f"{OVERRIDES}:OverrideCreate",
    response=f"{OVERRIDES}:OverridePreview",
)
def overrides_preview(call: Call) -> OverridePreview:
    """How many runs an override would change if it were created now (nothing is stored)."""
    from shared_code.runs.override_changes import preview_override

    return preview_override(call.db, call.body, call.actor)


@api_route(
    bp,
    "PATCH",
    "overrides/{override_id:int}",
    role=Role.OPERATOR,
    tag="overrides",
    body=f"{OVERRIDES}:OverrideChange",
    response=f"{OVERRIDES}:OverrideApplied",
)
def overrides_change(call: Call) -> OverrideApplied:
    """Change an override; runs it reached or now reaches are recomputed."""
    from shared_code.runs.override_changes import change_override

    return change_override(call.db, call.path["override_id"], call.body, call.actor)


@api_route(bp, "DELETE", "overrides/{override_id:int}", role=Role.OPERATOR, tag="overrides")
def overrides_delete(call: Call) -> None:
    """Delete an override; the runs it set fall back to their parsed status (or another override)."""
    from shared_code.runs.override_changes import delete_override

    delete_override(call.db, call.path["override_id"], call.actor)
