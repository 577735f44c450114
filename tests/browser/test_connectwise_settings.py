"""The ConnectWise PSA settings page and the active-PSA choice in the browser, against the fake
ConnectWise on loopback: saving (a field error beside its field, then saved with the private key
write-only), switching the active PSA (refused in words while ConnectWise is not configured, then
named across the site), testing the connection and choosing from the refreshed reference data."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from tests.support import fake_connectwise
from tests.support.fake_connectwise import FakeConnectWise, settings_body

pytestmark = pytest.mark.browser


@pytest.fixture
def connectwise_saved(api: Any, connectwise: FakeConnectWise) -> FakeConnectWise:
    """Settings saved against the fake ConnectWise (which stores its reference data), not yet active."""
    saved = api.put("/api/settings/connectwise", role="Admin", body=settings_body(connectwise))
    assert saved.status == 200, saved.json()
    return connectwise


def fill_connection(page: Any, connectwise: FakeConnectWise) -> None:
    page.get_by_label(re.compile("^Site")).fill(connectwise.site)
    page.get_by_label("Company id").fill(fake_connectwise.COMPANY_ID)
    page.get_by_label("Public key").fill(fake_connectwise.PUBLIC_KEY)
    page.get_by_label(re.compile("^Private key")).fill(fake_connectwise.PRIVATE_KEY)
    page.get_by_label(re.compile("^clientId")).fill(fake_connectwise.CLIENT_ID)


def choices(select: Any) -> set[str]:
    """The options of a select once there are any, in whatever order ConnectWise listed them."""
    expect(select.locator("option").nth(1)).to_be_attached()
    return set(select.locator("option").all_inner_texts())


def test_settings_are_saved_after_a_field_error_shown_beside_its_field(
    db: Session, api, open_site, connectwise
) -> None:
    page = open_site("#/settings/connectwise", role="Admin")
    expect(page.get_by_text("(not set)")).to_be_visible()
    fill_connection(page, connectwise)
    # before any reference data the ids are typed; board 3 is inactive in ConnectWise
    for label, value in [
        ("Service board", 3),
        ("Status of a new ticket", fake_connectwise.NEW),
        ("Priority for Warning", 4),
        ("Priority for Failed", 1),
    ]:
        page.get_by_label(label).fill(str(value))
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#cw-board_id-error")).to_contain_text("not an active service board")
    expect(page.get_by_role("alert").filter(has_text="Some fields need attention")).to_be_visible()
    assert api.get("/api/settings/connectwise", role="Admin").json()["site"] is None  # nothing kept

    page.get_by_label("Service board").fill("1")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("ConnectWise PSA settings saved.")).to_be_visible()
    expect(page.locator("#cw-board_id-error")).to_be_empty()
    expect(page.get_by_label(re.compile("^Private key"))).to_have_value("")  # write-only: never sent back
    expect(page.get_by_text("(stored; type to replace)")).to_be_visible()
    expect(page.get_by_label("Service board")).to_have_value("1")  # now chosen from the reference data
    saved = api.get("/api/settings/connectwise", role="Admin").json()
    assert (saved["board_id"], saved["new_status_id"], saved["private_key_set"]) == (
        1,
        fake_connectwise.NEW,
        True,
    )
    assert fake_connectwise.PRIVATE_KEY not in str(saved)
    assert page.errors == []


def test_the_active_psa_is_refused_in_words_until_configured_then_named_by_the_site(
    db: Session, api, open_site, connectwise
) -> None:
    page = open_site("#/settings/psa", role="Admin")
    expect(page.get_by_test_id("active-psa")).to_have_text("None")
    # each radio on its own label's line, both measured at once (the status banner may still push
    # the page down between two separate measurements)
    misplaced = page.evaluate(
        """() => [...document.querySelectorAll('.form-check')].filter((choice) => {
            const radio = choice.querySelector('input').getBoundingClientRect();
            const label = choice.querySelector('label').getBoundingClientRect();
            return !(radio.right <= label.left && radio.top < label.bottom && radio.bottom > label.top);
        }).map((choice) => choice.innerText)"""
    )
    assert misplaced == []
    page.get_by_label("ConnectWise PSA", exact=True).check()
    page.get_by_role("button", name="Save").click()
    refusal = page.get_by_role("alert").filter(has_text="not configured")
    expect(refusal).to_have_text("ConnectWise PSA is not configured yet: save its settings first.")
    expect(page.get_by_test_id("active-psa")).to_have_text("None")

    assert api.put("/api/settings/connectwise", role="Admin", body=settings_body(connectwise)).status == 200
    page.reload()
    expect(page.locator(".form-check", has_text="ConnectWise PSA")).to_contain_text("(configured;")
    page.get_by_label("ConnectWise PSA", exact=True).check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("ConnectWise PSA is the active PSA now.")).to_be_visible()
    expect(page.get_by_test_id("active-psa")).to_have_text("ConnectWise PSA")
    assert api.get("/api/me", role="Admin").json()["psa_label"] == "ConnectWise PSA"

    page.get_by_role("link", name="Customers").click()  # the site names the PSA it now works with
    expect(page.get_by_role("button", name="Check ConnectWise PSA mappings")).to_be_visible()
    assert page.errors == []


def test_test_connection_and_choosing_from_the_refreshed_reference_data(
    db: Session, api, open_site, connectwise_saved
) -> None:
    page = open_site("#/settings/connectwise", role="Admin")
    page.get_by_role("button", name="Test connection").click()  # not the active PSA yet: refused
    expect(page.get_by_test_id("test-result")).to_contain_text("integration is disabled")
    expect(page.get_by_test_id("test-result")).to_have_class(re.compile("alert-danger"))

    assert api.put("/api/settings/psa", role="Admin", body={"provider": "connectwise"}).status == 200
    page.reload()
    expect(page.get_by_test_id("cw-active")).to_contain_text("ConnectWise PSA is the active PSA.")
    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_test_id("test-result")).to_contain_text(
        f"Connected to ConnectWise PSA as {fake_connectwise.COMPANY_ID} (zone NA), API at {connectwise_saved.api_url}."
    )

    page.get_by_role("button", name="Refresh reference data").click()
    expect(page.get_by_text("Reference data refreshed from ConnectWise PSA.")).to_be_visible()
    board = page.get_by_label("Service board")
    assert choices(board) == {"—", "Service Desk", "Monitoring"}  # the active boards
    closed = page.get_by_label("Closed status (Resolve sets it)")
    assert choices(closed) == {"—", "New (open)", "In Progress (open)", "Completed (closed)"}

    board.select_option(label="Monitoring")  # statuses are the board's: the other board's are dropped
    expect(closed.locator("option", has_text="Resolved")).to_be_attached()
    assert choices(closed) == {"—", "New (monitoring) (open)", "Resolved (closed)"}
    board.select_option(label="Service Desk")  # and stay dropped on the way back
    expect(closed.locator("option", has_text="Completed")).to_be_attached()
    expect(closed).to_have_value("")
    board.select_option(label="Monitoring")
    page.get_by_label("Status of a new ticket").select_option(label="New (monitoring)")
    closed.select_option(label="Resolved (closed)")
    page.get_by_label("Priority for Failed").select_option(label="Priority 3 - Normal Response")
    page.get_by_label("Source").select_option(label="Email")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("ConnectWise PSA settings saved.")).to_be_visible()

    saved = api.get("/api/settings/connectwise", role="Admin").json()
    chosen = (
        "board_id",
        "new_status_id",
        "closed_status_id",
        "priority_warning_id",
        "priority_failed_id",
        "source_id",
    )
    assert [saved[field] for field in chosen] == [2, 21, fake_connectwise.OTHER_BOARD_CLOSED, 4, 3, 1]
    assert saved["private_key_set"] is True  # kept: the form sent no new key

    page.get_by_role("button", name="Settings").click()  # the same page, now drawn for Autotask
    page.get_by_role("link", name="Autotask").click()
    expect(page.get_by_role("heading", name="Autotask", exact=True)).to_be_visible()
    expect(page.get_by_label("API username")).to_be_visible()
    expect(page.get_by_label("Service board")).to_have_count(0)
    assert page.errors == []
