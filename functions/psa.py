"""The active PSA behind provider-neutral routes (SPEC §10): which PSA is active (Admin), company
mapping and a run's ticket (Operator); ConnectWise PSA's own settings (Admin). The ``/autotask-…``
routes (``functions.autotask``) stay."""

from __future__ import annotations

from typing import TYPE_CHECKING

import azure.functions as func

from functions.http import api_route
from shared_code.api.auth import Role
from shared_code.api.routing import Call

if TYPE_CHECKING:
    from pydantic import BaseModel

    from shared_code.customers import CustomerView
    from shared_code.psa.company import CompanyCheckResult, CompanyList
    from shared_code.psa.provider import ConnectionInfo, ReferenceData
    from shared_code.psa.registry import PsaSettingsView
    from shared_code.psa.resolution import ResolveResult
    from shared_code.psa.ticket_creation import PsaTicketResult

bp = func.Blueprint()
REGISTRY = "shared_code.psa.registry"
COMPANY = "shared_code.psa.company"
RUN_TICKET = "shared_code.psa.ticket_creation"


@api_route(bp, "GET", "settings/psa", role=Role.ADMIN, tag="psa", response=f"{REGISTRY}:PsaSettingsView")
def psa_settings_get(call: Call) -> PsaSettingsView:
    """Which PSA is active (none, autotask or connectwise), and which are configured."""
    from shared_code.app_settings import load_app_settings
    from shared_code.psa.registry import psa_settings

    return psa_settings(load_app_settings(call.db))


@api_route(
    bp,
    "PUT",
    "settings/psa",
    role=Role.ADMIN,
    tag="psa",
    body=f"{REGISTRY}:PsaSettingsUpdate",
    response=f"{REGISTRY}:PsaSettingsView",
    errors=(409,),
)
def psa_settings_put(call: Call) -> PsaSettingsView:
    """Switch the active PSA (one at a time; 409 when its settings are not saved yet). Every stored
    ticket link stays visible; only the active PSA is called."""
    from shared_code.psa.registry import switch_provider

    return switch_provider(call.db, call.body, call.actor)


@api_route(
    bp,
    "GET",
    "psa/companies",
    role=Role.OPERATOR,
    tag="psa",
    query=f"{COMPANY}:CompanySearch",
    response=f"{COMPANY}:CompanyList",
    errors=(409, 502, 503),
)
def psa_companies(call: Call) -> CompanyList:
    """Search the active PSA's companies by name (active and inactive; at most 25)."""
    from shared_code.psa.company import search_companies

    return search_companies(call.db, call.query.search)


@api_route(
    bp,
    "PUT",
    "customers/{customer_id:int}/psa-company",
    role=Role.OPERATOR,
    tag="psa",
    body=f"{COMPANY}:CompanyChoice",
    response="shared_code.customers:CustomerView",
    errors=(409, 502, 503),
)
def customer_psa_company_put(call: Call) -> CustomerView:
    """Map the customer to a company of the active PSA: its id and its name as the PSA has it now."""
    from shared_code.customers import get_customer, live_customer
    from shared_code.psa.company import map_company

    map_company(call.db, live_customer(call.db, call.path["customer_id"]), call.body, call.actor)
    return get_customer(call.db, call.path["customer_id"])


@api_route(
    bp,
    "DELETE",
    "customers/{customer_id:int}/psa-company",
    role=Role.OPERATOR,
    tag="psa",
    response="shared_code.customers:CustomerView",
)
def customer_psa_company_delete(call: Call) -> CustomerView:
    """Remove the customer's PSA mapping (no PSA request)."""
    from shared_code.customers import get_customer, live_customer
    from shared_code.psa.company import unmap_company

    unmap_company(call.db, live_customer(call.db, call.path["customer_id"]), call.actor)
    return get_customer(call.db, call.path["customer_id"])


@api_route(
    bp,
    "POST",
    "customers/psa-check",
    role=Role.OPERATOR,
    tag="psa",
    response=f"{COMPANY}:CompanyCheckResult",
    errors=(409, 502, 503),
)
def customers_psa_check(call: Call) -> CompanyCheckResult:
    """Check every customer mapped in the active PSA: renamed (cached name updated), inactive, missing."""
    from shared_code.psa.company import check_companies

    return check_companies(call.db, call.actor)


@api_route(
    bp,
    "POST",
    "runs/{run_id:int}/psa-ticket",
    role=Role.OPERATOR,
    tag="psa",
    response=f"{RUN_TICKET}:PsaTicketResult",
    status=201,
    errors=(409, 502, 503),
)
def run_psa_ticket_create(call: Call) -> PsaTicketResult:
    """Create the run's ticket in the active PSA: exactly one per run, also under concurrent requests or
    a lost answer. 409 when no PSA is active, unmapped, the company is missing or inactive, or the run has one."""
    from shared_code.psa.ticket_creation import create_run_ticket

    return create_run_ticket(call.db, call.path["run_id"], call.actor)


@api_route(
    bp,
    "POST",
    "runs/{run_id:int}/psa-ticket/link",
    role=Role.OPERATOR,
    tag="psa",
    body=f"{RUN_TICKET}:TicketLink",
    response=f"{RUN_TICKET}:PsaTicketResult",
    errors=(409, 502, 503),
)
def run_psa_ticket_link(call: Call) -> PsaTicketResult:
    """Link an existing ticket of the active PSA by number (looked up), or keep a manual number in
    compatibility mode (never polled until linked)."""
    from shared_code.psa.ticket_creation import link_run_ticket

    return link_run_ticket(call.db, call.path["run_id"], call.body, call.actor)


@api_route(
    bp,
    "POST",
    "runs/{run_id:int}/psa-ticket/resolve",
    role=Role.OPERATOR,
    tag="psa",
    response="shared_code.psa.resolution:ResolveResult",
    errors=(404, 409, 502, 503),
)
def run_psa_ticket_resolve(call: Call) -> ResolveResult:
    """Resolve the run's ticket in the active PSA (Phase 2.4): closed when it has no time entries
    (internal note A, status verified, every linked run resolved), else internal note B and left open.
    409 naming why when Resolve is not available; 502 ``status_not_taken`` when the PSA ignored the status."""
    from shared_code.psa.resolution import resolve_for_run

    return resolve_for_run(call.db, call.path["run_id"], call.actor)


# --- ConnectWise PSA settings (Admin) ------------------------------------------------------------------

CONNECTWISE = "shared_code.psa.connectwise"  # the models only (by name); the services via the registry


@api_route(
    bp,
    "GET",
    "settings/connectwise",
    role=Role.ADMIN,
    tag="connectwise",
    response=f"{CONNECTWISE}.settings:ConnectWiseSettingsPage",
)
def connectwise_settings_get(call: Call) -> BaseModel:
    """The ConnectWise settings and the cached reference data (the private key only as set or not)."""
    from shared_code.psa.registry import get_provider_settings

    return get_provider_settings(call.db, "connectwise")


@api_route(
    bp,
    "PUT",
    "settings/connectwise",
    role=Role.ADMIN,
    tag="connectwise",
    body=f"{CONNECTWISE}.models:ConnectWiseSettingsUpdate",
    response=f"{CONNECTWISE}.settings:ConnectWiseSettingsPage",
    errors=(503,),
)
def connectwise_settings_put(call: Call) -> BaseModel:
    """Save the settings, checked against ConnectWise first (the connection, the board and its statuses,
    priorities, source): anything wrong is a 422 naming the field and nothing is saved. The private key
    is write-only. Making ConnectWise the active PSA is PUT /api/settings/psa."""
    from shared_code.psa.registry import save_provider_settings

    return save_provider_settings(call.db, "connectwise", call.body, call.actor)


@api_route(
    bp,
    "POST",
    "settings/connectwise/test",
    role=Role.ADMIN,
    tag="connectwise",
    response="shared_code.psa.provider:ConnectionInfo",
    errors=(409, 502, 503),
)
def connectwise_settings_test(call: Call) -> ConnectionInfo:
    """Test the stored settings against ConnectWise (409 unless ConnectWise is the active PSA)."""
    from shared_code.psa.registry import test_provider

    return test_provider(call.db, "connectwise")


@api_route(
    bp,
    "POST",
    "settings/connectwise/refresh",
    role=Role.ADMIN,
    tag="connectwise",
    response="shared_code.psa.provider:ReferenceData",
    errors=(409, 502, 503),
)
def connectwise_settings_refresh(call: Call) -> ReferenceData:
    """Load boards, their statuses (with ConnectWise's closed flag), priorities and sources into the cache."""
    from shared_code.psa.registry import refresh_provider

    return refresh_provider(call.db, "connectwise", call.actor)
