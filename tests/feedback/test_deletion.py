"""Deleting feedback: soft by default and undone by restore; permanent only by an Admin and only
of what is soft-deleted, removing every row under it and the screenshots' bytes (counted)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared_code.db.models import AuditLog
from tests.feedback.conftest import post_item, stored, upload
from tests.feedback.images import image


def item_with_everything(api, people) -> dict:
    """An item with two screenshots, a vote, and a reply with a screenshot of its own."""
    alice, bob = people("alice"), people("bob")
    item = post_item(api, alice)
    upload(
        api,
        f"/api/feedback/{item['id']}/attachments",
        alice,
        ("a.png", image(), "image/png"),
        ("b.gif", image("GIF"), "image/gif"),
    )
    api.put(f"/api/feedback/{item['id']}/vote", role=None, headers=bob)
    reply = api.post(
        f"/api/feedback/{item['id']}/replies", role=None, headers=bob, body={"body": "Seen it"}
    ).json()
    upload(
        api,
        f"/api/feedback/{item['id']}/replies/{reply['id']}/attachments",
        bob,
        ("c.webp", image("WEBP"), "image/webp"),
    )
    return item


def test_soft_delete_hides_an_item_from_everyone_but_admins_and_restore_undoes_it(
    db: Session, api, people
) -> None:
    item = item_with_everything(api, people)
    path = f"/api/feedback/{item['id']}"
    assert api.delete(path, role="Operator").status == 403
    assert api.delete(path, role="Admin").status == 204
    assert api.get(path, role="Operator").status == 404
    assert api.get("/api/feedback", role="Operator").json()["items"] == []
    assert api.put(f"{path}/vote", role="Viewer").status == 404
    shot = api.get(path, role="Admin").json()["attachment_list"][0]["id"]
    assert (
        api.get(f"/api/feedback/{item['id']}/attachments/{shot}", role="Viewer").status == 404
    )  # hidden with its item
    assert api.get(f"/api/feedback/{item['id']}/attachments/{shot}", role="Admin").status == 200
    assert api.get("/api/feedback?deleted=true", role="Operator").status == 403
    assert [i["id"] for i in api.get("/api/feedback?deleted=true", role="Admin").json()["items"]] == [
        item["id"]
    ]
    counts = stored(db)
    assert counts["feedback_items"] == 1 and counts["feedback_attachments"] == 3  # nothing removed yet

    assert api.post(f"{path}/restore", role="Admin").status == 204
    assert api.get(path, role="Operator").json()["attachments"] == 2
    actions = db.scalars(select(AuditLog.action).where(AuditLog.entity_type == "feedback_item")).all()
    assert actions[-2:] == ["delete", "restore"]


def test_permanent_delete_is_refused_for_an_item_that_is_not_soft_deleted(db: Session, api, people) -> None:
    item = item_with_everything(api, people)
    before = stored(db)
    response = api.delete(f"/api/feedback/{item['id']}/permanent", role="Admin")
    assert response.status == 409
    assert "not deleted; delete it first" in response.json()["error"]["message"]
    assert api.delete(f"/api/feedback/{item['id']}/permanent", role="Operator").status == 403
    assert stored(db) == before


def test_permanent_delete_removes_the_rows_and_the_screenshot_bytes(db: Session, api, people) -> None:
    item = item_with_everything(api, people)
    other = item_with_everything(api, people)
    before = stored(db)
    assert before == {
        "feedback_items": 2,
        "feedback_replies": 2,
        "feedback_votes": 2,
        "feedback_attachments": 6,
        "feedback_attachment_contents": 6,
        "bytes": before["bytes"],
    }
    api.delete(f"/api/feedback/{item['id']}", role="Admin")
    response = api.delete(f"/api/feedback/{item['id']}/permanent", role="Admin")
    assert response.status == 200, response.body
    removed = response.json()
    after = stored(db)
    assert removed == {
        "feedback_items": 1,
        "feedback_replies": 1,
        "feedback_votes": 1,
        "feedback_attachments": 3,
        "feedback_attachment_bytes": before["bytes"] - after["bytes"],
    }
    assert removed["feedback_attachment_bytes"] > 0
    assert after == {
        "feedback_items": 1,
        "feedback_replies": 1,
        "feedback_votes": 1,
        "feedback_attachments": 3,
        "feedback_attachment_contents": 3,  # the bytes went with their rows
        "bytes": after["bytes"],
    }
    assert api.get(f"/api/feedback/{other['id']}", role="Viewer").json()["attachments"] == 2
    assert api.delete(f"/api/feedback/{item['id']}/permanent", role="Admin").status == 404
    entry = db.scalars(select(AuditLog).where(AuditLog.action == "delete_permanently")).one()
    assert entry.details == removed


def test_a_reply_and_a_screenshot_are_deleted_on_their_own(db: Session, api, people) -> None:
    item = item_with_everything(api, people)
    detail = api.get(f"/api/feedback/{item['id']}", role="Admin").json()
    reply, shot = detail["reply_list"][0], detail["attachment_list"][0]
    assert (
        api.delete(f"/api/feedback/{item['id']}/attachments/{shot['id']}/permanent", role="Admin").status
        == 409
    )
    assert api.delete(f"/api/feedback/{item['id']}/attachments/{shot['id']}", role="Admin").status == 204
    assert api.delete(f"/api/feedback/{item['id']}/replies/{reply['id']}", role="Admin").status == 204
    seen = api.get(f"/api/feedback/{item['id']}", role="Operator").json()
    assert (seen["attachments"], seen["replies"], seen["reply_list"]) == (1, 0, [])
    as_admin = api.get(f"/api/feedback/{item['id']}", role="Admin").json()
    assert as_admin["reply_list"][0]["deleted_at"] is not None  # shown to admins, to undo or remove
    removed = api.delete(f"/api/feedback/{item['id']}/replies/{reply['id']}/permanent", role="Admin").json()
    assert (removed["feedback_replies"], removed["feedback_attachments"], removed["feedback_items"]) == (
        1,
        1,
        0,
    )
    removed = api.delete(
        f"/api/feedback/{item['id']}/attachments/{shot['id']}/permanent", role="Admin"
    ).json()
    assert removed["feedback_attachments"] == 1
    assert stored(db)["feedback_attachment_contents"] == 1


def test_the_admin_purge_removes_soft_deleted_feedback_too(db: Session, api, people) -> None:
    kept = item_with_everything(api, people)
    gone = item_with_everything(api, people)
    api.delete(f"/api/feedback/{gone['id']}", role="Admin")
    result = api.post("/api/admin/purge", role="Admin", body={"confirm": "purge"}).json()
    assert result["feedback"]["feedback_items"] == 1
    assert result["feedback"]["feedback_attachments"] == 3
    assert stored(db)["feedback_items"] == 1
    assert api.get(f"/api/feedback/{kept['id']}", role="Viewer").status == 200
