"""Feedback items, votes and replies through the API: who may do what, filters and sorting, one
vote per person even when sent at once, and every change in the audit log."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared_code.db.models import AuditLog
from tests.feedback.conftest import concurrently, post_item, stored


def test_an_operator_posts_and_everyone_reads_it_with_its_author(db: Session, api, people) -> None:
    item = post_item(api, people("alice"), kind="feature", title="Dark mode", description="Please.")
    assert (item["kind"], item["status"], item["author_name"], item["own"]) == (
        "feature",
        "open",
        "alice@example.test",
        True,
    )
    seen = api.get(f"/api/feedback/{item['id']}", role=None, headers=people("vera", "Viewer")).json()
    assert (seen["title"], seen["description"], seen["own"], seen["votes"]) == (
        "Dark mode",
        "Please.",
        False,
        0,
    )
    assert (
        api.post(
            "/api/feedback", role="Viewer", body={"kind": "bug", "title": "x", "description": "y"}
        ).status
        == 403
    )


def test_bad_input_names_the_field(db: Session, api, people) -> None:
    response = api.post(
        "/api/feedback",
        role=None,
        headers=people("alice"),
        body={"kind": "rant", "title": "", "description": "y"},
    )
    assert response.status == 422
    assert {d["field"] for d in response.json()["error"]["details"]} == {"body.kind", "body.title"}
    assert api.get("/api/feedback?sort=loudest", role="Viewer").status == 400
    assert api.get("/api/feedback/999", role="Viewer").status == 404


def test_the_author_edits_the_text_and_only_an_admin_changes_the_status(db: Session, api, people) -> None:
    alice, bob, admin = people("alice"), people("bob"), people("ada", "Admin")
    item = post_item(api, alice)
    path = f"/api/feedback/{item['id']}"
    edited = api.patch(path, role=None, headers=alice, body={"title": "Run Checks forgets filters"})
    assert edited.status == 200 and edited.json()["title"] == "Run Checks forgets filters"
    assert api.patch(path, role=None, headers=bob, body={"title": "mine now"}).status == 403
    refused = api.patch(path, role=None, headers=alice, body={"status": "done"})
    assert refused.status == 403
    assert refused.json()["error"]["details"] == [{"field": "body.status", "message": "Admin only"}]
    planned = api.patch(path, role=None, headers=admin, body={"status": "planned"})
    assert planned.json()["status"] == "planned"
    actions = db.scalars(
        select(AuditLog.action).where(AuditLog.entity_type == "feedback_item").order_by(AuditLog.id)
    ).all()
    assert actions == ["create", "edit", "status"]


def test_the_list_filters_by_status_and_kind_and_sorts_by_votes_or_date(db: Session, api, people) -> None:
    admin = people("ada", "Admin")
    first = post_item(api, people("alice"), kind="bug", title="first")
    second = post_item(api, people("alice"), kind="feature", title="second")
    third = post_item(api, people("alice"), kind="question", title="third")
    api.patch(f"/api/feedback/{third['id']}", role=None, headers=admin, body={"status": "declined"})
    for voter in ("v1", "v2"):
        api.put(f"/api/feedback/{first['id']}/vote", role=None, headers=people(voter, "Viewer"))
    api.put(f"/api/feedback/{second['id']}/vote", role=None, headers=people("v1", "Viewer"))

    def titles(query: str) -> list[str]:
        response = api.get(f"/api/feedback{query}", role=None, headers=people("v1", "Viewer"))
        assert response.status == 200, response.body
        return [item["title"] for item in response.json()["items"]]

    assert titles("") == ["third", "second", "first"]  # newest first
    assert titles("?sort=votes") == ["first", "second", "third"]
    assert titles("?status=open") == ["second", "first"]
    assert titles("?status=declined,planned") == ["third"]
    assert titles("?kind=bug,question&sort=votes") == ["first", "third"]
    listed = api.get("/api/feedback?sort=votes", role=None, headers=people("v1", "Viewer")).json()["items"]
    assert [(i["votes"], i["voted"]) for i in listed] == [(2, True), (1, True), (0, False)]


def test_voting_again_changes_nothing_and_a_vote_can_be_taken_back(db: Session, api, people) -> None:
    item = post_item(api, people("alice"))
    vera = people("vera", "Viewer")
    path = f"/api/feedback/{item['id']}/vote"
    assert api.put(path, role=None, headers=vera).json() == {"voted": True, "votes": 1}
    assert api.put(path, role=None, headers=vera).json() == {"voted": True, "votes": 1}
    assert api.delete(path, role=None, headers=vera).json() == {"voted": False, "votes": 0}
    assert api.delete(path, role=None, headers=vera).json() == {"voted": False, "votes": 0}
    actions = db.scalars(select(AuditLog.action).where(AuditLog.action.in_(["vote", "unvote"]))).all()
    assert actions == ["vote", "unvote"]


def test_20_concurrent_votes_by_one_person_are_one_vote_and_by_20_people_20(db: Session, api, people) -> None:
    item = post_item(api, people("alice"))
    path = f"/api/feedback/{item['id']}/vote"
    vera = people("vera", "Viewer")
    same = concurrently([lambda: api.put(path, role=None, headers=vera) for _ in range(20)])
    assert [r.status for r in same] == [200] * 20
    assert stored(db)["feedback_votes"] == 1

    voters = [people(f"voter{n}", "Viewer") for n in range(20)]
    many = concurrently(
        [lambda headers=headers: api.put(path, role=None, headers=headers) for headers in voters]
    )
    assert [r.status for r in many] == [200] * 20
    assert stored(db)["feedback_votes"] == 21  # vera's and the 20 others'
    assert api.get(f"/api/feedback/{item['id']}", role="Viewer").json()["votes"] == 21


def test_replies_by_operators_shown_oldest_first(db: Session, api, people) -> None:
    item = post_item(api, people("alice"))
    path = f"/api/feedback/{item['id']}/replies"
    assert api.post(path, role=None, headers=people("bob"), body={"body": "Me too"}).status == 201
    assert api.post(path, role=None, headers=people("alice"), body={"body": "Thanks"}).status == 201
    assert api.post(path, role="Viewer", body={"body": "Can I?"}).status == 403
    detail = api.get(f"/api/feedback/{item['id']}", role=None, headers=people("bob")).json()
    assert [(r["body"], r["author_name"], r["own"]) for r in detail["reply_list"]] == [
        ("Me too", "bob@example.test", True),
        ("Thanks", "alice@example.test", False),
    ]
    assert detail["replies"] == 2


def test_the_feedback_routes_are_in_the_route_table_the_auth_matrix_walks() -> None:
    """tests/api/test_auth_matrix.py tries every protected route of the table with no token, bad
    tokens, the role below and the right role: these are the roles it holds the feedback routes to."""
    import function_app  # noqa: F401  (fills the route table)
    from shared_code.api.routing import ROUTES
    from tests.api.test_auth_matrix import PROTECTED

    roles = {f"{r.method} {r.path}": r.role.claim for r in ROUTES if r.path.startswith("feedback")}
    assert roles == {
        "GET feedback": "Viewer",
        "POST feedback": "Operator",
        "GET feedback/{item_id:int}": "Viewer",
        "PATCH feedback/{item_id:int}": "Operator",
        "PUT feedback/{item_id:int}/vote": "Viewer",
        "DELETE feedback/{item_id:int}/vote": "Viewer",
        "POST feedback/{item_id:int}/replies": "Operator",
        "POST feedback/{item_id:int}/attachments": "Operator",
        "POST feedback/{item_id:int}/replies/{reply_id:int}/attachments": "Operator",
        "GET feedback/{item_id:int}/attachments/{attachment_id:int}": "Viewer",
        "GET feedback/{item_id:int}/attachments/{attachment_id:int}/thumbnail": "Viewer",
        "DELETE feedback/{item_id:int}": "Admin",
        "POST feedback/{item_id:int}/restore": "Admin",
        "DELETE feedback/{item_id:int}/permanent": "Admin",
        "DELETE feedback/{item_id:int}/replies/{reply_id:int}": "Admin",
        "POST feedback/{item_id:int}/replies/{reply_id:int}/restore": "Admin",
        "DELETE feedback/{item_id:int}/replies/{reply_id:int}/permanent": "Admin",
        "DELETE feedback/{item_id:int}/attachments/{attachment_id:int}": "Admin",
        "POST feedback/{item_id:int}/attachments/{attachment_id:int}/restore": "Admin",
        "DELETE feedback/{item_id:int}/attachments/{attachment_id:int}/permanent": "Admin",
    }
    assert {f"{r.method} {r.path}" for r in PROTECTED} >= roles.keys()
