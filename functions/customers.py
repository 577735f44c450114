"""Customers: list, create, change, activate/deactivate, soft delete."""

from __future__ import annotations

import azure.functions as func

from functions.http import api_route
from shared_code.api.auth import Role
from shared_code.api.routing import Call
from shared_code.customers import (
    CustomerChange,
    CustomerCreate,
    CustomerList,
    CustomerListQuery,
    CustomerView,
    change_customer,
    create_customer,
    delete_customer,
    get_customer,
    list_customers,
)

bp = func.Blueprint()


@api_route(
    bp, "GET", "customers", role=Role.VIEWER, tag="customers", query=CustomerListQuery, response=CustomerList
)
def customers_list(call: Call) -> CustomerList:
    """Live customers by name, with their job counts and Autotask mapping."""
    return list_customers(call.db, call.query)


@api_route(
    bp,
    "POST",
    "customers",
    role=Role.OPERATOR,
    tag="customers",
    body=CustomerCreate,
    response=CustomerView,
    status=201,
    errors=(409,),
)
def customers_create(call: Call) -> CustomerView:
    """Create a customer (409 when a live customer has the name)."""
    return create_customer(call.db, call.body, call.actor)


@api_route(bp, "GET", "customers/{customer_id:int}", role=Role.VIEWER, tag="customers", response=CustomerView)
def customers_get(call: Call) -> CustomerView:
    """One customer."""
    return get_customer(call.db, call.path["customer_id"])


@api_route(
    bp,
    "PATCH",
    "customers/{customer_id:int}",
    role=Role.OPERATOR,
    tag="customers",
    body=CustomerChange,
    response=CustomerView,
    errors=(409,),
)
def customers_change(call: Call) -> CustomerView:
    """Rename, activate or deactivate a customer."""
    return change_customer(call.db, call.path["customer_id"], call.body, call.actor)


@api_route(bp, "DELETE", "customers/{customer_id:int}", role=Role.ADMIN, tag="customers")
def customers_delete(call: Call) -> None:
    """Soft-delete a customer and its jobs (an admin purge removes them for good)."""
    delete_customer(call.db, call.path["customer_id"], call.actor)
