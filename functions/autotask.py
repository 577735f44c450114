"""Autotask: settings (Admin), company mapping and a run's ticket (Operator).

The same services as the provider-neutral routes of ``functions.psa``, held to Autotask and answering
in Autotask's field names (``psa.autotask_routes``); the settings through ``psa.registry``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import azure.functions as func

from functions.http import api_route
from shared_code.api.auth import Role
from shared_code.api.routing import Call

if TYPE_CHECKING:
    from pydantic import BaseModel

    from shared_code.psa.autotask_routes import AutotaskCustomerView, RunTicketResult
    from shared_code.psa.company import CompanyCheckResult, CompanyList
    from shared_code.psa.provider import ConnectionInfo, ReferenceData

bp = func.Blueprint()
SETTINGS = "shared_code.psa.autotask.settings"  # the models only (by name); the services via the registry
PROVIDER = "shared_code.psa.provider"
COMPANY = "shared_code.psa.company"
ROUTES = "shared_code.psa.autotask_routes"
RUN_TICKET = "shared_code.psa.ticket_creation"


@api_route(
    bp,
    "GET",
    "settings/autotask",
    role=Role.ADMIN,
    tag="autotask",
    response=f"{SETTINGS}:AutotaskSettingsView",
)
def autotask_settings_get(call: Call) -> BaseModel:
    """The Autotask settings and the cached reference data (the secret only as set or not)."""
    from shared_code.psa.registry import get_provider_settings

    return get_provider_settings(call.db, "autotask")


@api_route(
    bp,
    "PUT",
    "settings/autotask",
    role=Role.ADMIN,
    tag="autotask",
    body=f"{SETTINGS}:AutotaskSettingsUpdate",
    response=f"{SETTINGS}:AutotaskSettingsView",
    errors=(503,),
)
def autotask_settings_put(call: Call) -> BaseModel:
    """Save the settings. Enabled ones are checked against Autotask first (credentials, zone, every
    choice in the live picklists): anything wrong is a 422 naming the field and nothing is saved.
    Enabled makes Autotask the active PSA (GET/PUT /api/settings/psa)."""
    from shared_code.psa.registry import save_provider_settings

    return save_provider_settings(call.db, "autotask", call.body, call.actor)


@api_route(
    bp,
    "POST",
    "settings/autotask/test",
    role=Role.ADMIN,
    tag="autotask",
    response=f"{PROVIDER}:ConnectionInfo",
    errors=(409, 502, 503),
)
def autotask_settings_test(call: Call) -> ConnectionInfo:
    """Test the stored settings: the zone, the user and the API usage (409 when disabled)."""
    from shared_code.psa.registry import test_provider

    return test_provider(call.db, "autotask")


@api_route(
    bp,
    "POST",
    "settings/autotask/refresh",
    role=Role.ADMIN,
    tag="autotask",
    response=f"{PROVIDER}:ReferenceData",
    errors=(409, 502, 503),
)
def autotask_settings_refresh(call: Call) -> ReferenceData:
    """Load queues, sources, priorities, statuses and note picklists from Autotask into the cache."""
    from shared_code.psa.registry import refresh_provider

    return refresh_provider(call.db, "autotask", call.actor)


# --- company mapping (Operator) -------------------------------------------------------------------


@api_route(
    bp,
    "GET",
    "autotask/companies",
    role=Role.OPERATOR,
    tag="autotask",
    query=f"{COMPANY}:CompanySearch",
    response=f"{COMPANY}:CompanyList",
    errors=(409, 502, 503),
)
def autotask_companies(call: Call) -> CompanyList:
    """Search Autotask companies by name (active and inactive; at most 25)."""
    from shared_code.psa.autotask_routes import search_companies

    return search_companies(call.db, call.query.search)


@api_route(
    bp,
    "PUT",
    "customers/{customer_id:int}/autotask-company",
    role=Role.OPERATOR,
    tag="autotask",
    body=f"{COMPANY}:CompanyChoice",
    response=f"{ROUTES}:AutotaskCustomerView",
    errors=(409, 502, 503),
)
def customer_company_put(call: Call) -> AutotaskCustomerView:
    """Map the customer to an Autotask company: its id and its name as Autotask has it now."""
    from shared_code.psa.autotask_routes import map_company

    return map_company(call.db, call.path["customer_id"], call.body, call.actor)


@api_route(
    bp,
    "DELETE",
    "customers/{customer_id:int}/autotask-company",
    role=Role.OPERATOR,
    tag="autotask",
    response=f"{ROUTES}:AutotaskCustomerView",
)
def customer_company_delete(call: Call) -> AutotaskCustomerView:
    """Remove the customer's Autotask mapping (no Autotask request)."""
    from shared_code.psa.autotask_routes import unmap_company

    return unmap_company(call.db, call.path["customer_id"], call.actor)


@api_route(
    bp,
    "POST",
    "customers/autotask-check",
    role=Role.OPERATOR,
    tag="autotask",
    response=f"{COMPANY}:CompanyCheckResult",
    errors=(409, 502, 503),
)
def customers_company_check(call: Call) -> CompanyCheckResult:
    """Check every mapped customer's company in Autotask: renamed (cached name updated), inactive, missing."""
    from shared_code.psa.autotask_routes import check_companies

    return check_companies(call.db, call.actor)


# --- a run's ticket (Operator) ----------------------------------------------------------------------


@api_route(
    bp,
    "POST",
    "runs/{run_id:int}/autotask-ticket",
    role=Role.OPERATOR,
    tag="autotask",
    response=f"{ROUTES}:RunTicketResult",
    status=201,
    errors=(409, 502, 503),
)
def run_ticket_create(call: Call) -> RunTicketResult:
    """Create the run's Autotask ticket: exactly one per run, also under concurrent requests or a lost
    answer. 409 when disabled, unmapped, the company is missing or inactive, or the run has one."""
    from shared_code.psa.autotask_routes import create_run_ticket

    return create_run_ticket(call.db, call.path["run_id"], call.actor)


@api_route(
    bp,
    "POST",
    "runs/{run_id:int}/autotask-ticket/link",
    role=Role.OPERATOR,
    tag="autotask",
    body=f"{RUN_TICKET}:TicketLink",
    response=f"{ROUTES}:RunTicketResult",
    errors=(409, 502, 503),
)
def run_ticket_link(call: Call) -> RunTicketResult:
    """Link an existing Autotask ticket by number (looked up), or keep a manual number while the
    integration is disabled or, asked for, in compatibility mode (never polled until linked)."""
    from shared_code.psa.autotask_routes import link_run_ticket

    return link_run_ticket(call.db, call.path["run_id"], call.body, call.actor)
