"""Customers: list, create, change (rename, activate/deactivate), soft delete.

Names are unique among live customers, compared case-insensitively and trimmed (409 otherwise),
and no two live customers may look alike: a name whose skeleton (``schema.names``) is another
customer's is refused naming that customer (the database's unique index is the guarantee).
Deleting a customer soft-deletes its jobs with it; an admin purge removes them for good."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field
from sqlalchemy import Label, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared_code import audit
from shared_code.db.live import live_row
from shared_code.db.models import Customer, Job, ci_key, natural_key
from shared_code.errors import Conflict, NotFound
from shared_code.jobs import soft_delete_jobs
from shared_code.schema.fields import DisplayName, Search
from shared_code.schema.models import RequestModel, ResponseModel
from shared_code.schema.names import skeleton
from shared_code.schema.paging import PageInfo, PageQuery, page_of, paginated


class CustomerListQuery(PageQuery):
    active: bool | None = Field(None, description="Only active (true) or inactive (false) customers.")
    search: Search | None = Field(None, description="Name contains this text (any case).")


class CustomerCreate(RequestModel):
    name: DisplayName
    active: bool = True


class CustomerChange(RequestModel):
    name: DisplayName | None = None
    active: bool | None = Field(None, description="Deactivate to hide the customer's jobs by default.")


class CompanyMapping(ResponseModel):
    """The customer's company in a PSA (set by the PSA's company search, checked against it)."""

    psa_company_provider: str | None = Field(description="The PSA the company is in.")
    psa_company_id: int | None
    psa_company_name: str | None = Field(description="The company's name as last seen in the PSA.")
    psa_mapping_status: str = Field(description="ok, renamed, missing, inactive or unmapped.")
    psa_checked_at: datetime | None


class CustomerView(CompanyMapping):
    id: int
    name: str
    active: bool
    job_count: int = Field(description="Live jobs of the customer.")
    created_at: datetime
    updated_at: datetime


class CustomerList(BaseModel):
    items: list[CustomerView]
    page: PageInfo


def _job_count() -> Label[int]:
    return (
        select(func.count())
        .where(Job.customer_id == Customer.id, Job.live)
        .scalar_subquery()
        .label("job_count")
    )


def _view(customer: Customer, job_count: int) -> CustomerView:
    return CustomerView.model_validate({**_columns(customer), "job_count": job_count})


def _columns(customer: Customer) -> dict[str, object]:
    return {column.key: getattr(customer, column.key) for column in Customer.__table__.columns}


def list_customers(session: Session, query: CustomerListQuery) -> CustomerList:
    statement = select(Customer, _job_count()).where(Customer.live)
    if query.active is not None:
        statement = statement.where(Customer.active.is_(query.active))
    if query.search:
        statement = statement.where(Customer.name.icontains(query.search, autoescape=True))
    statement = statement.order_by(natural_key(Customer.name), Customer.id)
    rows, page = page_of(list(session.execute(paginated(statement, query))), query)
    return CustomerList(items=[_view(customer, count) for customer, count in rows], page=page)


def live_customer(session: Session, customer_id: int) -> Customer:
    customer = live_row(session, Customer, customer_id)
    if customer is None:
        raise NotFound(f"no such customer: {customer_id}")
    return customer


def get_customer(session: Session, customer_id: int) -> CustomerView:
    customer = live_customer(session, customer_id)
    return _view(customer, session.scalar(select(_job_count()).where(Customer.id == customer.id)) or 0)


def create_customer(session: Session, body: CustomerCreate, actor: str) -> CustomerView:
    _refuse_lookalike(session, body.name)
    customer = _insert_unless_named(session, body.name, active=body.active)
    if customer is None:
        raise _name_taken(body.name)
    audit.record(session, actor, "create", "customer", customer.id, body.model_dump())
    return _view(customer, 0)


def customer_named(session: Session, name: str) -> Customer:
    """The live customer with this name (any case, trimmed), created when there is none (and no
    other looks like it)."""
    _refuse_lookalike(session, name)
    return (
        _insert_unless_named(session, name)
        or session.scalars(select(Customer).where(ci_key(Customer.name) == ci_key(name), Customer.live)).one()
    )


def _insert_unless_named(session: Session, name: str, *, active: bool = True) -> Customer | None:
    """A new customer, or None when a live one has the name: the unique index decides, so two
    requests cannot both take a name (the loser waits for the winner's commit)."""
    return session.scalars(
        pg_insert(Customer)
        .values(name=name, name_skeleton=skeleton(name), active=active)
        .on_conflict_do_nothing(index_elements=[ci_key(Customer.name)], index_where=Customer.live.expression)
        .returning(Customer)
    ).first()


def change_customer(session: Session, customer_id: int, body: CustomerChange, actor: str) -> CustomerView:
    customer = live_customer(session, customer_id)
    changes = body.model_dump(exclude_none=True)
    if "name" in changes:
        _refuse_lookalike(session, changes["name"], other_than=customer.id)
    for field, value in changes.items():
        setattr(customer, field, value)
    _flush_unique_name(session, customer.name)
    if changes:
        audit.record(session, actor, "update", "customer", customer.id, changes)
    return get_customer(session, customer.id)


def delete_customer(session: Session, customer_id: int, actor: str, *, now: datetime | None = None) -> None:
    customer = live_customer(session, customer_id)
    now = now or datetime.now(UTC)
    customer.deleted_at = now
    job_ids = list(session.scalars(select(Job.id).where(Job.customer_id == customer.id, Job.live)))
    soft_delete_jobs(session, job_ids, now)
    audit.record(session, actor, "delete", "customer", customer.id, {"job_ids": job_ids})


def _flush_unique_name(session: Session, name: str) -> None:
    """A rename: the database's unique index decides, so concurrent requests cannot both take a name."""
    try:
        session.flush()
    except IntegrityError as error:
        if "uq_customers_live_name" not in str(error.orig):
            raise
        raise _name_taken(name) from None


def _refuse_lookalike(session: Session, name: str, *, other_than: int | None = None) -> None:
    """Another live customer whose name looks like this one (not merely the same name in another case)."""
    lookalike = select(Customer).where(
        Customer.name_skeleton == skeleton(name), Customer.live, ci_key(Customer.name) != ci_key(name)
    )
    if other_than is not None:
        lookalike = lookalike.where(Customer.id != other_than)
    existing = session.scalars(lookalike.limit(1)).first()
    if existing is not None:
        raise Conflict(
            f"name: {name!r} looks like the existing customer {existing.name!r} (id {existing.id})",
            code="name_confusable",
            details=[
                {
                    "field": "body.name",
                    "message": "looks like an existing customer",
                    "customer_id": existing.id,
                }
            ],
        )


def _name_taken(name: str) -> Conflict:
    return Conflict(
        f"name: a customer named {name!r} already exists",
        code="name_taken",
        details=[{"field": "body.name", "message": "already taken"}],
    )
