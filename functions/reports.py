"""Customer reports: a customer's report (JSON, CSV, PDF), the overview, report recipients, and the
monthly delivery through Graph (the hourly timer, "preview" and "send now")."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import azure.functions as func

from functions.http import api_route
from shared_code.api.auth import Role
from shared_code.api.routing import Call, RawResponse

if TYPE_CHECKING:
    from shared_code.reports.delivery import DeliveryPreview, DeliveryView
    from shared_code.reports.recipients import Recipients
    from shared_code.reports.report import CustomerReport, Overview

bp = func.Blueprint()
log = logging.getLogger(__name__)
REPORT = "shared_code.reports.report"
DELIVERY = "shared_code.reports.delivery"
RECIPIENTS = "shared_code.reports.recipients"


@api_route(
    bp,
    "GET",
    "reports/customers/{customer_id:int}",
    role=Role.VIEWER,
    tag="reports",
    query=f"{REPORT}:CustomerReportQuery",
    response=f"{REPORT}:CustomerReport",
    also_serves=("text/csv", "application/pdf"),
    errors=(404,),
)
def reports_customer(call: Call) -> CustomerReport | RawResponse:
    """A customer's report for a period (last month by default): JSON, CSV (format=csv) or PDF (format=pdf)."""
    from shared_code.reports.exports import exported
    from shared_code.reports.report import customer_report, report_period

    report = customer_report(call.db, call.path["customer_id"], report_period(call.db, call.query))
    if call.query.format == "json":
        return report
    file = exported(report, call.query.format)
    return RawResponse(
        file.body, content_type=file.content_type, headers={"Content-Disposition": file.disposition}
    )


@api_route(
    bp,
    "GET",
    "reports/overview",
    role=Role.VIEWER,
    tag="reports",
    query=f"{REPORT}:OverviewQuery",
    response=f"{REPORT}:Overview",
)
def reports_overview(call: Call) -> Overview:
    """Every active customer's success rate and run counts for a period, worst first, with a weekly trend."""
    from shared_code.reports.report import overview, report_period

    return overview(call.db, call.query, report_period(call.db, call.query))


@api_route(
    bp,
    "GET",
    "reports/customers/{customer_id:int}/recipients",
    role=Role.VIEWER,
    tag="reports",
    response=f"{RECIPIENTS}:Recipients",
    errors=(404,),
)
def reports_recipients_get(call: Call) -> Recipients:
    """Who receives the customer's monthly report."""
    from shared_code.reports.recipients import recipients_of

    return recipients_of(call.db, call.path["customer_id"])


@api_route(
    bp,
    "PUT",
    "reports/customers/{customer_id:int}/recipients",
    role=Role.OPERATOR,
    tag="reports",
    body=f"{RECIPIENTS}:RecipientsChange",
    response=f"{RECIPIENTS}:Recipients",
    errors=(404,),
)
def reports_recipients_put(call: Call) -> Recipients:
    """Set who receives the customer's monthly report (an empty list sends none)."""
    from shared_code.reports.recipients import set_recipients

    return set_recipients(call.db, call.path["customer_id"], call.body, call.actor)


@api_route(
    bp,
    "GET",
    "reports/customers/{customer_id:int}/delivery",
    role=Role.VIEWER,
    tag="reports",
    query=f"{DELIVERY}:MonthQuery",
    response=f"{DELIVERY}:DeliveryPreview",
    errors=(404,),
)
def reports_delivery_preview(call: Call) -> DeliveryPreview:
    """Preview the monthly mail (last month by default): recipients, subject, text, and what became of it."""
    from shared_code.reports.delivery import preview

    return preview(call.db, call.path["customer_id"], call.query)


@api_route(
    bp,
    "POST",
    "reports/customers/{customer_id:int}/send",
    role=Role.OPERATOR,
    tag="reports",
    body=f"{DELIVERY}:SendRequest",
    response=f"{DELIVERY}:DeliveryView",
    errors=(404, 409, 502),
)
def reports_send_now(call: Call) -> DeliveryView:
    """Send the customer's monthly report now (once per month: a month already sent is a 409)."""
    from shared_code.reports.delivery import send_now

    return send_now(call.path["customer_id"], call.body, call.actor)


@bp.function_name("monthly_reports")
@bp.timer_trigger(arg_name="timer", schedule="0 20 * * * *", run_on_startup=False)
def monthly_reports_timer(timer: func.TimerRequest) -> None:
    """Hourly; from REPORT_SEND_HOUR on the 1st (UI timezone) it mails last month's reports, and
    retries failed sends later in the month."""
    from shared_code.reports.delivery import deliver_monthly_reports

    result = deliver_monthly_reports()
    log.info("monthly reports: %d claimed, %d sent, %d failed", result.claimed, result.sent, result.failed)
