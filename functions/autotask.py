"""Autotask: settings (Admin), company mapping and a run's ticket (Operator)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import azure.functions as func

from functions.http import api_route
from shared_code.api.auth import Role
from shared_code.api.routing import Call

if TYPE_CHECKING:
    from shared_code.customers import CustomerView
    from shared_code.psa.autotask.settings import AutotaskSettingsView
    from shared_code.psa.company import CompanyCheckResult, CompanyList
    from shared_code.psa.provider import ConnectionInfo, ReferenceData
    from shared_code.tickets.autotask import RunTicketResult

bp = func.Blueprint()
SETTINGS = "shared_code.psa.autotask.settings"
PROVIDER = "shared_code.psa.provider"
COMPANY = "shared_code.psa.company"
RUN_TICKET = "shared_code.tickets.autotask"
CUSTOMERS = "shared_code.customers"


@api_route(
    bp,
    "GET",
    "settings/autotask",
    role=Role.ADMIN,
    tag="autotask",
    response=f"{SETTINGS}:AutotaskSettingsView",
)
def autotask_settings_get(call: Call) -> AutotaskSettingsView:
    """The Autotask settings and the cached reference data (the secret only as set or not)."""
    from shared_code.psa.autotask.settings import get_autotask_settings

    return get_autotask_settings(call.db)


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
def autotask_settings_put(call: Call) -> AutotaskSettingsView:
    """Save the settings. Enabled ones are checked against Autotask first (credentials, zone, every
    choice in the live picklists): anything wrong is a 422 naming the field and nothing is saved."""
    from shared_code.psa.autotask.settings import save_autotask_settings

    return save_autotask_settings(call.db, call.body, call.actor)


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
    from shared_code.psa.autotask.settings import check_autotask_connection

    return check_autotask_connection(call.db)


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
    from shared_code.psa.autotask.settings import refresh_reference_data

    return refresh_reference_data(call.db, call.actor)


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
    from shared_code.psa.company import search_companies

    return search_companies(call.db, call.query.search)


@api_route(
    bp,
    "PUT",
    "customers/{customer_id:int}/autotask-company",
    role=Role.OPERATOR,
    tag="autotask",
    body=f"{COMPANY}:CompanyChoice",
    response=f"{CUSTOMERS}:CustomerView",
    errors=(409, 502, 503),
)
def customer_company_put(call: Call) -> CustomerView:
    """Map the customer to an Autotask company: its id and its name as Autotask has it now."""
    from shared_code.customers import get_customer, live_customer
    from shared_code.psa.company import map_company

    map_company(call.db, live_customer(call.db, call.path["customer_id"]), call.body, call.actor)
    return get_customer(call.db, call.path["customer_id"])


@api_route(
    bp,
    "DELETE",
    "customers/{customer_id:int}/autotask-company",
    role=Role.OPERATOR,
    tag="autotask",
    response=f"{CUSTOMERS}:CustomerView",
)
def customer_company_delete(call: Call) -> CustomerView:
    """Remove the customer's Autotask mapping (no Autotask request)."""
    from shared_code.customers import get_customer, live_customer
    from shared_code.psa.company import unmap_company

    unmap_company(call.db, live_customer(call.db, call.path["customer_id"]), call.actor)
    return get_customer(call.db, call.path["customer_id"])


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
    from shared_code.psa.company import check_companies

    return check_companies(call.db, call.actor)


# --- a run's ticket (Operator) ----------------------------------------------------------------------


@api_route(
    bp,
    "POST",
    "runs/{run_id:int}/autotask-ticket",
    role=Role.OPERATOR,
    tag="autotask",
    response=f"{RUN_TICKET}:RunTicketResult",
    status=201,
    errors=(409, 502, 503),
)
def run_ticket_create(call: Call) -> RunTicketResult:
    """Create the run's Autotask ticket: exactly one per run, also under concurrent requests or a lost
    answer. 409 when disabled, unmapped, the company is missing or inactive, or the run has one."""
    from shared_code.tickets.autotask import create_run_ticket

    return create_run_ticket(call.db, call.path["run_id"], call.actor)


@api_route(
    bp,
    "POST",
    "runs/{run_id:int}/autotask-ticket/link",
    role=Role.OPERATOR,
    tag="autotask",
    body=f"{RUN_TICKET}:TicketLink",
    response=f"{RUN_TICKET}:RunTicketResult",
    errors=(409, 502, 503),
)
def run_ticket_link(call: Call) -> RunTicketResult:
    """Link an existing Autotask ticket by number (looked up), or keep a manual number while the
    integration is disabled or, asked for, in compatibility mode (never polled until linked)."""
    from shared_code.tickets.autotask import link_run_ticket

    return link_run_ticket(call.db, call.path["run_id"], call.body, call.actor)
