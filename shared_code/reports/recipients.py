"""Who receives a customer's monthly report: addresses an operator sets, validated and deduplicated."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from shared_code import audit
from shared_code.db.live import live_row
from shared_code.db.models import Customer, ReportRecipients
from shared_code.errors import NotFound
from shared_code.schema.models import RequestModel

MAX_RECIPIENTS = 20
# One address as Graph takes it in toRecipients: a dot-atom local part and a DNS host name.
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_ADDRESS = re.compile(rf"(?P<local>{_LOCAL})@(?P<domain>{_LABEL}(?:\.{_LABEL})*\.[A-Za-z]{{2,63}})")


def mail_address(value: str) -> str:
    """The address with its domain in lower case; anything else is refused."""
    match = _ADDRESS.fullmatch(value)
    if match is None or len(match["local"]) > 64 or len(value) > 254:
        raise ValueError("is not a valid e-mail address (name@example.com)")
    return f"{match['local']}@{match['domain'].lower()}"


MailAddress = Annotated[str, Field(min_length=3, max_length=254), AfterValidator(mail_address)]


def _distinct(addresses: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for address in addresses:
        seen.setdefault(address.lower(), address)
    return list(seen.values())


class RecipientsChange(RequestModel):
    addresses: Annotated[list[MailAddress], Field(max_length=MAX_RECIPIENTS), AfterValidator(_distinct)] = (
        Field(description=f"Up to {MAX_RECIPIENTS} addresses; an empty list sends the customer no report.")
    )


class Recipients(BaseModel):
    customer_id: int
    customer_name: str
    addresses: list[str]
    updated_at: datetime | None
    updated_by: str | None


def _customer(session: Session, customer_id: int) -> Customer:
    customer = live_row(session, Customer, customer_id)
    if customer is None:
        raise NotFound(f"no such customer_id: {customer_id}")
    return customer


def recipients_of(session: Session, customer_id: int) -> Recipients:
    customer = _customer(session, customer_id)
    row = session.get(ReportRecipients, customer_id)
    return Recipients(
        customer_id=customer.id,
        customer_name=customer.name,
        addresses=row.addresses if row else [],
        updated_at=row.updated_at if row else None,
        updated_by=row.updated_by if row else None,
    )


def current_addresses(session: Session, customer_id: int) -> list[str]:
    addresses = session.scalar(
        select(ReportRecipients.addresses).where(ReportRecipients.customer_id == customer_id)
    )
    return list(addresses or [])


def set_recipients(session: Session, customer_id: int, change: RecipientsChange, actor: str) -> Recipients:
    _customer(session, customer_id)
    values = {"addresses": change.addresses, "updated_by": actor, "updated_at": func.now()}
    session.execute(
        insert(ReportRecipients)
        .values(customer_id=customer_id, **values)
        .on_conflict_do_update(index_elements=[ReportRecipients.customer_id], set_=values)
    )
    audit.record(
        session, actor, "set_report_recipients", "customer", customer_id, {"addresses": change.addresses}
    )
    session.expire_all()
    return recipients_of(session, customer_id)
