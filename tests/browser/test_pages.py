"""The other pages in the browser: the Inbox approval that starts it all, run details, jobs with the
customer filter, errors in words, and axe-core on every page at desktop and phone width."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from shared_code.db.models import ExternalTicket, GraphSubscription
from shared_code.mail.directory import import_directory
from tests.browser.conftest import DESKTOP, PHONE, serious_accessibility_violations
from tests.support.factories import a_customer, a_job, a_remark, a_run, a_ticket

pytestmark = pytest.mark.browser
SAMPLE_MAILBOX = Path(__file__).resolve().parents[1] / "fixtures" / "mail"


def test_sample_mailbox_to_a_job_approved_from_the_inbox_to_its_failed_run_in_run_checks(
    db: Session, open_site
) -> None:
    import_directory(SAMPLE_MAILBOX)
    page = open_site("#/inbox", role="Operator")
    mail = page.locator(".inbox-item", has_text="[Failed] Branch Office VMs")
    expect(mail).to_contain_text("Failed")
    mail.get_by_role("button", name="Approve").click()
    mail.get_by_role("radio", name="New customer").check()
    mail.get_by_label("New customer name").fill("Contoso")
    mail.get_by_role("button", name="Approve job").click()
    expect(page.get_by_role("status").filter(has_text="Job “Branch Office VMs” approved")).to_be_visible()
    expect(page.locator(".inbox-item", has_text="[Failed] Branch Office VMs")).to_have_count(0)

    page.get_by_role("link", name="Run Checks").click()
    job = page.locator(".job-group", has_text="Branch Office VMs")
    expect(job.locator(".status-badge")).to_have_text(["Failed"])
    expect(page.locator(".customer-name")).to_have_text(["Contoso"])
    job.locator("td.when a").click()
    expect(page.get_by_role("heading", name=re.compile("Run of Branch Office VMs"))).to_be_visible()
    frame = page.locator("iframe.mail-frame")
    assert frame.get_attribute("sandbox") == ""  # no scripts, no same origin
    expect(page.locator(".objects tbody tr:visible")).to_have_count(2)
    assert page.errors == []


def test_approval_without_a_customer_is_refused_in_words(db: Session, open_site) -> None:
    import_directory(SAMPLE_MAILBOX)
    page = open_site("#/inbox", role="Operator")
    mail = page.locator(".inbox-item").first
    mail.get_by_role("button", name="Approve").click()
    mail.get_by_role("radio", name="New customer").check()
    mail.get_by_role("button", name="Approve job").click()
    expect(mail.get_by_role("alert")).to_have_text("Enter the new customer's name.")


def test_run_details_add_a_remark_and_show_tickets_from_both_sources(db: Session, open_site) -> None:
    job = a_job(db, job_name="Nightly")
    run = a_run(db, job)
    a_ticket(db, job, code="T20261120.0001", description="Disk replaced")
    db.commit()

    page = open_site(f"#/jobs/{job.id}?run={run.id}", role="Operator")
    expect(page.get_by_role("heading", name="Nightly", exact=True)).to_be_visible()
    expect(page.locator(f"tr[data-run-id='{run.id}']")).to_have_class(re.compile("table-info"))
    expect(page.get_by_text("T20261120.0001")).to_be_visible()
    page.get_by_label("Text").fill("Customer is moving the NAS")
    page.get_by_role("button", name="Add remark").click()
    expect(page.get_by_text("Remark added.")).to_be_visible()
    expect(page.get_by_text("Customer is moving the NAS")).to_be_visible()


def test_customer_names_lead_to_their_jobs_with_a_filter_banner_and_clear_filter(
    db: Session, open_site
) -> None:
    contoso, adatum = a_customer(db, "Contoso"), a_customer(db, "Adatum")
    a_job(db, contoso, job_name="Contoso nightly")
    a_job(db, adatum, job_name="Adatum files")
    db.commit()

    page = open_site("#/customers", role="Viewer")
    page.get_by_role("link", name="Contoso").click()
    expect(page.get_by_test_id("filter-banner")).to_contain_text("Contoso")
    expect(page.get_by_role("link", name="Contoso nightly")).to_be_visible()
    expect(page.get_by_role("link", name="Adatum files")).to_have_count(0)
    page.get_by_role("link", name="Clear filter").click()
    expect(page.get_by_role("link", name="Adatum files")).to_be_visible()
    expect(page.get_by_test_id("filter-banner")).to_have_count(0)


def test_api_errors_reach_the_operator_in_words(db: Session, open_site) -> None:
    page = open_site("#/runs/987654", role="Viewer")
    alert = page.get_by_role("alert").filter(has_text="987654")
    expect(alert).to_be_visible()
    assert "{" not in alert.inner_text()


def test_the_pipeline_banner_shows_on_every_page_while_the_subscription_is_missing(
    db: Session, open_site
) -> None:
    page = open_site("#/run-checks", role="Viewer")
    banner = page.get_by_test_id("pipeline-banner")
    expect(banner).to_contain_text("There is no Graph subscription")
    page.get_by_role("link", name="Inbox").click()
    expect(banner).to_contain_text("There is no Graph subscription")

    db.add(GraphSubscription(id="sub-1", resource="inbox", expires_at=datetime.now(UTC) + timedelta(days=2)))
    db.commit()
    page.reload()
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    expect(banner).to_have_count(0)


def test_admin_menus_only_for_admins(db: Session, open_site) -> None:
    page = open_site("#/run-checks", role="Operator")
    expect(page.get_by_role("link", name="Inbox")).to_be_visible()
    expect(page.get_by_role("link", name="Audit log")).to_have_count(0)
    page = open_site("#/run-checks", role="Admin")
    page.get_by_role("button", name="Settings").click()
    expect(page.get_by_role("link", name="Audit log")).to_be_visible()
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()


@pytest.mark.parametrize("width", [1200, 1280, 1920])
def test_every_section_and_the_signed_in_name_fit_the_navbar_from_1200_px(
    db: Session, open_site, width
) -> None:
    page = open_site("#/run-checks", role="Admin", viewport={"width": width, "height": 800})
    account = page.get_by_role("button", name=re.compile("^Signed in as "))
    expect(account).to_be_visible()
    bar = page.locator("nav .container-fluid").bounding_box()
    for control in [*page.locator("nav .navbar-nav > li > .nav-link").all(), account]:
        box = control.bounding_box()
        assert box["x"] + box["width"] <= bar["x"] + bar["width"], control.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") == width
    account.click()  # the whole name and the roles are one click away
    expect(page.locator(".account .dropdown-menu")).to_contain_text(re.compile(r"Roles: .*Admin"))


def test_navbar_collapses_on_a_phone(db: Session, open_site) -> None:
    page = open_site("#/run-checks", role="Viewer", viewport=PHONE)
    expect(page.get_by_role("link", name="Inbox")).to_be_hidden()
    page.get_by_role("button", name="Menu").click()
    expect(page.get_by_role("link", name="Inbox")).to_be_visible()


PAGES = [
    "#/run-checks",
    "#/daily-jobs",
    "#/jobs",
    "#/inbox",
    "#/customers",
    "#/overrides",
    "#/tickets",
    "#/remarks",
    "#/parsers",
    "#/reports",
    "#/audit-log",
    "#/settings/psa",
    "#/settings/autotask",
    "#/settings/connectwise",
]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_no_serious_or_critical_accessibility_violation_on_any_page(db: Session, open_site, viewport) -> None:
    import_directory(SAMPLE_MAILBOX)
    job = a_job(db, a_customer(db, "Contoso"), job_name="Nightly")
    run = a_run(db, job)
    run.external_ticket = ExternalTicket(provider="autotask", external_id=4711, number="T20261120.0042")
    a_ticket(db, job)
    a_remark(db, job)
    db.commit()

    page = open_site("#/run-checks", role="Admin", viewport=viewport)
    found = {}
    for route in [*PAGES, f"#/runs/{run.id}", f"#/jobs/{job.id}?run={run.id}"]:
        page.goto(page.url.split("#")[0] + route)
        page.wait_for_load_state("networkidle")
        expect(page.locator("main [role=status] .spinner-border:visible")).to_have_count(0)
        if violations := serious_accessibility_violations(page):
            found[route] = violations
    assert found == {}
    assert page.errors == []
