"""A customer's mapping to its company in the active PSA: set by the company search and checked against
the PSA (renamed, inactive, missing). A mapping names its PSA: after a switch of PSA, customers
mapped in the other one count as unmapped for tickets until mapped again (their mapping stays visible)."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared_code import audit
from shared_code.db.models import Customer, MappingStatus
from shared_code.errors import InvalidInput
from shared_code.psa import provider as psa
from shared_code.psa import registry
from shared_code.schema.fields import INT32_MAX
from shared_code.schema.models import RequestModel

# --- mapping a customer to its PSA company (Phase 3) ----------------------------------------------


class CompanyChoice(RequestModel):
    company_id: int = Field(ge=0, le=INT32_MAX, description="The PSA's company id (from the company search).")


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


def search_companies(session: Session, text: str, *, route_provider: str | None = None) -> CompanyList:
    """Companies by name (active and inactive; at most 25)."""
    with registry.open_provider(session, route_provider) as provider:
        return CompanyList(items=provider.search_companies(text))


def map_company(
    session: Session,
    customer: Customer,
    choice: CompanyChoice,
    actor: str,
    *,
    route_provider: str | None = None,
) -> None:
    """Store the company id and its name as the PSA has it now (an unknown id: 422, nothing stored)."""
    with registry.open_provider(session, route_provider) as provider:
        company = provider.get_company(choice.company_id)
        name, label = provider.name, provider.label
    if company is None:
        raise InvalidInput(
            f"company_id: {label} has no company {choice.company_id}",
            details=[{"field": "body.company_id", "message": f"not found in {label}"}],
        )
    customer.psa_company_provider = name
    customer.psa_company_id = company.id
    customer.psa_company_name = company.name
    customer.psa_mapping_status = "ok" if company.active else "inactive"
    customer.psa_checked_at = datetime.now(UTC)
    audit.record(
        session,
        actor,
        "map_company",
        "customer",
        customer.id,
        {"company_id": company.id, "name": company.name},
    )


def unmap_company(session: Session, customer: Customer, actor: str) -> None:
    """Needs no PSA request, so it also works while the integration is disabled."""
    before = customer.psa_company_id
    customer.psa_company_provider = None
    customer.psa_company_id = None
    customer.psa_company_name = None
    customer.psa_mapping_status = "unmapped"
    customer.psa_checked_at = None
    audit.record(session, actor, "unmap_company", "customer", customer.id, {"company_id": before})


def check_companies(session: Session, actor: str, *, route_provider: str | None = None) -> CompanyCheckResult:
    """Every live customer mapped in the active PSA against it in one batched query: renamed (the
    cached name follows), inactive, missing, or ok."""
    with registry.open_provider(session, route_provider) as provider:
        customers = list(
            session.scalars(
                select(Customer)
                .where(
                    Customer.deleted_at.is_(None),
                    Customer.psa_company_id.is_not(None),
                    Customer.psa_company_provider == provider.name,
                )
                .order_by(Customer.name)
            )
        )
        found = {
            company.id: company
            for company in provider.companies_by_ids([c.psa_company_id or 0 for c in customers])
        }
    now = datetime.now(UTC)
    items = []
    for customer in customers:
        company = found.get(customer.psa_company_id or 0)
        status: MappingStatus
        if company is None:
            status = "missing"
        elif not company.active:
            status = "inactive"
        elif company.name != customer.psa_company_name:
            status = "renamed"
            customer.psa_company_name = company.name
        else:
            status = "ok"
        customer.psa_mapping_status, customer.psa_checked_at = status, now
        items.append(
            CompanyCheckItem(
                customer_id=customer.id,
                customer_name=customer.name,
                company_id=customer.psa_company_id or 0,
                status=status,
                cached_name=customer.psa_company_name,
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
