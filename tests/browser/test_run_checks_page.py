"""Run Checks in the browser: grouping and badges, filters in the URL, bulk review, keyboard, copy."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared_code.db.models import ExternalTicket, JobRun
from tests.support.factories import T0, a_customer, a_job, a_remark, a_run, a_ticket, an_override

pytestmark = pytest.mark.browser


def rows(page):
    return page.locator("section[aria-labelledby=rc-title] tbody tr")


def test_runs_grouped_by_customer_and_job_with_their_badges_and_indicators(db: Session, open_site) -> None:
    contoso, adatum = a_customer(db, "Contoso"), a_customer(db, "Adatum")
    nightly = a_job(db, contoso, job_name="Nightly")
    files = a_job(db, adatum, job_name="Files")
    a_run(db, nightly, status="failed", at=T0)
    a_run(db, nightly, status="warning", at=T0 + timedelta(hours=1))
    an_override(db, job=files)
    a_run(db, files, status="warning")
    a_ticket(db, nightly)
    a_remark(db, nightly)
    db.commit()

    page = open_site("#/run-checks", role="Viewer")
    expect(rows(page)).to_have_count(3)
    expect(page.locator(".customer-name")).to_have_text(["Adatum", "Contoso"])
    nightly_card = page.locator(".job-group", has_text="Nightly")
    expect(nightly_card.locator(".status-badge")).to_have_text(["Warning", "Failed"])  # newest first
    expect(nightly_card.locator(".status-badge.text-bg-danger")).to_have_count(1)
    expect(nightly_card.get_by_label("1 open ticket(s)")).to_be_visible()
    expect(nightly_card.get_by_label("1 open remark(s)")).to_be_visible()
    files_card = page.locator(".job-group", has_text="Files")
    expect(files_card.locator(".status-badge.text-bg-success")).to_have_text("Success")
    expect(files_card.locator(".badge.text-bg-primary")).to_be_visible()
    expect(files_card.locator(".badge.text-bg-primary")).to_have_text("Override")
    # a viewer reads; selecting and reviewing are an operator's
    expect(page.get_by_role("button", name="Mark reviewed (0)")).to_be_hidden()
    expect(page.get_by_role("link", name="Audit log")).to_be_hidden()
    assert page.errors == []


def test_filters_live_in_the_url_with_several_statuses_and_informational_hidden_unless_asked(
    db: Session, open_site
) -> None:
    customer = a_customer(db, "Contoso")
    for name, status in (("Failing", "failed"), ("Warned", "warning"), ("Fine", "success")):
        a_run(db, a_job(db, customer, job_name=name), status=status)
    a_run(db, a_job(db, customer, job_name="Firmware notices", informational=True), status="success")
    db.commit()

    page = open_site("#/run-checks?status=failed,warning", role="Operator")
    expect(page.locator(".job-link")).to_have_text(["Failing", "Warned"])
    expect(page.get_by_label("Failed", exact=True)).to_be_checked()
    expect(page.get_by_label("Warning", exact=True)).to_be_checked()

    page.get_by_text("Success", exact=True).first.click()  # the status toggle's label
    expect(page).to_have_url(re.compile(r"status=failed(,|%2C)warning(,|%2C)success"))
    expect(page.locator(".job-link")).to_have_text(["Failing", "Fine", "Warned"])

    page.get_by_label("Show informational notices").check()
    expect(page.locator(".job-link")).to_have_text(["Failing", "Fine", "Firmware notices", "Warned"])
    assert "informational=1" in page.url
    page.reload()
    expect(page.locator(".job-link")).to_have_count(4)


def test_bulk_review_of_a_page_marks_every_run_done_in_place(db: Session, open_site) -> None:
    customer = a_customer(db)
    jobs = [a_job(db, customer, job_name=f"Job {n}") for n in range(3)]
    for job in jobs:
        for hour in range(4):
            a_run(db, job, at=T0 + timedelta(hours=hour))
    db.commit()

    page = open_site("#/run-checks", role="Operator")
    expect(rows(page)).to_have_count(12)
    checkboxes = page.locator("input[type=checkbox]")
    assert set(checkboxes.evaluate_all("els => els.map(e => e.getAttribute('autocomplete'))")) == {"off"}

    page.get_by_label("Select all runs of Job 1").check()
    expect(page.get_by_role("button", name="Mark reviewed (4)")).to_be_enabled()
    page.get_by_label("Select all on this page").check()
    page.get_by_role("button", name="Mark reviewed (12)").click()

    expect(page.get_by_role("status").filter(has_text="12 run(s) marked reviewed")).to_be_visible()
    expect(page.locator("tbody tr[data-reviewed=true]")).to_have_count(12)
    db.expire_all()
    assert db.scalars(select(JobRun).where(JobRun.reviewed_at.is_(None))).all() == []


def test_review_every_successful_run_on_the_page_in_one_action(db: Session, open_site) -> None:
    job = a_job(db)
    good = [a_run(db, job, status="success", at=T0 + timedelta(hours=h)) for h in range(3)]
    bad = a_run(db, job, status="failed", at=T0 + timedelta(hours=5))
    db.commit()

    page = open_site("#/run-checks", role="Operator")
    page.get_by_role("button", name="Review all successful on this page (3)").click()
    expect(page.locator("tbody tr[data-reviewed=true]")).to_have_count(3)
    db.expire_all()
    assert {r.id for r in db.scalars(select(JobRun).where(JobRun.reviewed_at.is_not(None)))} == {
        r.id for r in good
    }
    assert db.get(JobRun, bad.id).reviewed_at is None


def test_keyboard_moves_selects_and_opens(db: Session, open_site) -> None:
    job = a_job(db, job_name="Nightly")
    newest = a_run(db, job, at=T0 + timedelta(hours=2))
    older = a_run(db, job, at=T0)
    db.commit()

    page = open_site("#/run-checks", role="Operator")
    first = page.locator(f"#run-row-{newest.id}")
    first.focus()
    page.keyboard.press("ArrowDown")
    expect(page.locator(f"#run-row-{older.id}")).to_be_focused()
    page.keyboard.press("Space")
    expect(page.get_by_role("button", name="Mark reviewed (1)")).to_be_visible()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(f"#/runs/{older.id}$"))
    expect(page.get_by_role("heading", name="Run of Nightly")).to_be_visible()


def test_ticket_number_copies_with_a_tick_for_800_ms(db: Session, open_site) -> None:
    run = a_run(db, a_job(db))
    run.external_ticket = ExternalTicket(provider="autotask", external_id=4711, number="T20261120.0042")
    db.commit()

    page = open_site("#/run-checks", role="Viewer")
    button = page.get_by_role("button", name="Copy ticket number T20261120.0042")
    button.click()
    expect(button).to_have_text("✓")
    assert page.evaluate("navigator.clipboard.readText()") == "T20261120.0042"
    expect(button).to_have_text("⧉", timeout=2000)


def test_an_empty_list_says_so(db: Session, open_site) -> None:
    page = open_site("#/run-checks", role="Viewer")
    expect(page.get_by_text("No unreviewed runs")).to_be_visible()
