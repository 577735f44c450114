"""The provider-neutral routes (SPEC §10) in front of the active PSA, and switching the active PSA:
one at a time, every stored link stays visible, a PSA that is not active is not called."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tests.psa.conftest import Setup, configure
from tests.support.factories import a_customer
from tests.support.fake_autotask import FakeAutotask


def test_the_neutral_routes_map_create_link_and_resolve_in_the_active_psa(
    api: Any, db: Session, autotask: FakeAutotask, mapped_run: Setup
) -> None:
    other = a_customer(db, "Globex")
    db.commit()
    globex = autotask.add_company("Globex Inc")

    found = api.get("/api/psa/companies?search=globex", role="Operator").json()["items"]
    assert found == [{"id": globex, "name": "Globex Inc", "active": True}]
    mapped = api.put(f"/api/customers/{other.id}/psa-company", role="Operator", body={"company_id": globex})
    assert mapped.status == 200, mapped.json()
    assert (mapped.json()["psa_company_provider"], mapped.json()["psa_company_name"]) == (
        "autotask",
        "Globex Inc",
    )
    checked = api.post("/api/customers/psa-check", role="Operator").json()
    assert {item["customer_id"]: item["status"] for item in checked["customers"]} == {
        mapped_run.customer.id: "ok",
        other.id: "ok",
    }

    created = api.post(f"/api/runs/{mapped_run.run.id}/psa-ticket", role="Operator")
    assert created.status == 201, created.json()
    ticket = created.json()
    assert (ticket["provider"], ticket["manual"]) == ("autotask", False)
    assert autotask.tickets[ticket["psa_ticket_id"]]["ticketNumber"] == ticket["psa_ticket_number"]
    again = api.post(f"/api/runs/{mapped_run.run.id}/psa-ticket", role="Operator")
    assert (again.status, again.json()["error"]["code"]) == (409, "run_has_ticket")

    run = api.get(f"/api/runs/{mapped_run.run.id}", role="Viewer").json()["psa_ticket"]
    assert (run["provider"], run["psa_label"], run["ticket_number"], run["can_resolve"]) == (
        "autotask",
        "Autotask",
        ticket["psa_ticket_number"],
        True,
    )
    resolved = api.post(f"/api/runs/{mapped_run.run.id}/psa-ticket/resolve", role="Operator")
    assert resolved.status == 200, resolved.json()
    assert (resolved.json()["outcome"], resolved.json()["psa_ticket"]["resolution_badge"]) == (
        "resolved",
        "Resolved by Backupchecks",
    )

    unmapped = api.delete(f"/api/customers/{other.id}/psa-company", role="Operator").json()
    assert (unmapped["psa_company_id"], unmapped["psa_mapping_status"]) == (None, "unmapped")


def test_link_by_number_through_the_neutral_route(
    api: Any, db: Session, autotask: FakeAutotask, mapped_run: Setup
) -> None:
    existing = autotask.add_ticket(ticketNumber="T20261101.0007", companyID=mapped_run.company_id)
    linked = api.post(
        f"/api/runs/{mapped_run.run.id}/psa-ticket/link",
        role="Operator",
        body={"ticket_number": "T20261101.0007"},
    )
    assert linked.status == 200, linked.json()
    assert (linked.json()["provider"], linked.json()["psa_ticket_id"]) == ("autotask", existing["id"])
    missing = api.post(
        f"/api/runs/{mapped_run.run.id}/psa-ticket/link", role="Operator", body={"ticket_number": "T1"}
    )
    assert missing.status == 409  # the run has its ticket now: not looked up at all


def test_one_psa_at_a_time_and_switching_keeps_every_stored_link_visible(
    api: Any, db: Session, autotask: FakeAutotask, mapped_run: Setup
) -> None:
    assert api.get("/api/settings/psa", role="Admin").json()["provider"] == "autotask"
    ticket = api.post(f"/api/runs/{mapped_run.run.id}/psa-ticket", role="Operator").json()
    assert api.get("/api/me", role="Viewer").json()["psa_label"] == "Autotask"

    off = api.put("/api/settings/psa", role="Admin", body={"provider": "none"})
    assert (off.status, off.json()["provider"]) == (200, "none")
    assert api.get("/api/settings/autotask", role="Admin").json()["enabled"] is False
    before = autotask.count()

    shown = api.get(f"/api/runs/{mapped_run.run.id}", role="Viewer").json()
    assert shown["psa_ticket"]["ticket_number"] == ticket["psa_ticket_number"]  # still visible
    assert (shown["psa_ticket"]["can_resolve"], shown["psa_ticket"]["resolve_blocked_reason"]) == (
        False,
        "psa_disabled",
    )
    assert ticket["psa_ticket_number"] in str(api.get("/api/tickets", role="Viewer").json())
    refused = {
        "neutral create": api.post(f"/api/runs/{mapped_run.run.id}/psa-ticket", role="Operator"),
        "neutral resolve": api.post(f"/api/runs/{mapped_run.run.id}/psa-ticket/resolve", role="Operator"),
        "autotask resolve": api.post(
            f"/api/runs/{mapped_run.run.id}/autotask-ticket/resolve", role="Operator"
        ),
        "companies": api.get("/api/psa/companies?search=a", role="Operator"),
    }
    assert {name: (r.status, r.json()["error"]["code"]) for name, r in refused.items()} == {
        "neutral create": (409, "psa_disabled"),
        "neutral resolve": (409, "psa_disabled"),
        "autotask resolve": (409, "autotask_disabled"),
        "companies": (409, "psa_disabled"),
    }
    polled = api.post("/api/run-checks/poll", role="Operator", body={"run_ids": [mapped_run.run.id]}).json()
    assert polled["polled"] is False
    assert autotask.count() == before  # disabled: zero calls

    not_ready = api.put("/api/settings/psa", role="Admin", body={"provider": "connectwise"})
    assert (not_ready.status, not_ready.json()["error"]["code"]) == (409, "psa_not_configured")
    bad = api.put("/api/settings/psa", role="Admin", body={"provider": "halopsa"})
    assert bad.status == 422 and bad.json()["error"]["details"][0]["field"] == "body.provider"

    back = api.put("/api/settings/psa", role="Admin", body={"provider": "autotask"})
    assert (back.status, back.json()["provider"]) == (200, "autotask")
    assert (
        api.get(f"/api/runs/{mapped_run.run.id}", role="Viewer").json()["psa_ticket"]["can_resolve"] is True
    )


def test_the_psa_settings_are_for_admins(api: Any) -> None:
    configure(api)
    assert api.get("/api/settings/psa", role="Operator").status == 403
    assert api.put("/api/settings/psa", role="Operator", body={"provider": "none"}).status == 403
