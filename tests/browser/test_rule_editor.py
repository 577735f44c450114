"""Teaching a parser in the browser: from an Inbox mail no parser knows to a rule, tested live against
every mail waiting from the sender, saved, and the mails ready for approval."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from shared_code.mail.directory import import_directory
from tests.browser.conftest import DESKTOP, PHONE, serious_accessibility_violations

pytestmark = pytest.mark.browser
SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "rule_samples"


def test_a_rule_written_beside_its_live_test_parses_the_waiting_mail(
    db: Session, open_site, tmp_path: Path
) -> None:
    import_directory(SAMPLES)
    page = open_site("#/inbox", role="Operator")
    mail = page.locator(".inbox-item", has_text="backup completed with warnings")
    expect(mail).to_contain_text("No parser recognised it")
    page.screenshot(path=str(tmp_path / "22-inbox-teach-a-parser.png"), full_page=True)
    mail.get_by_role("link", name="Teach a parser").click()

    expect(page.get_by_role("heading", name="Teach a parser")).to_be_visible()
    expect(page.get_by_label("Sender (address or domain)")).to_have_value(
        "backup4all@ws-office01.example.test"
    )
    summary = page.get_by_test_id("rule-test-summary")
    page.get_by_label("Rule name").fill("Backup4all on WS-OFFICE01")
    page.get_by_label("Product").fill("Backup4all")
    page.get_by_label("Subject must contain (pattern, optional)").fill("^Backup4all: ")
    page.get_by_label("Job name pattern (group job or the first group)").fill('"(?P<job>[^"]+)"')
    page.get_by_label("Status words in").select_option("body")
    page.get_by_label("Words meaning success (comma-separated)").fill("Completed successfully")
    page.get_by_label("Words meaning warning").fill("Completed with warnings")
    page.get_by_label("Words meaning failed").fill("Completed with errors, Failed")
    expect(summary).to_have_text("Parses 2 of 2")
    page.get_by_label("Objects: one per matching line or table row").check()
    page.get_by_label("Object pattern (groups name, status, message)").fill(
        r"^Source: (?P<name>.+?) \[(?P<status>[^\]]+)\](?: (?P<message>.+))?$"
    )
    test = page.get_by_test_id("rule-test")
    expect(test).to_contain_text("Office Documents · Backup4all Backup · 2 objects")
    expect(test).to_contain_text("2 files skipped")
    page.screenshot(path=str(tmp_path / "22-rule-editor-live-test.png"), full_page=True)
    assert serious_accessibility_violations(page) == []

    page.get_by_role("button", name="Save the rule").click()
    expect(page.get_by_role("status").filter(has_text="2 of 2 waiting mails now parse")).to_be_visible()
    page.get_by_role("link", name="Back to the Inbox").click()
    expect(
        page.locator(".inbox-item", has_text="Office Documents").get_by_role("button", name="Approve")
    ).to_have_count(2)

    page.get_by_role("link", name="Parsers").click()
    expect(page.get_by_test_id("parsing-rules")).to_contain_text("Backup4all on WS-OFFICE01")
    page.set_viewport_size(PHONE)
    page.get_by_role("link", name="Backup4all on WS-OFFICE01").click()
    expect(
        page.get_by_role("heading", name="Parsing rule: Backup4all on WS-OFFICE01 (version 1)")
    ).to_be_visible()
    expect(page.get_by_test_id("rule-test-summary")).to_have_text("Parses 2 of 2")  # the mail still waiting
    page.screenshot(path=str(tmp_path / "22-rule-editor-saved-phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    assert page.errors == []


def test_a_pattern_re2_refuses_is_named_at_its_field(db: Session, open_site) -> None:
    import_directory(SAMPLES)
    page = open_site("#/inbox", role="Operator")
    page.locator(".inbox-item").first.get_by_role("link", name="Teach a parser").click()

    page.get_by_label("Job name pattern (group job or the first group)").fill("(?<=Backup4all)(x)")

    expect(page.locator(".invalid-feedback:visible")).to_contain_text("not a pattern RE2 accepts")
    assert page.errors == []


def test_a_sender_that_stopped_parsing_is_named_on_its_job_page(
    db: Session, open_site, tmp_path: Path
) -> None:
    from datetime import UTC, datetime, timedelta

    from shared_code.db.models import Job
    from shared_code.mail.inbox import ApproveBody, approve
    from shared_code.mail.ingest import ingest
    from shared_code.mail.sources import RawMail
    from shared_code.sample_morning import redated
    from tests.mail.mails import VEEAM, mime
    from tests.parsers.mails import build_mail

    yesterday = datetime.now(UTC) - timedelta(days=1)
    first = ingest(RawMail("directory", "/a/1.eml", mime(VEEAM, received=yesterday - timedelta(days=1))))
    approval = approve(db, first.mail_id, ApproveBody(customer_name="Customer A"), "test")
    db.commit()
    sender = db.get(Job, approval.job_id).from_address
    # Two mails in the new layout: one unrecognised mail from a known sender may be a mere notice.
    for hours in (0, 1):
        changed = build_mail(f"Job report {hours}", text="Backup session finished. Result: OK", sender=sender)
        at = yesterday + timedelta(hours=hours)
        ingest(
            RawMail("directory", f"/a/2-{hours}.eml", redated(changed, at, f"<changed-{hours}@example.test>"))
        )

    page = open_site(f"#/jobs/{approval.job_id}", role="Viewer")

    expect(page.get_by_test_id("format-drift")).to_contain_text(f"Veeam mails from {sender} stopped parsing")
    expect(page.get_by_test_id("pipeline-banner")).to_contain_text("Format drift:")
    page.screenshot(path=str(tmp_path / "22-job-format-drift.png"), full_page=True)
    assert page.errors == []
