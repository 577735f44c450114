"""The morning round in the browser (issue 24): reasons on screen, pickers, the banner that names
what needs attention, privacy of the mail view, history strips, the keyboard queue and snooze,
failures grouped by cause, and "success, but …" drift."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler
from typing import ClassVar

import pytest
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from shared_code.runs.overrides import ObjectResult
from tests.support.factories import T0, a_customer, a_job, a_mail, a_run, a_ticket
from tests.support.loopback import LoopbackServer

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


# --- 5. pickers, never ids ------------------------------------------------------------------------------


def test_the_approve_form_preselects_the_customer_the_api_suggests(db: Session, open_site) -> None:
    fabrikam = a_customer(db, "Fabrikam")
    a_job(db, fabrikam, from_address="veeam@fabrikam.test", job_name="Old job")
    mail = a_mail(
        db,
        location="inbox",
        from_address="veeam@fabrikam.test",
        backup_software="Veeam",
        backup_type="Backup Job",
        job_name="New job",
        parsed_status="failed",
        subject="[Failed] New job",
    )
    db.commit()

    page = open_site("#/inbox", role="Operator")
    item = page.locator(".inbox-item", has_text="[Failed] New job")
    item.get_by_role("button", name="Approve").click()
    expect(item.get_by_role("combobox", name="Customer")).to_have_value("Fabrikam")
    expect(item.get_by_text("Suggested: Fabrikam")).to_be_visible()
    item.get_by_role("button", name="Approve job").click()
    expect(page.get_by_role("status").filter(has_text="Job “New job” approved")).to_be_visible()
    db.expire_all()
    assert db.get(type(mail), mail.id).job_id is not None
    assert page.errors == []


def test_a_customer_picker_finds_any_of_hundreds_of_customers_on_the_server(db: Session, open_site) -> None:
    for n in range(250):
        a_customer(db, f"Customer {n:03d}")
    last = a_customer(db, "Zeta Logistics")
    a_run(db, a_job(db, last, job_name="Zeta nightly"))
    a_run(db, a_job(db, a_customer(db, "Alpha"), job_name="Alpha nightly"))
    db.commit()

    page = open_site("#/run-checks", role="Viewer")
    picker = page.get_by_role("combobox", name="Customer")
    picker.fill("zeta")
    expect(page.get_by_role("option")).to_have_text(["Zeta Logistics"])
    picker.press("Enter")
    expect(page).to_have_url(re.compile(f"customer_id={last.id}"))
    expect(page.locator(".job-link")).to_have_text(["Zeta nightly"])
    page.reload()
    expect(page.get_by_role("combobox", name="Customer")).to_have_value("Zeta Logistics")


def test_add_override_from_a_job_page_previews_and_changes_the_waiting_runs(db: Session, open_site) -> None:
    job = a_job(db, a_customer(db, "Contoso"), job_name="SQL nightly")
    waiting = [a_run(db, job, status="warning", at=T0 + timedelta(hours=h)) for h in (0, 1)]
    db.commit()

    page = open_site(f"#/jobs/{job.id}", role="Operator")
    page.get_by_role("link", name="Add override").click()
    expect(page.get_by_role("combobox", name="Job")).to_have_value("Contoso · SQL nightly")
    page.get_by_label("When status is").select_option("warning")
    expect(page.get_by_test_id("override-preview")).to_have_text(
        "Saving it changes the status of 2 run(s) now."
    )
    page.get_by_label("Reason").fill("Known warning")
    page.get_by_role("button", name="Add override").click()
    expect(page.get_by_role("status").filter(has_text="2 run(s) changed status")).to_be_visible()
    db.expire_all()
    assert {db.get(type(r), r.id).effective_status for r in waiting} == {"success"}


def test_a_ticket_names_its_jobs_through_a_picker(db: Session, open_site) -> None:
    job = a_job(db, a_customer(db, "Northwind"), job_name="File server")
    db.commit()

    page = open_site("#/tickets", role="Operator")
    page.get_by_label("Description").fill("NAS disk replaced")
    page.get_by_role("combobox", name="Jobs").fill("north")
    page.get_by_role("option", name="Northwind · File server").click()
    expect(page.locator(".chosen-job")).to_have_text(["Northwind · File server"])
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_text("Ticket created.")).to_be_visible()
    expect(page.locator(".list-group-item", has_text="NAS disk replaced")).to_contain_text(str(job.id))


# --- 6. the banner names what needs attention and links it ----------------------------------------------


def test_the_banner_names_the_overdue_job_and_links_its_page(db: Session, open_site) -> None:
    job = a_job(
        db, a_customer(db, "Contoso"), job_name="Nightly", schedule_kind="daily", schedule_time=time(2, 0)
    )
    a_run(db, job, status="success", at=datetime.now(UTC) - timedelta(days=3))
    db.commit()

    page = open_site("#/run-checks", role="Viewer")
    banner = page.get_by_test_id("pipeline-banner")
    expect(banner).to_contain_text("1 job(s) are overdue by their learned schedule: Contoso · Nightly.")
    banner.get_by_role("link", name=re.compile("Open Contoso · Nightly")).click()
    expect(page).to_have_url(re.compile(f"#/jobs/{job.id}$"))
    expect(page.get_by_role("heading", name="Nightly", exact=True)).to_be_visible()


# --- 7. privacy and the browser ------------------------------------------------------------------------


class SenderServer(BaseHTTPRequestHandler):
    """The sender's web server: records every request a reader's browser makes to it."""

    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        SenderServer.seen.append(self.path)
        self.send_response(200)
        self.send_header("content-type", "image/gif" if self.path.endswith(".gif") else "text/css")
        self.end_headers()
        self.wfile.write(b"GIF89a" if self.path.endswith(".gif") else b"body{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def sender() -> Iterator[LoopbackServer]:
    server = LoopbackServer(SenderServer, "sender")
    SenderServer.seen = []
    server.start()
    yield server
    server.stop()


def test_a_stored_mail_loads_nothing_remote_until_asked(db: Session, open_site, sender) -> None:
    remote = f"http://127.0.0.1:{sender.port}"
    mail = a_mail(
        db,
        location="inbox",
        parse_status="unparsed",
        subject="Tracked report",
        html_body=f'<link rel="stylesheet" href="{remote}/css"><p>Report</p><img src="{remote}/pixel.gif" alt="">',
    )
    db.commit()

    page = open_site(f"#/mails/{mail.id}", role="Viewer")
    expect(page.frame_locator("iframe.mail-frame").get_by_text("Report")).to_be_visible()
    page.wait_for_timeout(300)  # time for a request that must not come
    assert SenderServer.seen == []
    page.get_by_role("button", name="Show remote content").click()
    expect(page.get_by_role("button", name="Show remote content")).to_be_hidden()
    deadline = datetime.now(UTC) + timedelta(seconds=5)
    while "/pixel.gif" not in SenderServer.seen and datetime.now(UTC) < deadline:
        page.wait_for_timeout(50)
    assert "/pixel.gif" in SenderServer.seen
    assert "/css" not in SenderServer.seen  # the site's own policy never loads a stranger's styles


def test_every_page_carries_a_csp_and_loads_without_a_console_error(db: Session, open_site) -> None:
    a_run(db, a_job(db, job_name="Nightly"))
    db.commit()
    page = open_site("#/run-checks", role="Viewer")
    console: list[str] = []
    page.on("console", lambda message: message.type == "error" and console.append(message.text))
    page.on("response", lambda response: response.status >= 400 and console.append(response.url))
    response = page.reload()
    assert "script-src 'self' 'unsafe-eval'" in response.headers["content-security-policy"]
    expect(page.locator(".job-link")).to_have_text(["Nightly"])
    page.get_by_role("link", name="Inbox").click()
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    assert console == []
    assert page.errors == []


def test_indicators_are_icons_the_navbar_marks_the_page_and_no_autotask_create_while_disabled(
    db: Session, open_site
) -> None:
    job = a_job(db, job_name="Nightly")
    run = a_run(db, job)
    a_ticket(db, job)
    db.commit()

    page = open_site("#/run-checks", role="Operator")
    expect(page.locator(".job-group svg.icon use[href='#i-ticket']")).to_have_count(1)
    assert "🎫" not in page.content()
    expect(page.get_by_role("link", name="Run Checks")).to_have_attribute("aria-current", "page")
    page.goto(page.url.split("#")[0] + f"#/jobs/{job.id}?run={run.id}")
    expect(page.get_by_role("link", name="Jobs", exact=True)).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("button", name="Link existing")).to_be_visible()
    expect(page.get_by_role("button", name="Create Autotask ticket")).to_be_hidden()


# --- 3. a history per job ------------------------------------------------------------------------------


def test_history_strips_in_run_checks_jobs_and_the_job_page_open_the_run(db: Session, open_site) -> None:
    job = a_job(db, a_customer(db, "Contoso"), job_name="Nightly")
    now = datetime.now(UTC)
    old = a_run(db, job, at=now - timedelta(days=2), objects=failed_vms(("SRV1", "Disk full")))
    old.reviewed_at = now
    a_run(db, job, status="warning", at=now - timedelta(minutes=5))
    db.commit()

    page = open_site("#/run-checks", role="Viewer")
    strip = page.locator(".job-group", has_text="Nightly").get_by_test_id("strip")
    expect(strip.locator(".day")).to_have_count(14)
    square = strip.locator(f"a[href='#/runs/{old.id}']")
    expect(square).to_have_class(re.compile("day-failed.*day-reviewed"))
    assert "Failed — 1 of 1 objects failed: SRV1 — Disk full · reviewed" in square.get_attribute("title")
    square.click()
    expect(page).to_have_url(re.compile(f"#/runs/{old.id}$"))

    page.get_by_role("link", name="Jobs", exact=True).click()
    row_strip = page.locator("tr", has_text="Nightly").get_by_test_id("strip")
    expect(row_strip.locator(".day")).to_have_count(14)
    row_strip.locator(".day-failed").click()
    expect(page).to_have_url(re.compile(f"#/jobs/{job.id}\\?run={old.id}$"))
    expect(page.get_by_test_id("strip").locator(".day-warning")).to_have_count(1)
    assert page.errors == []
