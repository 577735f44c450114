"""The ``/autotask-…`` routes as they answered before the PSA became provider-neutral: the same
services as the neutral ``/psa-…`` routes, held to Autotask (409 ``autotask_disabled`` while another
PSA or none is active) and answering in Autotask's field names."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field
from sqlalchemy.orm import Session

from shared_code.customers import CustomerView, get_customer, live_customer
from shared_code.psa import company, resolution, ticket_creation
from shared_code.schema.models import ResponseModel
from shared_code.tickets.external import TicketState

AUTOTASK = "autotask"


class RunTicketResult(ResponseModel):
    run_id: int
    autotask_ticket_id: int | None = Field(description="None for a manual number.")
    autotask_ticket_number: str
    autotask_ticket_url: str | None
    internal_ticket_id: int
    internal_ticket_code: str
    manual: bool = Field(description="A number kept as typed; not polled until linked.")
    found_after_lost_answer: bool = Field(
        False, description="The ticket an earlier attempt created, found instead of creating a second."
    )


def _run_ticket(result: ticket_creation.PsaTicketResult) -> RunTicketResult:
    return RunTicketResult(
        run_id=result.run_id,
        autotask_ticket_id=result.psa_ticket_id,
        autotask_ticket_number=result.psa_ticket_number,
        autotask_ticket_url=result.psa_ticket_url,
        internal_ticket_id=result.internal_ticket_id,
        internal_ticket_code=result.internal_ticket_code,
        manual=result.manual,
        found_after_lost_answer=result.found_after_lost_answer,
    )


def create_run_ticket(session: Session, run_id: int, actor: str) -> RunTicketResult:
    return _run_ticket(ticket_creation.create_run_ticket(session, run_id, actor, route_provider=AUTOTASK))


def link_run_ticket(
    session: Session, run_id: int, body: ticket_creation.TicketLink, actor: str
) -> RunTicketResult:
    return _run_ticket(ticket_creation.link_run_ticket(session, run_id, body, actor, route_provider=AUTOTASK))


class ResolveResult(resolution.ResolveResult):
    autotask: TicketState = Field(description="The run's Autotask state afterwards.")


def resolve_run_ticket(session: Session, run_id: int, actor: str) -> ResolveResult:
    result = resolution.resolve_for_run(session, run_id, actor, route_provider=AUTOTASK)
    return ResolveResult(**result.model_dump(), autotask=result.psa_ticket)


class AutotaskCustomerView(CustomerView):
    autotask_company_id: int | None
    autotask_company_name: str | None
    autotask_mapping_status: str
    autotask_checked_at: datetime | None


def autotask_customer(session: Session, customer_id: int) -> AutotaskCustomerView:
    view = get_customer(session, customer_id)
    mine = view.psa_company_provider == AUTOTASK
    return AutotaskCustomerView(
        **view.model_dump(),
        autotask_company_id=view.psa_company_id if mine else None,
        autotask_company_name=view.psa_company_name if mine else None,
        autotask_mapping_status=view.psa_mapping_status if mine else "unmapped",
        autotask_checked_at=view.psa_checked_at if mine else None,
    )


def map_company(
    session: Session, customer_id: int, choice: company.CompanyChoice, actor: str
) -> AutotaskCustomerView:
    company.map_company(session, live_customer(session, customer_id), choice, actor, route_provider=AUTOTASK)
    return autotask_customer(session, customer_id)


def unmap_company(session: Session, customer_id: int, actor: str) -> AutotaskCustomerView:
    company.unmap_company(session, live_customer(session, customer_id), actor)
    return autotask_customer(session, customer_id)


def search_companies(session: Session, text: str) -> company.CompanyList:
    return company.search_companies(session, text, route_provider=AUTOTASK)


def check_companies(session: Session, actor: str) -> company.CompanyCheckResult:
    return company.check_companies(session, actor, route_provider=AUTOTASK)
