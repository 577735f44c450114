"""Autotask: settings (Admin), connection test and reference data."""

from __future__ import annotations

import azure.functions as func

from functions.http import api_route
from shared_code.api.auth import Role
from shared_code.api.routing import Call
from shared_code.psa.autotask.settings import (
    AutotaskSettingsUpdate,
    AutotaskSettingsView,
    check_autotask_connection,
    get_autotask_settings,
    refresh_reference_data,
    save_autotask_settings,
)
from shared_code.psa.provider import ConnectionInfo, ReferenceData

bp = func.Blueprint()


@api_route(bp, "GET", "settings/autotask", role=Role.ADMIN, tag="autotask", response=AutotaskSettingsView)
def autotask_settings_get(call: Call) -> AutotaskSettingsView:
    """The Autotask settings and the cached reference data (the secret only as set or not)."""
    return get_autotask_settings(call.db)


@api_route(
    bp,
    "PUT",
    "settings/autotask",
    role=Role.ADMIN,
    tag="autotask",
    body=AutotaskSettingsUpdate,
    response=AutotaskSettingsView,
    errors=(503,),
)
def autotask_settings_put(call: Call) -> AutotaskSettingsView:
    """Save the settings. Enabled ones are checked against Autotask first (credentials, zone, every
    choice in the live picklists): anything wrong is a 422 naming the field and nothing is saved."""
    return save_autotask_settings(call.db, call.body, call.actor)


@api_route(
    bp,
    "POST",
    "settings/autotask/test",
    role=Role.ADMIN,
    tag="autotask",
    response=ConnectionInfo,
    errors=(409, 502, 503),
)
def autotask_settings_test(call: Call) -> ConnectionInfo:
    """Test the stored settings: the zone, the user and the API usage (409 when disabled)."""
    return check_autotask_connection(call.db)


@api_route(
    bp,
    "POST",
    "settings/autotask/refresh",
    role=Role.ADMIN,
    tag="autotask",
    response=ReferenceData,
    errors=(409, 502, 503),
)
def autotask_settings_refresh(call: Call) -> ReferenceData:
    """Load queues, sources, priorities, statuses and note picklists from Autotask into the cache."""
    return refresh_reference_data(call.db, call.actor)
