"""A customer's report and the overview of every customer, as the API returns them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from shared_code.app_settings import load_app_settings, ui_zone
from shared_code.config import get_settings
from shared_code.db.live import live_row
from shared_code.db.models import Customer
from shared_code.errors import NotFound
from shared_code.reports import evidence, figures
from shared_code.reports.evidence import ReportOverride, ReportPsaTicket, ReportSnooze, ReportTicket
from shared_code.reports.figures import (
    CustomerFigures,
    JobFigures,
    MissedRun,
    Rate,
    RunCounts,
    WeekFigures,
    Window,
)
from shared_code.reports.period import Period, PeriodQuery, period_of
from shared_code.schema.paging import PageInfo, PageQuery, page_of, paginated

DEFINITIONS = {
    "expected_runs": "Every run of the period counts once: a report the job sent (whatever its status) "
    "or a missed run, booked when a scheduled run did not arrive. Informational jobs (update notices) "
    "are listed apart and count nowhere.",
    "success_rate": "Successful expected runs divided by expected runs. A run counts by its effective "
    "status, after overrides. Success and warning are successful (a warning's backup completed; "
    "warnings are still counted on their own); failed and missed are not.",
    "longest_failing_streak": "The most consecutive days with a run on which the job's last run "
    "failed or was missed.",
    "tickets": "Tickets opened in the period: internal tickets scoped to the customer's jobs or linked "
    "to their runs, and PSA tickets of the customer's runs, with the hours from opening to resolution.",
    "snoozes": "Runs of the period an operator snoozed (known, waiting for the next run): they left the "
    "review queue without being reviewed and still count by their status.",
    "overrides": "Overrides in force at any time in the period whose scope takes in the customer "
    "(global, the customer, or one of its jobs): who made them, why, and their window.",
}

ReportFormat = Literal["json", "csv", "pdf"]


class CustomerReportQuery(PeriodQuery):
    format: ReportFormat = Field("json", description="json, csv (one row per job) or pdf.")


class OverviewQuery(PeriodQuery, PageQuery):
    pass


class CustomerName(BaseModel):
    id: int
    name: str


class CustomerReport(BaseModel):
    msp_name: str
    customer: CustomerName
    period: Period
    totals: Rate = Field(description="All jobs but the informational ones.")
    jobs: list[JobFigures] = Field(description="Per job; informational jobs last.")
    weeks: list[WeekFigures] = Field(description="The success rate per week (Monday first).")
    missed_runs: list[MissedRun] = Field(description=f"At most {figures.MISSED_RUNS_LISTED}, oldest first.")
    tickets: list[ReportTicket]
    psa_tickets: list[ReportPsaTicket]
    overrides: list[ReportOverride]
    snoozes: list[ReportSnooze]
    definitions: dict[str, str]
    generated_at: datetime


class OverviewItem(CustomerFigures):
    weeks: list[WeekFigures] = Field(description="The weekly trend.")


class Overview(BaseModel):
    period: Period
    items: list[OverviewItem] = Field(description="Worst first: lowest success rate, then most failing runs.")
    page: PageInfo


def report_period(session: Session, query: PeriodQuery, now: datetime | None = None) -> Period:
    return period_of(query, ui_zone(load_app_settings(session)), now or datetime.now(UTC))


def customer_report(session: Session, customer_id: int, period: Period) -> CustomerReport:
    customer = live_row(session, Customer, customer_id)
    if customer is None:
        raise NotFound(f"no such customer_id: {customer_id}")
    window = Window.of(period)
    jobs = figures.job_figures(session, customer_id, window)
    totals = sum((job.runs for job in jobs if not job.informational), RunCounts())
    return CustomerReport(
        msp_name=get_settings().report_msp_name,
        customer=CustomerName(id=customer.id, name=customer.name),
        period=period,
        totals=Rate.of(totals),
        jobs=jobs,
        weeks=figures.weekly_figures(session, [customer_id], window)[customer_id],
        missed_runs=figures.missed_runs(session, customer_id, window),
        tickets=evidence.internal_tickets(session, customer_id, window),
        psa_tickets=evidence.psa_tickets(session, customer_id, window),
        overrides=evidence.overrides_in_force(session, customer_id, window),
        snoozes=evidence.snoozes(session, customer_id, window),
        definitions=DEFINITIONS,
        generated_at=datetime.now(UTC),
    )


def overview(session: Session, query: OverviewQuery, period: Period) -> Overview:
    window = Window.of(period)
    rows, page = page_of(list(session.execute(paginated(figures.overview_statement(window), query))), query)
    customers = [figures.customer_figures(row) for row in rows]
    weeks = figures.weekly_figures(session, [c.customer_id for c in customers], window)
    return Overview(
        period=period,
        items=[OverviewItem(**c.model_dump(), weeks=weeks[c.customer_id]) for c in customers],
        page=page,
    )
