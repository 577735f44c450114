"""The Feedback pages in the browser: posting an item with two screenshots previewed before upload
and seeing them (thumbnails opening full size), a polyglot screenshot that runs nothing, soft
delete with undo and the admin's permanent delete, filters and badges, and axe-core."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from tests.browser.conftest import DESKTOP, PHONE, serious_accessibility_violations
from tests.feedback.conftest import People, post_item, stored, upload
from tests.feedback.images import POLYGLOT_SCRIPT, image, polyglot_png

pytestmark = pytest.mark.browser


def natural_widths(locator: Any) -> list[int]:
    """The decoded widths of the images (0 while one is not, or cannot be, decoded)."""
    return locator.evaluate_all("images => images.map(i => i.complete ? i.naturalWidth : 0)")


def test_an_operator_posts_an_item_with_two_screenshots_and_sees_them(db: Session, open_site) -> None:
    page = open_site("#/feedback", role="Operator")
    page.get_by_text("Report a problem or a wish").click()
    form = page.get_by_role("form", name="New feedback")
    form.get_by_label("Kind").select_option("bug")
    form.get_by_label("Title").fill("Daily Jobs shows yesterday after midnight")
    form.get_by_label("Description").fill("Open Daily Jobs at 00:10: the page still shows yesterday.")
    form.get_by_label(re.compile(r"^Screenshots \(")).set_input_files(
        [
            {
                "name": "daily-jobs.png",
                "mimeType": "image/png",
                "buffer": image("PNG", (1600, 900), (30, 90, 200)),
            },
            {
                "name": "clock.jpg",
                "mimeType": "image/jpeg",
                "buffer": image("JPEG", (640, 480), (20, 160, 60)),
            },
        ]
    )
    previews = page.locator(".previews img")
    expect(previews).to_have_count(2)  # shown before anything is uploaded
    page.wait_for_function(
        "() => [...document.querySelectorAll('.previews img')].every(i => i.naturalWidth > 0)"
    )
    assert stored(db)["feedback_items"] == 0
    form.get_by_role("button", name="Post").click()

    expect(page).to_have_url(re.compile(r"#/feedback/\d+$"))
    expect(page.get_by_role("heading", name="Daily Jobs shows yesterday after midnight")).to_be_visible()
    thumbnails = page.locator(".shots .thumb img")
    expect(thumbnails).to_have_count(2)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.shots .thumb img')].every(i => i.naturalWidth > 0)"
    )
    assert natural_widths(thumbnails) == [400, 400]  # thumbnails, not the full images
    page.get_by_role("button", name="Open daily-jobs.png full size").click()
    viewer = page.get_by_role("dialog", name="daily-jobs.png")
    expect(viewer).to_be_visible()
    page.wait_for_function("() => document.querySelector('.screenshot-viewer img').naturalWidth > 0")
    assert natural_widths(viewer.locator("img")) == [1600]
    viewer.get_by_role("button", name="Close").click()
    expect(viewer).to_have_count(0)

    page.get_by_role("button", name="Vote for this").click()
    expect(page.locator("article .vote .votes")).to_have_text("1")
    counts = stored(db)
    assert (counts["feedback_items"], counts["feedback_attachments"], counts["feedback_votes"]) == (1, 2, 1)
    assert page.errors == []


def test_a_refused_screenshot_is_named_in_words(db: Session, open_site) -> None:
    page = open_site("#/feedback", role="Operator")
    page.get_by_text("Report a problem or a wish").click()
    form = page.get_by_role("form", name="New feedback")
    form.get_by_label("Title").fill("Text is not a screenshot")
    form.get_by_label("Description").fill("See the file.")
    form.get_by_label(re.compile(r"^Screenshots \(")).set_input_files(
        [{"name": "shot.png", "mimeType": "image/png", "buffer": b"just text, named like a picture"}]
    )
    form.get_by_role("button", name="Post").click()
    # the browser believed the name; the server read the bytes
    expect(
        page.get_by_role("status").filter(has_text="was posted, but its screenshots were not")
    ).to_contain_text("shot.png is not a PNG, JPEG, GIF or WebP image: its bytes are text")
    assert stored(db)["feedback_attachments"] == 0


def test_a_polyglot_screenshot_runs_nothing_in_the_site_nor_opened_on_its_own(
    db: Session, api, entra, open_site, site_url: str
) -> None:
    alice = People(entra)("alice")
    item = post_item(api, alice, title="Polyglot")
    [shot] = upload(
        api, f"/api/feedback/{item['id']}/attachments", alice, ("innocent.png", polyglot_png(), "image/png")
    ).json()["attachments"]
    page = open_site("#/feedback", role="Viewer")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    # The file is a live HTML page: served as HTML, its script runs (what the headers prevent).
    page.route("**/as-html", lambda route: route.fulfill(body=polyglot_png(), content_type="text/html"))
    page.goto(f"{site_url}/as-html")
    assert page.evaluate("() => window.pwned") == 1

    page.goto(f"{site_url}/#/feedback/{item['id']}")
    page.get_by_role("button", name="Open innocent.png full size").click()
    page.wait_for_function("() => document.querySelector('.screenshot-viewer img')?.naturalWidth > 0")
    assert page.evaluate("() => window.pwned") is None
    assert page.title() == "Backupchecks"

    response = page.goto(f"{site_url}/api/feedback/{item['id']}/attachments/{shot['id']}")
    assert response.headers["content-type"].split(";")[0] == "image/png"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert POLYGLOT_SCRIPT in response.body()
    assert page.evaluate("() => window.pwned") is None  # shown as an image document, the script never ran
    assert page.evaluate("() => document.images.length") == 1
    assert page.title() != "pwned"
    assert dialogs == []


def test_an_admin_deletes_with_undo_then_for_good(db: Session, api, entra, open_site) -> None:
    alice = People(entra)("alice")
    item = post_item(api, alice, title="Remove me")
    upload(api, f"/api/feedback/{item['id']}/attachments", alice, ("a.png", image(), "image/png"))
    page = open_site(f"#/feedback/{item['id']}", role="Admin")
    page.on("dialog", lambda dialog: dialog.accept())
    expect(page.locator(".shots .thumb img")).to_have_count(1)

    page.get_by_role("button", name="Delete item").click()
    notice = page.get_by_role("status").filter(has_text="The item deleted.")
    expect(notice).to_be_visible()
    expect(page.get_by_text("only admins see it")).to_be_visible()
    notice.get_by_role("button", name="Undo").click()
    expect(page.get_by_role("status").filter(has_text="The item restored.")).to_be_visible()
    expect(page.get_by_text("only admins see it")).to_have_count(0)
    assert api.get(f"/api/feedback/{item['id']}", role="Viewer").status == 200

    page.get_by_role("button", name="Delete item").click()
    page.get_by_role("button", name="Delete permanently").click()
    expect(page).to_have_url(re.compile(r"#/feedback$"))
    counts = stored(db)
    assert (counts["feedback_items"], counts["feedback_attachments"], counts["bytes"]) == (0, 0, 0)
    assert page.errors == []


def test_the_list_shows_votes_and_status_badges_and_filters(db: Session, api, entra, open_site) -> None:
    people = People(entra)
    first = post_item(api, people("alice"), title="Export to CSV", kind="feature")
    second = post_item(api, people("alice"), title="Crash on Inbox", kind="bug")
    api.patch(f"/api/feedback/{first['id']}", role="Admin", body={"status": "planned"})
    for voter in ("v1", "v2", "v3"):
        api.put(f"/api/feedback/{first['id']}/vote", role=None, headers=people(voter, "Viewer"))
    api.put(f"/api/feedback/{second['id']}/vote", role=None, headers=people("v1", "Viewer"))

    page = open_site("#/feedback?sort=votes", role="Viewer")
    rows = page.locator(".feedback-item")
    expect(rows).to_have_count(2)
    expect(rows.locator("a")).to_have_text(["Export to CSV", "Crash on Inbox"])
    expect(rows.locator(".votes")).to_have_text(["3", "1"])
    expect(rows.locator(".status-badge")).to_have_text(["Planned", "Open"])
    page.get_by_label("Status").select_option("open")
    expect(rows.locator("a")).to_have_text(["Crash on Inbox"])
    expect(page).to_have_url(re.compile(r"status=open"))
    rows.first.get_by_role("button", name="Vote for Crash on Inbox").click()
    expect(rows.first.locator(".votes")).to_have_text("2")
    expect(page.get_by_text("Report a problem or a wish")).to_have_count(0)  # viewers do not post


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_no_serious_accessibility_violation_on_the_feedback_pages(
    db: Session, api, entra, open_site, viewport
) -> None:
    alice = People(entra)("alice")
    item = post_item(api, alice)
    upload(api, f"/api/feedback/{item['id']}/attachments", alice, ("a.png", image(), "image/png"))
    api.post(f"/api/feedback/{item['id']}/replies", role=None, headers=alice, body={"body": "More detail"})
    page = open_site("#/feedback", role="Admin", viewport=viewport)
    found = {}
    for route in ("#/feedback", f"#/feedback/{item['id']}"):
        page.goto(page.url.split("#")[0] + route)
        page.wait_for_load_state("networkidle")
        expect(page.locator("main [role=status] .spinner-border:visible")).to_have_count(0)
        if violations := serious_accessibility_violations(page):
            found[route] = violations
    assert found == {}
    assert page.errors == []
