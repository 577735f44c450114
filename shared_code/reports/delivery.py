"""The monthly report mail: each customer with recipients gets its PDF for the month before,
through Graph ``sendMail`` from the monitored mailbox, once per customer and month.

Once is the database's rule: ``report_deliveries`` has one row per customer and month (a unique
index), inserted with ON CONFLICT DO NOTHING, and an attempt takes the row (pending or failed ->
sending) with one conditional UPDATE that is committed before Graph is called. A second timer
pass, a concurrent one or a retry therefore finds the row taken or sent and sends nothing. Each
attempt is recorded and audited, in its own transaction after the call. A failed send (Graph
answered with an error) is retried by the next hourly pass, up to MAX_ATTEMPTS; an attempt whose
outcome is unknown (no answer, or a crash while sending) is never repeated by the timer, since
the mail may have gone: it is shown on the status banner, and an operator may "send now".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field
from sqlalchemy import literal, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from shared_code import audit
from shared_code.app_settings import load_app_settings, ui_zone
from shared_code.config import get_settings
from shared_code.db.engine import unit_of_work
from shared_code.db.live import live_row
from shared_code.db.models import Customer, ReportDelivery, ReportDeliveryAttempt, ReportRecipients
from shared_code.errors import Conflict, NotFound, UpstreamError
from shared_code.mail.graph_client import GraphError, GraphMailbox, MailAttachment, default_mailbox
from shared_code.reports.period import Period, month_before
from shared_code.reports.recipients import current_addresses
from shared_code.reports.report import CustomerReport, customer_report
from shared_code.schema.models import RequestModel

log = logging.getLogger(__name__)

SYSTEM_ACTOR = "system:monthly-reports"
MAX_ATTEMPTS = 5
SENDING_LEASE = timedelta(minutes=15)  # an attempt still 'sending' after this died mid-send
RETRYABLE = ("pending", "failed")

MailboxFactory = Callable[[], GraphMailbox]


def _month(value: object) -> object:
    """'YYYY-MM' as the month's first day."""
    if not isinstance(value, str) or not re.fullmatch(r"20\d\d-\d\d", value):
        raise ValueError("must be a month from 2000-01 to 2099-12, YYYY-MM")
    year, month = (int(part) for part in value.split("-"))
    return date(year, month, 1)  # a month outside 1..12 raises ValueError, a 4xx naming the field


Month = Annotated[date, BeforeValidator(_month)]


class MonthQuery(RequestModel):
    month: Month | None = Field(None, description="The reported month, YYYY-MM; default last month.")


class SendRequest(MonthQuery):
    pass


class Attempt(BaseModel):
    at: datetime
    actor: str
    outcome: str = Field(description="sent | failed | unknown (no answer from Graph)")
    error: str | None


class DeliveryView(BaseModel):
    customer_id: int
    month: date
    state: str = Field(description="pending | sending | sent | failed | unknown")
    recipients: list[str]
    sent_at: datetime | None
    last_error: str | None
    attempts: list[Attempt]


class DeliveryPreview(BaseModel):
    customer_id: int
    customer_name: str
    month: date
    period: Period
    sender: str | None = Field(description="The monitored mailbox the mail is sent from.")
    recipients: list[str]
    subject: str
    text: str
    attachment: str = Field(description="The PDF's file name (GET the report with format=pdf to see it).")
    delivery: DeliveryView | None = Field(description="What became of this month's mail so far.")


class DeliveryRunResult(BaseModel):
    month: date
    claimed: int
    sent: int
    failed: int


# --- what the mail says ------------------------------------------------------------------------------


def month_period(session: Session, month: date) -> Period:
    last = (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return Period(first_day=month, last_day=last, timezone=str(ui_zone(load_app_settings(session))))


def _subject(report: CustomerReport, month: date) -> str:
    return f"{report.msp_name}: backup report {report.customer.name}, {month.strftime('%B %Y')}"


def _text(report: CustomerReport, month: date) -> str:
    totals = report.totals
    summary = (
        f"{totals.successful_runs} of {totals.expected_runs} expected backup runs succeeded "
        f"({totals.success_rate * 100:.1f} %)."
        if totals.success_rate is not None
        else "No backup runs were expected."
    )
    return (
        f"Hello,\n\nattached is the backup report of {report.customer.name} for {month.strftime('%B %Y')}. "
        f"{summary}\nThe report lists every job, the missed runs, the tickets and the accepted exceptions.\n\n"
        f"Kind regards,\n{report.msp_name}\n"
    )


def _previous_month(session: Session, now: datetime) -> date:
    return month_before(now.astimezone(ui_zone(load_app_settings(session))).date())[0]


def preview(
    session: Session, customer_id: int, query: MonthQuery, now: datetime | None = None
) -> DeliveryPreview:
    from shared_code.reports.exports import file_name

    month = query.month or _previous_month(session, now or datetime.now(UTC))
    report = customer_report(session, customer_id, month_period(session, month))
    delivery = session.scalar(
        select(ReportDelivery).where(ReportDelivery.customer_id == customer_id, ReportDelivery.month == month)
    )
    return DeliveryPreview(
        customer_id=customer_id,
        customer_name=report.customer.name,
        month=month,
        period=report.period,
        sender=get_settings().graph_mailbox,
        recipients=current_addresses(session, customer_id),
        subject=_subject(report, month),
        text=_text(report, month),
        attachment=file_name(report, "pdf"),
        delivery=_view(session, delivery) if delivery else None,
    )


def _view(session: Session, delivery: ReportDelivery) -> DeliveryView:
    attempts = session.scalars(
        select(ReportDeliveryAttempt)
        .where(ReportDeliveryAttempt.delivery_id == delivery.id)
        .order_by(ReportDeliveryAttempt.id)
    )
    return DeliveryView(
        customer_id=delivery.customer_id,
        month=delivery.month,
        state=delivery.state,
        recipients=delivery.recipients,
        sent_at=delivery.sent_at,
        last_error=delivery.last_error,
        attempts=[Attempt(at=a.at, actor=a.actor, outcome=a.outcome, error=a.error) for a in attempts],
    )


# --- the monthly pass ------------------------------------------------------------------------------------


def deliver_monthly_reports(
    *, now: datetime | None = None, mailbox: MailboxFactory = default_mailbox
) -> DeliveryRunResult:
    """The hourly timer's pass: from REPORT_SEND_HOUR on the 1st (UI timezone) claim last month's
    delivery of every active customer with recipients; then try each claimed delivery of that month
    that is pending or failed (fewer than MAX_ATTEMPTS tries)."""
    now = now or datetime.now(UTC)
    with unit_of_work() as session:
        local = now.astimezone(ui_zone(load_app_settings(session)))
        month = month_before(local.date())[0]
        claimed = (
            _claim_all(session, month)
            if local.day == 1 and local.hour >= get_settings().report_send_hour
            else 0
        )
        _give_up_on_lost_attempts(session, now)
        due = list(
            session.scalars(
                select(ReportDelivery.id)
                .where(
                    ReportDelivery.month == month,
                    ReportDelivery.state.in_(RETRYABLE),
                    ReportDelivery.attempts < MAX_ATTEMPTS,
                )
                .order_by(ReportDelivery.id)
            )
        )
    outcomes = [_attempt(delivery_id, SYSTEM_ACTOR, mailbox, now) for delivery_id in due]
    return DeliveryRunResult(
        month=month,
        claimed=claimed,
        sent=outcomes.count("sent"),
        failed=sum(outcome != "sent" for outcome in outcomes if outcome is not None),
    )


def _claim_all(session: Session, month: date) -> int:
    """One row per active customer with recipients and this month (the unique index keeps it one)."""
    with_recipients = (
        select(Customer.id, ReportRecipients.addresses, literal(month), literal(SYSTEM_ACTOR))
        .join(ReportRecipients, ReportRecipients.customer_id == Customer.id)
        .where(Customer.live, Customer.active, ReportRecipients.addresses != [])
    )
    inserted = session.execute(
        insert(ReportDelivery)
        .from_select(["customer_id", "recipients", "month", "created_by"], with_recipients)
        .on_conflict_do_nothing(index_elements=[ReportDelivery.customer_id, ReportDelivery.month])
        .returning(ReportDelivery.id)
    )
    return len(inserted.all())


def _give_up_on_lost_attempts(session: Session, now: datetime) -> None:
    """An attempt that has been 'sending' longer than the lease died without an answer."""
    session.execute(
        update(ReportDelivery)
        .where(ReportDelivery.state == "sending", ReportDelivery.claimed_at < now - SENDING_LEASE)
        .values(state="unknown", last_error="the sending process stopped before Graph answered")
    )


# --- one attempt ------------------------------------------------------------------------------------------


def _take(
    session: Session, delivery_id: int, now: datetime, states: tuple[str, ...]
) -> ReportDelivery | None:
    """Take the delivery for one attempt (one conditional UPDATE: only one taker wins)."""
    taken = session.execute(
        update(ReportDelivery)
        .where(ReportDelivery.id == delivery_id, ReportDelivery.state.in_(states))
        .values(state="sending", claimed_at=now, attempts=ReportDelivery.attempts + 1)
        .returning(ReportDelivery.id)
    ).first()
    return session.get(ReportDelivery, delivery_id) if taken else None


def _attempt(
    delivery_id: int, actor: str, mailbox: MailboxFactory, now: datetime, states: tuple[str, ...] = RETRYABLE
) -> str | None:
    """Take, send, record. Returns the outcome, or None when another process had taken it."""
    with unit_of_work() as session:
        delivery = _take(session, delivery_id, now, states)
        if delivery is None:
            return None
        recipients = current_addresses(session, delivery.customer_id)
        delivery.recipients = recipients
        period = month_period(session, delivery.month)
        customer_id, month = delivery.customer_id, delivery.month
    outcome, error = _send(customer_id, month, period, recipients, mailbox)
    with unit_of_work() as session:
        _record(session, delivery_id, actor, outcome, error)
    return outcome


def _send(
    customer_id: int, month: date, period: Period, recipients: list[str], mailbox: MailboxFactory
) -> tuple[str, str | None]:
    from shared_code.reports.exports import exported

    if not recipients:
        return "failed", "the customer has no report recipients"
    try:
        with unit_of_work() as session:
            report = customer_report(session, customer_id, period)
        pdf = exported(report, "pdf")
        sender = mailbox()
    except Exception as error:  # nothing was sent: a later attempt may succeed
        log.exception("report for customer %s, %s could not be made", customer_id, month)
        return "failed", f"the report could not be made: {type(error).__name__}: {error}"[:500]
    try:
        sender.send_mail(
            recipients,
            _subject(report, month),
            _text(report, month),
            MailAttachment(pdf.file_name, pdf.content_type, pdf.body),
        )
    except GraphError as error:
        log.warning("report mail for customer %s, %s: %s", customer_id, month, error)
        return ("failed" if error.status is not None else "unknown"), str(error)[:500]
    return "sent", None


def _record(session: Session, delivery_id: int, actor: str, outcome: str, error: str | None) -> None:
    delivery = session.get(ReportDelivery, delivery_id)
    assert delivery is not None  # deliveries are deleted only with their customer, by an admin purge
    delivery.state = outcome
    delivery.last_error = error
    if outcome == "sent":
        delivery.sent_at = datetime.now(UTC)
    session.add(ReportDeliveryAttempt(delivery_id=delivery_id, actor=actor, outcome=outcome, error=error))
    audit.record(
        session,
        actor,
        "send_report",
        "customer",
        delivery.customer_id,
        {
            "month": delivery.month.isoformat(),
            "outcome": outcome,
            "recipients": delivery.recipients,
            "error": error,
        },
    )


# --- send now ------------------------------------------------------------------------------------------


def send_now(
    customer_id: int,
    request: SendRequest,
    actor: str,
    *,
    now: datetime | None = None,
    mailbox: MailboxFactory = default_mailbox,
) -> DeliveryView:
    """An operator's "send now": this month's delivery (last month by default), claimed like the
    timer's; one whose outcome is unknown may be sent again this way, one already sent may not."""
    now = now or datetime.now(UTC)
    with unit_of_work() as session:
        if live_row(session, Customer, customer_id) is None:
            raise NotFound(f"no such customer_id: {customer_id}")
        recipients = current_addresses(session, customer_id)
        if not recipients:
            raise Conflict("The customer has no report recipients; set them first.")
        month = request.month or _previous_month(session, now)
        session.execute(
            insert(ReportDelivery)
            .values(customer_id=customer_id, month=month, recipients=recipients, created_by=actor)
            .on_conflict_do_nothing(index_elements=[ReportDelivery.customer_id, ReportDelivery.month])
        )
        delivery = session.scalars(
            select(ReportDelivery).where(
                ReportDelivery.customer_id == customer_id, ReportDelivery.month == month
            )
        ).one()
        _refuse_taken(delivery, now)
        delivery_id = delivery.id
    outcome = _attempt(delivery_id, actor, mailbox, now, states=(*RETRYABLE, "unknown"))
    with unit_of_work() as session:
        view = _view(session, _delivery(session, delivery_id))
    if outcome is None:
        raise Conflict("The report is being sent by another process right now.")
    if outcome != "sent":
        raise UpstreamError(f"The report mail could not be sent: {view.last_error}")
    return view


def _refuse_taken(delivery: ReportDelivery, now: datetime) -> None:
    if delivery.state == "sent":
        sent = delivery.sent_at.isoformat() if delivery.sent_at else "earlier"
        raise Conflict(f"The report for {delivery.month:%Y-%m} was already sent ({sent}).")
    if delivery.state == "sending" and delivery.claimed_at and delivery.claimed_at > now - SENDING_LEASE:
        raise Conflict("The report is being sent right now.")


def _delivery(session: Session, delivery_id: int) -> ReportDelivery:
    delivery = session.get(ReportDelivery, delivery_id)
    assert delivery is not None
    return delivery
