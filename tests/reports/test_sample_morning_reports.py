"""The must-show check on the sample morning: for every customer, the report's counts are the runs
GET /api/jobs/{id} lists for the period, counted here by effective status and local day; the PDF's
text holds the customer, the period, each job and its success rate; the overview agrees."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared_code import sample_morning
from shared_code.db.engine import get_sessionmaker
from shared_code.db.models import Customer
from tests.reports.pdf_text import pdf_text
from tests.support.api_client import ApiClient
from tests.support.database import TestDatabase, empty_every_table
from tests.test_sample_morning import MAILBOX, WEDNESDAY_MORNING, ZONE

FIRST_DAY = (WEDNESDAY_MORNING - timedelta(days=sample_morning.HISTORY_DAYS)).date()
LAST_DAY = WEDNESDAY_MORNING.date()
PERIOD = f"from={FIRST_DAY.isoformat()}&to={LAST_DAY.isoformat()}"
STATUSES = ("success", "warning", "failed", "missed")


@pytest.fixture(scope="module")
def morning(database: TestDatabase, host: Any, entra: Any) -> Iterator[tuple[Session, ApiClient]]:
    empty_every_table()
    sample_morning.stage(MAILBOX, now=WEDNESDAY_MORNING)
    session = get_sessionmaker()()
    try:
        yield session, ApiClient(host, entra)
    finally:
        session.close()


def runs_listed(api: ApiClient, job_id: int) -> list[dict[str, Any]]:
    """Every run of the job, page by page, as the job's page lists them."""
    runs, offset = [], 0
    while True:
        page = api.get(f"/api/jobs/{job_id}?offset={offset}&limit=200", role="Viewer").json()
        runs += page["runs"]
        if not page["runs_page"]["has_more"]:
            return runs
        offset += 200


def local_day(run: dict[str, Any]) -> date:
    return datetime.fromisoformat(run["run_at"]).astimezone(ZONE).date()


def counted(api: ApiClient, job_id: int) -> dict[str, int]:
    in_period = [r for r in runs_listed(api, job_id) if FIRST_DAY <= local_day(r) <= LAST_DAY]
    tally = Counter(r["effective_status"] for r in in_period)
    return {status: tally[status] for status in STATUSES}


def test_each_customers_counts_are_the_runs_its_jobs_list(morning: tuple[Session, ApiClient]) -> None:
    session, api = morning
    customers = list(session.scalars(select(Customer).order_by(Customer.id)))
    assert len(customers) >= 5
    for customer in customers:
        report = api.get(f"/api/reports/customers/{customer.id}?{PERIOD}", role="Viewer").json()
        assert report["customer"]["name"] == customer.name
        totals: Counter[str] = Counter()
        for job in report["jobs"]:
            assert job["runs"] == counted(api, job["job_id"]), (customer.name, job["job_name"])
            if not job["informational"]:
                totals.update(job["runs"])
                expected = sum(job["runs"].values())
                successful = job["runs"]["success"] + job["runs"]["warning"]
                assert job["success_rate"] == (round(successful / expected, 4) if expected else None)
        assert report["totals"]["runs"] == {status: totals[status] for status in STATUSES}, customer.name


def test_the_pdf_holds_customer_period_jobs_and_rates(morning: tuple[Session, ApiClient]) -> None:
    session, api = morning
    for customer in session.scalars(select(Customer)):
        report = api.get(f"/api/reports/customers/{customer.id}?{PERIOD}").json()
        pdf = api.get(f"/api/reports/customers/{customer.id}?{PERIOD}&format=pdf")
        assert pdf.status == 200 and pdf.body.startswith(b"%PDF")
        text = pdf_text(pdf.body)
        assert customer.name in text
        assert f"{FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}" in text
        for job in report["jobs"]:
            assert job["job_name"] in text, job["job_name"]
            if job["success_rate"] is not None:
                assert f"{job['success_rate'] * 100:.1f} %" in text, job["job_name"]


def test_the_overview_lists_every_customer_worst_first(morning: tuple[Session, ApiClient]) -> None:
    session, api = morning
    overview = api.get(f"/api/reports/overview?{PERIOD}&limit=200", role="Viewer").json()
    items = overview["items"]
    assert {i["customer_name"] for i in items} == set(session.scalars(select(Customer.name)))
    rates = [i["success_rate"] for i in items if i["success_rate"] is not None]
    assert rates == sorted(rates) and rates[0] < 1
    for item in items:
        report = api.get(f"/api/reports/customers/{item['customer_id']}?{PERIOD}").json()
        assert item["runs"] == report["totals"]["runs"]
        assert sum(w["expected_runs"] for w in item["weeks"]) == item["expected_runs"]
