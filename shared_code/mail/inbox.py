"""The Inbox (SPEC §6): stored mail that is not a run yet — parsed mail of unknown jobs, and mail
no parser claimed or a parser failed on — and what operators do with it: approve (the job is
created and every waiting mail of it becomes a run, in one transaction), re-parse, delete (soft).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field, model_validator
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from shared_code import audit
from shared_code.config import get_settings
from shared_code.customers import customer_named
from shared_code.db.live import soft_delete_mails
from shared_code.db.models import Customer, Job, JobRun, MailContent, MailMessage, MailObject, ParseStatus
from shared_code.errors import Conflict, InvalidInput, NotFound
from shared_code.mail.booking import (
    JobIdentity,
    book_if_known,
    book_into,
    job_with_identity,
    unreadable_explained,
)
from shared_code.mail.ingest import parse_fields, parsed_objects, unreadable
from shared_code.mail.rule_parsing import apply_rules
from shared_code.runs.details import mail_objects_page
from shared_code.runs.overrides import live_overrides, objects_of_mails
from shared_code.schema.fields import DisplayName, Id, IdList
from shared_code.schema.models import RequestModel, ResponseModel
from shared_code.schema.paging import PageInfo, PageQuery, page_of, paginated

IN_INBOX = (MailMessage.job_id.is_(None), MailMessage.live, MailMessage.location == "inbox")


class InboxQuery(PageQuery):
    parse_status: ParseStatus | None = Field(None, description="Only parsed, unparsed or error mail.")


class InboxItem(ResponseModel):
    id: int
    received_at: datetime
    from_address: str | None
    subject: str | None
    parse_status: ParseStatus
    parser_name: str | None
    parse_error: str | None
    backup_software: str | None
    backup_type: str | None
    job_name: str | None
    parsed_status: str | None = Field(
        description="The run status the mail reports (success, warning, failed)."
    )
    informational: bool
    object_count: int
    message_id_collision_of: int | None = Field(
        description="An earlier, different mail that used this mail's Message-ID (both are kept)."
    )


class InboxPage(BaseModel):
    items: list[InboxItem]
    page: PageInfo


class SuggestedCustomer(BaseModel):
    id: int
    name: str


class InboxGroup(BaseModel):
    """The parsed Inbox mails one approval would turn into one job."""

    from_address: str | None
    backup_software: str | None
    backup_type: str | None
    job_name: str | None
    mail_count: int
    newest_mail_id: int = Field(description="Approve this mail to create the job for the whole group.")
    newest_received_at: datetime
    suggested_customer: SuggestedCustomer | None = Field(
        description="The customer whose live jobs the same sender already reports for (most jobs first)."
    )


class InboxGroups(BaseModel):
    groups: list[InboxGroup]
    unparsed: int = Field(description="Waiting mails no parser read (each says why in parse_error).")


class MailObjectView(ResponseModel):
    name: str
    object_type: str | None
    status: str
    message: str | None


# What one mail's answer carries at most; the rest is in the raw mail (GET /api/mails/{id}/raw)
# and in the next pages of objects. A real report is far below both.
MAX_BODY_CHARACTERS = 1_000_000


class MailQuery(PageQuery):
    """Which page of the mail's objects to answer with."""

    limit: int = Field(500, ge=1, le=1000, description="Objects per page.")


class MailView(InboxItem):
    source: str
    graph_message_id: str | None
    internet_message_id: str | None
    location: str
    job_id: int | None
    run_id: int | None = Field(description="The run this mail became, if it did.")
    deleted_at: datetime | None
    text_body: str | None = Field(description=f"At most {MAX_BODY_CHARACTERS:,} characters (see truncated).")
    html_body: str | None = Field(description=f"At most {MAX_BODY_CHARACTERS:,} characters (see truncated).")
    truncated: bool = Field(description="A body was cut; the whole mail is at raw_url.")
    raw_url: str = Field(description="The stored raw mail (message/rfc822).")
    objects: list[MailObjectView] = Field(description="One page of the objects (offset, limit).")
    objects_page: PageInfo


class ApproveBody(RequestModel):
    customer_id: Id | None = Field(None, description="An existing customer.")
    customer_name: DisplayName | None = Field(
        None, description="Or a customer to create (an existing name is reused)."
    )

    @model_validator(mode="after")
    def _one_customer(self) -> ApproveBody:
        if (self.customer_id is None) == (self.customer_name is None):
            raise ValueError("give exactly one of customer_id and customer_name")
        return self


class Approval(BaseModel):
    job_id: int
    customer_id: int
    mail_ids: list[int] = Field(description="Every Inbox mail of the job, now booked as runs.")
    run_ids: list[int]


class DeleteBody(RequestModel):
    mail_ids: IdList


class Deletion(BaseModel):
    deleted: list[int]
    not_in_inbox: list[int] = Field(description="Ids that are unknown, booked or deleted already.")


class Reparse(BaseModel):
    mail: InboxItem
    run_id: int | None = Field(
        description="Set when the new parse result belongs to a known job and was booked."
    )


# --- reading ------------------------------------------------------------------------------------------


def _object_count() -> Any:
    return select(func.count()).where(MailObject.mail_id == MailMessage.id).scalar_subquery()


def _item(mail: MailMessage, object_count: int) -> InboxItem:
    return InboxItem.model_validate({**_columns(mail, InboxItem), "object_count": object_count})


def _columns(mail: MailMessage, model: type[BaseModel]) -> dict[str, Any]:
    columns = MailMessage.__table__.columns.keys()
    return {name: getattr(mail, name) for name in model.model_fields if name in columns}


def list_inbox(session: Session, query: InboxQuery) -> InboxPage:
    statement = select(MailMessage, _object_count()).where(*IN_INBOX)
    if query.parse_status is not None:
        statement = statement.where(MailMessage.parse_status == query.parse_status)
    rows = session.execute(
        paginated(statement.order_by(MailMessage.received_at.desc(), MailMessage.id.desc()), query)
    ).all()
    items, page = page_of([_item(mail, count) for mail, count in rows], query)
    return InboxPage(items=items, page=page)


def inbox_groups(session: Session) -> InboxGroups:
    """Parsed Inbox mail by the job it would create, largest group first, with a customer suggested
    from the sender's known jobs."""
    identity = (
        MailMessage.from_address,
        MailMessage.backup_software,
        MailMessage.backup_type,
        MailMessage.job_name,
    )
    rows = session.execute(
        select(*identity, func.count(), func.max(MailMessage.id), func.max(MailMessage.received_at))
        .where(*IN_INBOX, MailMessage.parse_status == "parsed")
        .group_by(*identity)
        .order_by(func.count().desc(), func.max(MailMessage.received_at).desc())
    ).all()
    suggestions = _customers_by_sender(session, {row[0] for row in rows if row[0]})
    unparsed = session.scalar(
        select(func.count()).select_from(MailMessage).where(*IN_INBOX, MailMessage.parse_status != "parsed")
    )
    return InboxGroups(
        groups=[
            InboxGroup(
                from_address=sender,
                backup_software=software,
                backup_type=backup_type,
                job_name=job_name,
                mail_count=count,
                newest_mail_id=newest_id,
                newest_received_at=newest_at,
                suggested_customer=suggestions.get(sender.casefold()) if sender else None,
            )
            for sender, software, backup_type, job_name, count, newest_id, newest_at in rows
        ],
        unparsed=unparsed or 0,
    )


def _customers_by_sender(session: Session, senders: set[str]) -> dict[str, SuggestedCustomer]:
    """For each sender, the live customer with most live jobs reported from that address."""
    if not senders:
        return {}
    sender = func.lower(Job.from_address)
    rows = session.execute(
        select(sender, Customer.id, Customer.name, func.count())
        .join(Customer, Customer.id == Job.customer_id)
        .where(sender.in_({s.casefold() for s in senders}), Job.live, Customer.live)
        .group_by(sender, Customer.id, Customer.name)
        .order_by(sender, func.count().desc(), Customer.id)
    ).all()
    found: dict[str, SuggestedCustomer] = {}
    for address, customer_id, name, _ in rows:
        found.setdefault(address, SuggestedCustomer(id=customer_id, name=name))
    return found


def get_mail(session: Session, mail_id: int, query: MailQuery | None = None) -> MailView:
    query = query or MailQuery()
    mail = session.get(MailMessage, mail_id)
    if mail is None:
        raise NotFound(f"no such mail: {mail_id}")
    objects, page, count = mail_objects_page(session, mail.id, query)
    run_id = session.scalar(select(JobRun.id).where(JobRun.mail_id == mail.id))
    text_body, html_body = _capped(mail.text_body), _capped(mail.html_body)
    return MailView.model_validate(
        {
            **_columns(mail, MailView),
            "text_body": text_body,
            "html_body": html_body,
            "truncated": (text_body, html_body) != (mail.text_body, mail.html_body),
            "raw_url": f"/api/mails/{mail.id}/raw",
            "object_count": count,
            "run_id": run_id,
            "objects": [MailObjectView.model_validate(o) for o in objects],
            "objects_page": page,
        }
    )


def _capped(body: str | None) -> str | None:
    return body[:MAX_BODY_CHARACTERS] if body is not None else None


def raw_mail(session: Session, mail_id: int) -> bytes:
    """The stored raw RFC 5322 bytes of a mail, as received."""
    if session.get(MailMessage, mail_id) is None:
        raise NotFound(f"no such mail: {mail_id}")
    content = session.get(MailContent, mail_id)
    if content is None:
        raise NotFound(f"mail {mail_id} was stored without its raw content", code="no_content")
    return content.mime


# --- acting -------------------------------------------------------------------------------------------


def _inbox_mail(session: Session, mail_id: int, *, lock: bool = True) -> MailMessage:
    """The mail, locked (as it is now); 404 when unknown, 409 when it is not (or no longer) in the Inbox."""
    mail = session.get(MailMessage, mail_id, with_for_update=lock, populate_existing=lock)
    if mail is None:
        raise NotFound(f"no such mail: {mail_id}")
    if mail.job_id is not None or not mail.live or mail.location != "inbox":
        raise Conflict(f"mail {mail_id} is not in the Inbox (booked or deleted already)", code="not_in_inbox")
    return mail


def approve(session: Session, mail_id: int, body: ApproveBody, actor: str) -> Approval:
    """Create the mail's job for a customer and book every Inbox mail of that job as a run."""
    mail = _inbox_mail(session, mail_id)
    if mail.parse_status != "parsed":
        raise Conflict(
            f"mail {mail_id} is {mail.parse_status}: only parsed mail can be approved", code="not_parsed"
        )
    identity = JobIdentity.of(mail)
    identity.lock(session)
    customer = _customer(session, body)
    job = job_with_identity(session, identity) or _new_job(session, mail, customer)
    if job.customer_id != customer.id:
        raise Conflict(
            f"job {job.id} for this sender and job name already belongs to customer {job.customer_id}",
            code="job_exists",
        )
    waiting = session.scalars(
        select(MailMessage)
        .where(*IN_INBOX, MailMessage.parse_status == "parsed", identity.matches(MailMessage))
        .order_by(MailMessage.received_at, MailMessage.id)
        .with_for_update()
    ).all()
    mail_ids = [m.id for m in waiting]
    objects, overrides = objects_of_mails(session, mail_ids), live_overrides(session)
    runs = [book_into(session, job, m, objects.get(m.id, []), overrides) for m in waiting]
    audit.record(
        session,
        actor,
        "approve",
        "mail",
        mail.id,
        {"job_id": job.id, "customer_id": customer.id, "mail_ids": mail_ids},
    )
    return Approval(job_id=job.id, customer_id=customer.id, mail_ids=mail_ids, run_ids=[r.id for r in runs])


def _customer(session: Session, body: ApproveBody) -> Customer:
    if body.customer_id is not None:
        customer = session.get(Customer, body.customer_id)
        if customer is None or not customer.live:
            raise InvalidInput(
                f"customer_id: no such customer: {body.customer_id}",
                details=[{"field": "body.customer_id", "message": "no such customer"}],
            )
        return customer
    return customer_named(session, body.customer_name or "")


def _new_job(session: Session, mail: MailMessage, customer: Customer) -> Job:
    job = Job(
        customer_id=customer.id,
        from_address=mail.from_address or "",
        backup_software=mail.backup_software,
        backup_type=mail.backup_type,
        job_name=mail.job_name,
        informational=mail.informational,
    )
    session.add(job)
    session.flush()
    return job


def delete_mails(session: Session, mail_ids: list[int], actor: str) -> Deletion:
    """Soft-delete Inbox mail; booked mail stays with its run."""
    deleted = sorted(
        session.scalars(
            soft_delete_mails(datetime.now(UTC), MailMessage.id.in_(mail_ids), *IN_INBOX).returning(
                MailMessage.id
            )
        )
    )
    for mail_id in deleted:
        audit.record(session, actor, "delete", "mail", mail_id)
    return Deletion(deleted=deleted, not_in_inbox=sorted(set(mail_ids) - set(deleted)))


def reparse(session: Session, mail_id: int, actor: str) -> Reparse:
    """Run today's parsers on the stored mail; a result for a known job is booked at once."""
    from shared_code.parsers.mime import decode_mail
    from shared_code.parsers.registry import parse_mail

    _inbox_mail(session, mail_id, lock=False)
    content = session.get(MailContent, mail_id)
    if content is None:
        raise Conflict(
            f"mail {mail_id} was stored without its raw content and cannot be re-parsed", code="no_content"
        )
    # Parsing may take seconds: no row lock is held meanwhile, so a delete or another re-parse of
    # this mail waits only for the short write below (and the mail is checked again once locked).
    decoded = decode_mail(content.mime)
    outcome = apply_rules(session, decoded, parse_mail(decoded, get_settings().parse_budget_seconds))
    mail = _inbox_mail(session, mail_id)
    for name, value in parse_fields(outcome).items():
        setattr(mail, name, value)
    if unreadable(outcome):
        mail.parse_error = unreadable_explained(
            session, mail.from_address, mail.subject, mail.parse_error or ""
        )
    session.execute(delete(MailObject).where(MailObject.mail_id == mail.id))
    objects = parsed_objects(outcome)
    if objects:
        session.add_all(
            MailObject(mail_id=mail.id, position=position, name=o.name, status=o.status, message=o.message)
            for position, o in enumerate(objects)
        )
    run = book_if_known(session, mail, objects) if outcome.kind == "parsed" else None
    audit.record(
        session,
        actor,
        "reparse",
        "mail",
        mail.id,
        {"parse_status": outcome.kind, "parser": outcome.parser_name},
    )
    session.flush()
    return Reparse(mail=_item(mail, len(objects)), run_id=run.id if run is not None else None)
