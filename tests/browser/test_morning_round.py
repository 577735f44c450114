"""The morning round in the browser (issue 24): reasons on screen, pickers, the banner that names
what needs attention, privacy of the mail view, history strips, the keyboard queue and snooze,
failures grouped by cause, and "success, but …" drift."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from shared_code.runs.overrides import ObjectResult
from tests.support.factories import a_job, a_mail, a_run

pytestmark = pytest.mark.browser


def failed_vms(*pairs: tuple[str, str], healthy: int = 0) -> tuple[ObjectResult, ...]:
    bad = [ObjectResult(name, "failed", message) for name, message in pairs]
    return tuple(bad + [ObjectResult(f"VM-OK{n:02d}", "success", None) for n in range(healthy)])


# --- 1. reasons on screen ------------------------------------------------------------------------------


def test_a_failed_row_says_why_with_the_rest_one_click_away(db: Session, open_site) -> None:
    job = a_job(db, job_name="Cluster")
    run = a_run(
        db,
        job,
        objects=failed_vms(
            ("VM-SQL01", "Changed block tracking reset"), ("VM-APP02", "Snapshot timed out"), healthy=34
        ),
    )
    db.commit()

    page = open_site("#/run-checks", role="Viewer")
    reason = page.locator(f"#run-row-{run.id} [data-testid=reason]")
    expect(reason).to_contain_text("2 of 36 objects failed: VM-SQL01 — Changed block tracking reset")
    expect(reason.get_by_text("VM-APP02")).to_be_hidden()
    reason.locator("summary").click()
    expect(reason.get_by_text("VM-APP02")).to_be_visible()
    assert page.errors == []


def test_the_inbox_and_the_mail_page_give_the_reason_a_mail_was_not_parsed(db: Session, open_site) -> None:
    mail = a_mail(
        db,
        location="inbox",
        parse_status="unparsed",
        parse_error="not a backup report: an automatic reply",
        subject="Out of office",
        text_body="I am away.",
    )
    db.commit()

    page = open_site("#/inbox", role="Viewer")
    item = page.locator(".inbox-item", has_text="Out of office")
    expect(item.locator(".parse-reason")).to_have_text("Not parsed: Not a backup report: an automatic reply.")
    expect(page.get_by_text("No parser recognises this mail.")).to_have_count(0)
    item.get_by_role("link", name="Out of office").click()
    expect(page).to_have_url(re.compile(f"#/mails/{mail.id}$"))
    expect(page.locator("p.parse-reason")).to_have_text(
        "Not parsed: Not a backup report: an automatic reply."
    )
