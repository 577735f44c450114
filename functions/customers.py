"""Customers: list, create, change, activate/deactivate, soft delete."""

from __future__ import annotations

from typing import TYPE_CHECKING

import azure.functions as func

from functions.http import api_route
from shared_code.api.auth import Role
from shared_code.api.routing import Call

if TYPE_CHECKING:
    from shared_code.customers import CustomerList, CustomerView

bp = func.Blueprint()
CUSTOMERS = "shared_code.customers"


@api_route(
    bp,
    "GET",
    "customers",
    role=Role.VIEWER,
    tag="customers",
    query=f"{CUSTOMERS}:CustomerListQuery",
    response=f"{CUSTOMERS}:CustomerList",
)
def customers_list(call: Call) -> CustomerList:
    """Live customers by name, with their job counts and Autotask mapping."""
    from shared_code.customers import list_customers

    return list_customers(call.db, call.query)


@api_route(
    bp,
    "POST",
    "customers",
    role=Role.OPERATOR,
    tag="customers",
    body=f"{CUSTOMERS}:CustomerCreate",
    response=f"{CUSTOMERS}:CustomerView",
    status=201,
    errors=(409,),
)
def customers_create(call: Call) -> CustomerView:
    """Create a customer (409 when a live customer has the name)."""
    from shared_code.customers import create_customer

    return create_customer(call.db, call.body, call.actor)


@api_route(
    bp, "GET", "customers/{customer_id:int}", role=Role.VIEWER, tag="customers", response=f"{CUSTOMERS}:CustomerView"
)
def customers_get(call: Call) -> CustomerView:
    """One customer."""
    from shared_code.customers import get_customer

    return get_customer(call.db, call.path["customer_id"])


@api_route(
    bp,
    "PATCH",
    "customers/{customer_id:int}",
    role=Role.OPERATOR,
    tag="customers",
    body=f"{CUSTOMERS}:CustomerChange",
    response=f"{CUSTOMERS}:CustomerView",
    errors=(409,),
)
def customers_change(call: Call) -> CustomerView:
    """Rename, activate or deactivate a customer."""
    from shared_code.customers import change_customer

    return change_customer(call.db, call.path["customer_id"], call.body, call.actor)


@api_route(bp, "DELETE", "customers/{customer_id:int}", role=Role.ADMIN, tag="customers")
def customers_delete(call: Call) -> None:
    """Soft-delete a customer and its jobs (an admin purge removes them for good)."""
    from shared_code.customers import delete_customer

    delete_customer(call.db, call.path["customer_id"], call.actor)
