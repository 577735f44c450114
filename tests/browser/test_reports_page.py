"""The Reports page in the browser: last month by default, the overview worst first with its weekly
trend, a customer's report on screen, PDF and CSV downloads, recipients, preview and send now."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from tests.browser.conftest import PHONE, serious_accessibility_violations
from tests.reports.pdf_text import pdf_text
from tests.support.factories import a_customer, a_job, a_run

pytestmark = pytest.mark.browser
ZONE = ZoneInfo("Europe/Amsterdam")


OCTOBER = "from=2026-10-01&to=2026-10-31"


def october_days() -> list[datetime]:
    """Every day of October 2026 at 03:00 in the UI timezone."""
    return [
        datetime.combine(date(2026, 10, day), time(3), tzinfo=ZONE).astimezone(UTC) for day in range(1, 32)
    ]


@pytest.fixture
def two_customers(db: Session) -> dict[str, Any]:
    days = october_days()
    shaky = a_job(db, a_customer(db, "Shaky Ltd"), job_name="Nightly NAS")
    steady = a_job(db, a_customer(db, "Steady Inc"), job_name="Nightly VMs")
    for n, day in enumerate(days):
        a_run(db, shaky, at=day, status="failed" if n % 3 == 0 else "success")
        a_run(db, steady, at=day, status="success")
    db.commit()
    return {"shaky": shaky.customer, "steady": steady.customer, "days": len(days)}


def test_the_overview_is_worst_first_and_opens_a_customers_report(
    db: Session, open_site: Any, two_customers: dict[str, Any]
) -> None:
    page = open_site(f"#/reports?{OCTOBER}", role="Viewer")
    rows = page.locator("[data-testid=reports-overview] tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.locator("td:first-child")).to_have_text(["Shaky Ltd", "Steady Inc"])
    expect(rows.nth(1)).to_contain_text("100.0 %")
    assert rows.nth(0).locator(".trend-bar").count() >= 4  # a bar per week of the month

    rows.nth(0).get_by_role("link", name="Shaky Ltd").click()
    report = page.locator("[data-testid=customer-report]")
    expect(report.get_by_role("heading", level=2)).to_contain_text("Shaky Ltd")
    expect(report.locator("tbody tr")).to_have_count(1)
    expect(report.locator("tbody tr")).to_contain_text("Nightly NAS")
    failed = (two_customers["days"] + 2) // 3
    expect(report.locator("tbody tr td").nth(3)).to_have_text(str(failed))

    with page.expect_download() as pdf:
        report.get_by_role("button", name="Download PDF").click()
    assert pdf.value.suggested_filename.startswith("report-Shaky-Ltd-")
    text = pdf_text(Path(pdf.value.path()).read_bytes())
    assert "Shaky Ltd" in text and "Nightly NAS" in text
    with page.expect_download() as csv:
        report.get_by_role("button", name="Download CSV").click()
    assert csv.value.suggested_filename.endswith(".csv")
    assert page.errors == []


def test_an_operator_sets_recipients_previews_and_sends_now(
    db: Session, open_site: Any, graph: Any, two_customers: dict[str, Any]
) -> None:
    customer = two_customers["steady"]
    page = open_site(f"#/reports?{OCTOBER}&customer={customer.id}", role="Operator")
    recipients = page.get_by_label("Recipients (comma-separated)")
    recipients.fill("it@steady.example, not-an-address")
    page.get_by_role("button", name="Save recipients").click()
    expect(page.locator("[data-testid=customer-report] .text-danger")).to_contain_text("Addresses 1")
    recipients.fill("it@steady.example, boss@steady.example")
    page.get_by_role("button", name="Save recipients").click()
    expect(page.get_by_role("status").filter(has_text="Recipients saved.")).to_be_visible()

    page.get_by_role("button", name="Preview mail").click()
    preview = page.locator("[data-testid=mail-preview]")
    expect(preview).to_contain_text("it@steady.example, boss@steady.example")
    expect(preview).to_contain_text("Not sent yet.")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Send now").click()
    expect(page.get_by_role("status").filter(has_text="sent to it@steady.example")).to_be_visible()
    expect(preview).to_contain_text("sent on")
    assert [mail.to for mail in graph.sent] == [["it@steady.example", "boss@steady.example"]]
    assert page.errors == []


def test_a_viewer_sees_no_actions_and_the_page_passes_axe(
    db: Session, open_site: Any, two_customers: dict[str, Any]
) -> None:
    customer = two_customers["shaky"]
    for viewport in (None, PHONE):
        page = open_site(
            f"#/reports?customer={customer.id}", role="Viewer", **({"viewport": viewport} if viewport else {})
        )
        expect(page.locator("[data-testid=customer-report] tbody tr")).to_have_count(1)
        expect(page.get_by_role("button", name="Send now")).to_be_hidden()
        expect(page.get_by_label("Recipients (comma-separated)")).to_be_disabled()
        assert serious_accessibility_violations(page) == []


def test_the_period_is_last_month_by_default(db: Session, open_site: Any) -> None:
    page = open_site("#/reports", role="Viewer")
    expect(page.get_by_label("From")).not_to_have_value("")
    first = date.fromisoformat(page.get_by_label("From").input_value())
    last = date.fromisoformat(page.get_by_label("To").input_value())
    assert first.day == 1 and (first.year, first.month) == (last.year, last.month)
    assert (
        last < datetime.now(ZONE).date() and (last.replace(day=28) + timedelta(days=4)).day <= 4
    )  # a month's last day
    page.get_by_label("From").fill("2026-10-05")
    page.get_by_label("To").fill("2026-10-20")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"#/reports\?from=2026-10-05&to=2026-10-20$"))
