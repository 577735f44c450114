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

from shared_code.db.models import MailMessage
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


def test_a_mail_that_reuses_another_mails_message_id_is_marked_in_the_inbox(db: Session, open_site) -> None:
    """Issue 21: both mails are kept, the later one says whose Message-ID it reused and links that mail."""
    from shared_code.mail.ingest import ingest
    from shared_code.mail.sources import RawMail
    from tests.mail.mails import NEWSLETTER, VEEAM, mime

    first = ingest(RawMail("directory", "/a.eml", mime(VEEAM, message_id="<reused@example.test>")))
    second = ingest(RawMail("directory", "/b.eml", mime(NEWSLETTER, message_id="<reused@example.test>")))

    page = open_site("#/inbox", role="Viewer")
    marked = page.locator(f'.inbox-item[data-mail-id="{second.mail_id}"] [data-testid=collision]')
    expect(marked).to_contain_text("Message-ID collision")
    expect(marked.get_by_role("link")).to_have_attribute("href", f"#/mails/{first.mail_id}")
    expect(
        page.locator(f'.inbox-item[data-mail-id="{first.mail_id}"] [data-testid=collision]')
    ).to_be_hidden()


# --- 5. pickers, never ids ------------------------------------------------------------------------------


def a_new_job_from_fabrikams_sender(db: Session) -> MailMessage:
    """An Inbox mail of a job nobody approved yet, from a sender that reports for Fabrikam."""
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
    return mail


def test_the_approve_form_preselects_the_customer_the_api_suggests(db: Session, open_site) -> None:
    mail = a_new_job_from_fabrikams_sender(db)
    page = open_site("#/inbox", role="Operator")
    item = page.locator(".inbox-item", has_text="[Failed] New job")
    item.get_by_role("button", name="Approve").click()
    expect(item.get_by_role("combobox", name="Customer")).to_have_value("Fabrikam")
    expect(item.get_by_text("Suggested: Fabrikam")).to_be_visible()
    item.get_by_role("button", name="Approve job").click()
    expect(page.get_by_role("status").filter(has_text="Job “New job” approved")).to_be_visible()
    db.expire_all()
    assert db.get(MailMessage, mail.id).job_id is not None
    assert page.errors == []


def test_a_suggestion_that_arrives_after_the_approve_form_opened_is_preselected(
    db: Session, open_site, site
) -> None:
    # the Inbox loads its mails and the suggestions side by side: the form can open before the
    # suggestions answer (the race that once left the customer empty)
    a_new_job_from_fabrikams_sender(db)
    page = open_site("#/run-checks", role="Operator")
    held: list = []
    page.route("**/api/inbox/groups*", lambda route: held.append(route))
    with page.expect_request("**/api/inbox/groups*"):
        page.goto(f"{site.url}/#/inbox")

    item = page.locator(".inbox-item", has_text="[Failed] New job")
    item.get_by_role("button", name="Approve").click()
    picker = item.get_by_role("combobox", name="Customer")
    expect(picker).to_have_value("")
    held[0].continue_()
    expect(picker).to_have_value("Fabrikam")
    item.get_by_role("button", name="Approve job").click()
    expect(page.get_by_role("status").filter(has_text="Job “New job” approved")).to_be_visible()
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
    page.get_by_role("combobox", name="Customer").fill("")  # clearing the picker clears the filter
    expect(page.locator(".job-link")).to_have_text(["Alpha nightly", "Zeta nightly"])
    assert "customer_id" not in page.url


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
    listed = page.locator(".list-group-item", has_text="NAS disk replaced")
    listed.get_by_role("link", name="Northwind · File server").click()
    expect(page).to_have_url(re.compile(f"#/jobs/{job.id}$"))


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


# --- 4. a queue that ends at zero ------------------------------------------------------------------------


def test_the_keyboard_queue_reviews_snoozes_and_ends_at_all_reviewed(db: Session, open_site) -> None:
    job = a_job(db, job_name="Nightly")
    newest, middle, oldest = (a_run(db, job, at=T0 + timedelta(hours=h)) for h in (3, 2, 1))
    db.commit()

    page = open_site("#/run-checks", role="Operator")
    expect(page.locator(f"#run-row-{newest.id}")).to_be_focused()  # focus on arrival
    page.keyboard.press("?")
    expect(page.get_by_role("heading", name="Keys in Run Checks")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("heading", name="Keys in Run Checks")).to_be_hidden()

    page.keyboard.press("r")
    expect(page.locator(f"#run-row-{newest.id}")).to_have_attribute("data-reviewed", "true")
    expect(page.locator(f"#run-row-{middle.id}")).to_be_focused()
    page.keyboard.press("s")
    page.get_by_label("Why can it wait?").fill("Disk ordered")
    page.keyboard.press("Enter")
    expect(page.locator(f"#run-row-{middle.id} .snoozed-mark")).to_be_visible()
    expect(page.locator(f"#run-row-{oldest.id}")).to_be_focused()
    page.keyboard.press("r")
    expect(page.get_by_test_id("all-reviewed")).to_be_visible()

    page.reload()
    expect(page.get_by_test_id("queue-empty")).to_contain_text("All reviewed.")
    page.goto(page.url.split("#")[0] + f"#/jobs/{job.id}")
    expect(page.locator("[data-testid=snoozed]:visible")).to_contain_text("Disk ordered")

    # taken back from the job's page: the run is in Run Checks again, unreviewed
    page.get_by_role("button", name="Unsnooze").click()
    expect(page.get_by_role("status").filter(has_text="Snooze taken back")).to_be_visible()
    expect(page.locator("[data-testid=snoozed]:visible")).to_have_count(0)
    page.goto(page.url.split("#")[0] + "#/run-checks")
    expect(page.locator(f"#run-row-{middle.id}")).to_have_attribute("data-reviewed", "false")


# --- 2. failures grouped by cause, and the morning's count ------------------------------------------------


def a_morning(db: Session) -> None:
    """10 failures of 3 causes, 10 warnings of 2 causes and 14 successes, over 17 jobs of 4 customers."""
    customers = [a_customer(db, name) for name in ("Contoso", "Fabrikam", "Northwind", "Tailspin")]
    causes = [
        ("failed", 4, "Changed block tracking reset on {vm} at 03:{n:02d}"),
        ("failed", 3, "Repository 'Backup-{n}' is out of space (0 GB free)"),
        ("failed", 3, "Snapshot of {vm} timed out after {n}0 seconds"),
        ("warning", 6, "Retention policy kept {n} more restore points than configured"),
        ("warning", 4, "VM {vm} was processed with VSS errors"),
    ]
    number = 0
    for status, count, text in causes:
        for _ in range(count):
            number += 1
            vm = f"VM-{number:02d}"
            job = a_job(db, customers[number % 4], job_name=f"Job {number:02d}")
            a_run(db, job, status=status, objects=(ObjectResult(vm, status, text.format(vm=vm, n=number)),))
    for n in range(14):
        a_run(db, a_job(db, customers[n % 4], job_name=f"Fine {n:02d}"), status="success")
    db.commit()


def test_a_morning_of_34_runs_is_reviewed_by_cause_in_7_clicks(db: Session, open_site) -> None:
    a_morning(db)
    page = open_site("#/run-checks", role="Operator")
    expect(page.locator("tr[data-run-id]")).to_have_count(34)
    clicks = 0

    page.get_by_role("button", name="By cause").click()
    clicks += 1
    groups = page.locator(".cause-group")
    expect(groups).to_have_count(6)
    # largest first (a failure before a warning of the same size), each cause told by one of its runs
    expect(groups.locator(".cause-text")).to_have_text(
        [
            re.compile(r"^Retention policy kept \d+ more restore points than configured$"),
            re.compile(r"^Changed block tracking reset on VM-\d+ at 03:\d+$"),
            re.compile(r"^VM VM-\d+ was processed with VSS errors$"),
            re.compile(
                r"^(Snapshot of VM-\d+ timed out after \d+0 seconds|Repository 'Backup-\d+' is out of space \(0 GB free\))$"
            ),
            re.compile(
                r"^(Snapshot of VM-\d+ timed out after \d+0 seconds|Repository 'Backup-\d+' is out of space \(0 GB free\))$"
            ),
            "Successful",
        ]
    )
    expect(groups.locator(".card-header .badge")).to_have_text(["6", "4", "4", "3", "3", "14"])
    expect(groups.first.get_by_role("button", name="Open the runs")).to_be_visible()
    for index in range(6):
        groups.nth(index).get_by_role("button", name=re.compile(r"Review all \(\d+\)")).click()
        clicks += 1
        expect(groups.nth(index).locator("tr[data-reviewed=true]")).to_have_count(
            groups.nth(index).locator("tr[data-run-id]").count()
        )
    expect(page.get_by_test_id("all-reviewed")).to_be_visible()
    assert clicks == 7
    page.reload()
    expect(page.get_by_test_id("queue-empty")).to_be_visible()


# --- 8. success, but … ------------------------------------------------------------------------------------


def test_a_success_missing_a_vm_every_recent_run_had_says_success_but(db: Session, open_site) -> None:
    job = a_job(db, job_name="Cluster")
    every = tuple(ObjectResult(f"VM-{n}", "success", None) for n in range(3))
    for day in range(1, 6):
        a_run(db, job, status="success", at=T0 - timedelta(days=day), objects=every).reviewed_at = T0
    short = a_run(db, job, status="success", objects=every[:2])
    db.commit()

    page = open_site("#/run-checks", role="Viewer")
    drift = page.locator(f"#run-row-{short.id} [data-testid=drift]")
    expect(drift).to_have_text("Success, but VM-2 is missing: every run of the last 14 days had it.")
    expect(page.locator(f"#run-row-{short.id} .status-badge")).to_have_text("Success")


def test_a_success_that_backed_up_a_sliver_of_the_usual_size_says_success_but(db: Session, open_site) -> None:
    job, steady = a_job(db, job_name="File server"), a_job(db, job_name="Mail server")
    gigabytes = 1024**3
    for day, size in enumerate((30, 31, 29, 30, 32), start=1):
        a_run(
            db, job, status="success", at=T0 - timedelta(days=day), size_bytes=size * gigabytes
        ).reviewed_at = T0
        a_run(
            db, steady, status="success", at=T0 - timedelta(days=day), size_bytes=size * gigabytes
        ).reviewed_at = T0
    small = a_run(db, job, status="success", size_bytes=round(1.2 * gigabytes))
    usual = a_run(db, steady, status="success", size_bytes=28 * gigabytes)
    db.commit()

    page = open_site("#/run-checks", role="Viewer")
    drift = page.locator(f"#run-row-{small.id} [data-testid=drift]")
    expect(drift).to_have_text("Success, but backed up 1.2 GB, 4% of the usual 30 GB.")
    expect(page.locator(f"#run-row-{small.id} .status-badge")).to_have_text("Success")
    expect(page.locator(f"#run-row-{usual.id} [data-testid=drift]")).to_have_count(0)
    page.get_by_role("button", name="By cause").click()
    group = page.locator(".cause-group", has=page.locator(f"#run-row-{small.id}"))
    expect(group.locator(".card-header")).to_contain_text("Success, but unlike the job's recent runs")
