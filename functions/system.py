"""Health, the API description and the caller: the routes every client starts with."""

from __future__ import annotations

from typing import TYPE_CHECKING

import azure.functions as func

from functions.http import api_route
from shared_code.api.auth import Role
from shared_code.api.routing import Call, RawResponse
from shared_code.api.system import Me, openapi_json, who_am_i

if TYPE_CHECKING:
    from shared_code.health import Health
    from shared_code.pipeline_status import PipelineStatus

bp = func.Blueprint()


@api_route(bp, "GET", "health", role=Role.ANONYMOUS, response="shared_code.health:Health", tag="system")
def health(call: Call) -> Health:
    """Liveness and database reachability (503 naming what is down)."""
    from shared_code.health import check_health

    return check_health()


@api_route(bp, "GET", "openapi.json", role=Role.ANONYMOUS, tag="system", raw_content_type="application/json")
def openapi(call: Call) -> RawResponse:
    """The OpenAPI 3.1 description of this API."""
    return RawResponse(openapi_json(), content_type="application/json")


@api_route(bp, "GET", "me", role=Role.VIEWER, response=Me, tag="system")
def me(call: Call) -> Me:
    """The caller and their roles (the site builds its menus from them), the UI timezone and the active PSA."""
    from shared_code.app_settings import load_app_settings

    settings = load_app_settings(call.db)
    return who_am_i(call.principal, settings.ui_timezone, settings.psa_provider)


@api_route(
    bp, "GET", "status", role=Role.VIEWER, response="shared_code.pipeline_status:PipelineStatus", tag="system"
)
def status(call: Call) -> PipelineStatus:
    """The mail pipeline's state: Graph subscription, newest mail, last catch-up, failures waiting,
    jobs overdue, and what needs attention."""
    from shared_code.pipeline_status import pipeline_status

    return pipeline_status(call.db)
