"""A customer's mapping to its company in the PSA: as the customer list shows it, set by the
company search, and checked against the PSA (renamed, inactive, missing)."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared_code import audit
from shared_code.db.models import Customer, MappingStatus
from shared_code.errors import InvalidInput
from shared_code.psa import provider as psa
from shared_code.psa.autotask.settings import autotask_provider
from shared_code.schema.fields import INT32_MAX
from shared_code.schema.models import RequestModel, ResponseModel


class CompanyMapping(ResponseModel):
    autotask_company_id: int | None
    autotask_company_name: str | None
    autotask_mapping_status: str
    autotask_checked_at: datetime | None


# --- mapping a customer to its PSA company (Phase 3) ----------------------------------------------


class CompanyChoice(RequestModel):
    company_id: int = Field(
        ge=0, le=INT32_MAX, description="The Autotask company id (from the company search)."
    )


class CompanySearch(RequestModel):
    search: str = Field("", max_length=100, description="Part of the company name, or its id.")


class CompanyList(BaseModel):
    items: list[psa.Company]


class CompanyCheckItem(BaseModel):
    customer_id: int
    customer_name: str
    company_id: int
    status: MappingStatus
    cached_name: str | None = Field(description="The company's name as stored now (renames update it).")


class CompanyCheckResult(BaseModel):
    checked_at: datetime
    customers: list[CompanyCheckItem]


def search_companies(session: Session, text: str) -> CompanyList:
    """Companies by name (active and inactive; at most 25)."""
    provider = autotask_provider(session)
    try:
        return CompanyList(items=provider.search_companies(text))
    finally:
        provider.client.close()


def map_company(session: Session, customer: Customer, choice: CompanyChoice, actor: str) -> None:
    """Store the company id and its name as Autotask has it now (an unknown id: 422, nothing stored)."""
    provider = autotask_provider(session)
    try:
        company = provider.get_company(choice.company_id)
    finally:
        provider.client.close()
    if company is None:
        raise InvalidInput(
            f"company_id: Autotask has no company {choice.company_id}",
            details=[{"field": "body.company_id", "message": "not found in Autotask"}],
        )
    customer.autotask_company_id = company.id
    customer.autotask_company_name = company.name
    customer.autotask_mapping_status = "ok" if company.active else "inactive"
    customer.autotask_checked_at = datetime.now(UTC)
    audit.record(
        session,
        actor,
        "map_company",
        "customer",
        customer.id,
        {"company_id": company.id, "name": company.name},
    )


def unmap_company(session: Session, customer: Customer, actor: str) -> None:
    """Needs no Autotask request, so it also works while the integration is disabled."""
    before = customer.autotask_company_id
    customer.autotask_company_id = None
    customer.autotask_company_name = None
    customer.autotask_mapping_status = "unmapped"
    customer.autotask_checked_at = None
    audit.record(session, actor, "unmap_company", "customer", customer.id, {"company_id": before})


def check_companies(session: Session, actor: str) -> CompanyCheckResult:
    """Every mapped live customer against Autotask in one batched query: renamed (the cached name
    follows), inactive, missing, or ok."""
    customers = list(
        session.scalars(
            select(Customer)
            .where(Customer.deleted_at.is_(None), Customer.autotask_company_id.is_not(None))
            .order_by(Customer.name)
        )
    )
    provider = autotask_provider(session)
    try:
        found = {
            company.id: company
            for company in provider.companies_by_ids([c.autotask_company_id or 0 for c in customers])
        }
    finally:
        provider.client.close()
    now = datetime.now(UTC)
    items = []
    for customer in customers:
        company = found.get(customer.autotask_company_id or 0)
        status: MappingStatus
        if company is None:
            status = "missing"
        elif not company.active:
            status = "inactive"
        elif company.name != customer.autotask_company_name:
            status = "renamed"
            customer.autotask_company_name = company.name
        else:
            status = "ok"
        customer.autotask_mapping_status, customer.autotask_checked_at = status, now
        items.append(
            CompanyCheckItem(
                customer_id=customer.id,
                customer_name=customer.name,
                company_id=customer.autotask_company_id or 0,
                status=status,
                cached_name=customer.autotask_company_name,
            )
        )
    audit.record(
        session,
        actor,
        "check_companies",
        "customer",
        None,
        {s: sum(i.status == s for i in items) for s in ("ok", "renamed", "inactive", "missing")},
    )
    return CompanyCheckResult(checked_at=now, customers=items)
