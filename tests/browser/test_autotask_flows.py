"""The Autotask flows end to end in the browser, against the fake Autotask on loopback: a ticket from
a run found in Run Checks, completed in Autotask and shown "Resolved by PSA" on the next visit; a
Resolve that meets time entries; a ticket deleted in Autotask."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from shared_code.db.models import JobRun
from shared_code.mail.directory import import_directory
from shared_code.runs.overrides import ObjectResult
from tests.support import fake_autotask
from tests.support.factories import a_customer, a_job, a_run
from tests.support.ticket_sync import legacy

pytestmark = pytest.mark.browser
SAMPLE_MAILBOX = Path(__file__).resolve().parents[1] / "fixtures" / "mail"


@pytest.fixture
def autotask_on(api: Any, autotask: Any) -> Any:
    """The integration enabled against the fake Autotask, its picklists refreshed, as an admin does."""
    assert api.put("/api/settings/autotask", body=fake_autotask.enabled_body()).status == 200
    assert api.post("/api/settings/autotask/refresh").status == 200
    return autotask


def a_failed_run_with_a_ticket(db: Session, api: Any, autotask: Any) -> tuple[JobRun, dict[str, Any]]:
    company = autotask.add_company("Acme Corp")
    customer = a_customer(
        db,
        "Acme",
        psa_company_provider="autotask",
        psa_company_id=company,
        psa_company_name="Acme Corp",
        psa_mapping_status="ok",
    )
    run = a_run(
        db,
        a_job(db, customer, job_name="Nightly SQL"),
        objects=(ObjectResult("SQL01", "failed", "VSS error"),),
    )
    db.commit()
    response = api.post(f"/api/runs/{run.id}/autotask-ticket", role="Operator")
    assert response.status in (200, 201), response.json()
    ticket = autotask.tickets[response.json()["autotask_ticket_id"]]
    return run, ticket


def test_sample_mailbox_to_an_approved_job_to_its_failed_run_to_an_autotask_ticket(
    db: Session, open_site, autotask_on
) -> None:
    autotask_on.add_company("Contoso Ltd")
    import_directory(SAMPLE_MAILBOX)
    page = open_site("#/inbox", role="Operator")
    mail = page.locator(".inbox-item", has_text="[Failed] Branch Office VMs")
    mail.get_by_role("button", name="Approve").click()
    mail.get_by_role("radio", name="New customer").check()
    mail.get_by_label("New customer name").fill("Contoso")
    mail.get_by_role("button", name="Approve job").click()
    expect(page.get_by_text("Job “Branch Office VMs” approved")).to_be_visible()

    page.get_by_role("link", name="Customers").click()
    row = page.locator("tr", has_text="Contoso")
    row.get_by_role("button", name="Map").click()
    row.get_by_label("Autotask company").fill("Contoso")
    row.get_by_role("button", name="Search").click()
    row.get_by_role("button", name=re.compile("Contoso Ltd")).click()
    expect(page.get_by_text("is mapped to Autotask company “Contoso Ltd”")).to_be_visible()

    page.get_by_role("link", name="Run Checks").click()
    job = page.locator(".job-group", has_text="Branch Office VMs")
    expect(job.locator(".status-badge")).to_have_text(["Failed"])
    job.locator("td.when a").click()
    page.get_by_role("button", name="Create Autotask ticket").click()
    outcome = page.get_by_test_id("outcome")
    expect(outcome).to_contain_text(re.compile(r"Autotask ticket T\d{8}\.\d{4} is linked to this run"))
    (ticket_id,) = autotask_on.tickets
    number = autotask_on.tickets[ticket_id]["ticketNumber"]
    expect(page.get_by_role("button", name=f"Copy ticket number {number}")).to_be_visible()
    expect(page.get_by_role("button", name="Create Autotask ticket")).to_have_count(0)  # one ticket per run
    assert autotask_on.tickets[ticket_id]["companyID"] == autotask_on_company(autotask_on, "Contoso Ltd")
    page.get_by_role("link", name="Run Checks").click()
    expect(job.get_by_role("button", name=f"Copy ticket number {number}")).to_be_visible()
    assert page.errors == []


def autotask_on_company(autotask: Any, name: str) -> int:
    return next(
        company_id for company_id, company in autotask.companies.items() if company["companyName"] == name
    )


def test_autotask_settings_test_connection_reference_data_and_field_errors(
    db: Session, open_site, autotask_on
) -> None:
    page = open_site("#/settings/autotask", role="Admin")
    expect(page.get_by_label("Autotask integration enabled")).to_be_checked()
    expect(page.get_by_label(re.compile("API secret"))).to_have_value("")  # write-only: never sent back
    expect(page.get_by_text("(stored; type to replace)")).to_be_visible()
    expect(page.get_by_label("Queue")).to_contain_text("Monitoring Alert")  # the refreshed picklists
    expect(page.get_by_label("The “completed” status")).to_have_value(str(fake_autotask.COMPLETE))

    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_test_id("test-result")).to_contain_text(
        re.compile(r"Connected to Autotask as .* API usage: \d+ of \d+ requests")
    )

    page.get_by_label(re.compile("API base URL")).fill("ftp://nowhere")
    page.get_by_role("button", name="Save").click()
    error = page.locator("#at-api_base_url-error")
    expect(error).to_be_visible()
    expect(error).not_to_be_empty()
    expect(page.get_by_role("alert").filter(has_text="Some fields need attention")).to_be_visible()


def test_resolve_on_a_ticket_with_time_entries_adds_the_note_and_the_run_stays_open(
    db: Session, api, open_site, autotask_on
) -> None:
    run, ticket = a_failed_run_with_a_ticket(db, api, autotask_on)
    autotask_on.add_time_entry(ticket["id"], hours=1.5)

    page = open_site(f"#/runs/{run.id}", role="Operator")
    page.get_by_role("button", name="Resolve ticket").click()
    outcome = page.get_by_test_id("outcome")
    expect(outcome).to_contain_text("time entr")
    expect(outcome).to_have_class(re.compile("alert-warning"))
    notes = [n for n in autotask_on.notes.values() if n["ticketID"] == ticket["id"]]
    assert [n["title"] for n in notes] == ["Backupchecks: resolve requested"]
    assert autotask_on.tickets[ticket["id"]]["status"] != fake_autotask.COMPLETE
    expect(page.get_by_text("Resolved by")).to_have_count(0)  # the run stays open
    db.expire_all()
    assert legacy(db, run.id).ticket_resolved_at is None


def test_resolve_without_time_entries_completes_the_ticket(db: Session, api, open_site, autotask_on) -> None:
    run, ticket = a_failed_run_with_a_ticket(db, api, autotask_on)
    page = open_site(f"#/runs/{run.id}", role="Operator")
    page.get_by_role("button", name="Resolve ticket").click()
    expect(page.get_by_test_id("outcome")).to_have_class(re.compile("alert-success"))
    expect(page.get_by_text("Resolved by Backupchecks", exact=True)).to_be_visible()
    assert autotask_on.tickets[ticket["id"]]["status"] == fake_autotask.COMPLETE
    expect(page.get_by_role("button", name="Resolve ticket")).to_have_count(0)


def test_a_ticket_deleted_in_autotask_shows_the_banner_and_blocks_its_actions(
    db: Session, api, open_site, autotask_on
) -> None:
    run, ticket = a_failed_run_with_a_ticket(db, api, autotask_on)
    autotask_on.delete_ticket(ticket["id"])

    page = open_site("#/run-checks", role="Operator")
    expect(page.get_by_test_id("deleted-banner")).to_be_visible(timeout=15000)
    expect(page.locator(f"tr[data-run-id='{run.id}']").get_by_text("Deleted in PSA")).to_be_visible()

    page.goto(page.url.split("#")[0] + f"#/runs/{run.id}")
    expect(page.get_by_test_id("deleted-warning")).to_contain_text(ticket["ticketNumber"])
    expect(page.get_by_role("button", name="Resolve ticket")).to_have_count(0)
    expect(page.get_by_test_id("resolve-blocked")).to_be_visible()
    # a replacement may be made: create and link stay available
    expect(page.get_by_role("button", name="Create Autotask ticket")).to_be_visible()


def test_a_ticket_completed_in_autotask_shows_resolved_by_psa_when_run_checks_is_opened_again(
    db: Session, api, open_site, autotask_on
) -> None:
    run, ticket = a_failed_run_with_a_ticket(db, api, autotask_on)
    page = open_site("#/run-checks", role="Operator")
    row = page.locator(f"tr[data-run-id='{run.id}']")
    expect(row.get_by_role("button", name=f"Copy ticket number {ticket['ticketNumber']}")).to_be_visible()
    expect(row.get_by_text("Resolved by PSA")).to_have_count(0)
    # The first opening's poll must have seen the ticket active before Autotask completes it;
    # otherwise that poll (of a page already left) is the one that resolves the run.
    wait_until(
        lambda: autotask_on.count("POST", contains="Tickets/query") > 0,
        "the first poll never reached Autotask",
    )
    expect(page.get_by_text("Checking Autotask tickets…")).to_be_hidden()

    autotask_on.set_status(ticket["id"], fake_autotask.COMPLETE)  # an engineer completes it in Autotask
    page.get_by_role("link", name="Jobs", exact=True).click()
    page.get_by_role("link", name="Run Checks").click()  # reopened: the poll runs after the rows
    expect(row.get_by_text("Resolved by PSA")).to_be_visible(timeout=15000)
    db.expire_all()
    assert legacy(db, run.id).ticket_resolution_origin == "psa"
    assert page.errors == []


def wait_until(condition: Callable[[], bool], failure: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, failure
        time.sleep(0.05)
