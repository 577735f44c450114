"""Customer ↔ Autotask company mapping (Phase 3) through the HTTP API."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tests.psa.test_run_autotask_ticket import configure
from tests.support.factories import a_customer
from tests.support.fake_autotask import FakeAutotask


def test_search_map_and_unmap(api: Any, db: Session, autotask: FakeAutotask) -> None:
    configure(api)
    acme = autotask.add_company("Acme Corp")
    autotask.add_company("Globex")
    customer = a_customer(db, "Acme")
    db.commit()

    found = api.get("/api/autotask/companies?search=acme", role="Operator").json()["items"]
    assert found == [{"id": acme, "name": "Acme Corp", "active": True}]

    mapped = api.put(
        f"/api/customers/{customer.id}/autotask-company", role="Operator", body={"company_id": acme}
    )
    assert mapped.status == 200, mapped.json()
    view = mapped.json()
    assert (view["autotask_company_id"], view["autotask_company_name"]) == (acme, "Acme Corp")
    assert view["autotask_mapping_status"] == "ok" and view["autotask_checked_at"]
    assert api.get(f"/api/customers/{customer.id}").json()["psa_company_name"] == "Acme Corp"

    unknown = api.put(
        f"/api/customers/{customer.id}/autotask-company", role="Operator", body={"company_id": 424242}
    )
    assert unknown.status == 422 and unknown.json()["error"]["details"][0]["field"] == "body.company_id"
    assert api.get(f"/api/customers/{customer.id}").json()["psa_company_id"] == acme

    cleared = api.delete(f"/api/customers/{customer.id}/autotask-company", role="Operator").json()
    assert cleared["autotask_company_id"] is None and cleared["autotask_mapping_status"] == "unmapped"


def test_the_check_finds_renamed_inactive_and_missing_companies(
    api: Any, db: Session, autotask: FakeAutotask
) -> None:
    configure(api)
    ids = {name: autotask.add_company(name) for name in ("Same", "Old name", "Goes inactive", "Goes away")}
    customers = {
        name: a_customer(
            db,
            f"Customer {name}",
            psa_company_provider="autotask",
            psa_company_id=company,
            psa_company_name=name,
            psa_mapping_status="ok",
        )
        for name, company in ids.items()
    }
    a_customer(db, "Not mapped")
    db.commit()
    autotask.companies[ids["Old name"]]["companyName"] = "New name"
    autotask.companies[ids["Goes inactive"]]["isActive"] = False
    del autotask.companies[ids["Goes away"]]

    result = api.post("/api/customers/autotask-check", role="Operator").json()

    status = {item["customer_id"]: item["status"] for item in result["customers"]}
    assert status == {
        customers["Same"].id: "ok",
        customers["Old name"].id: "renamed",
        customers["Goes inactive"].id: "inactive",
        customers["Goes away"].id: "missing",
    }
    renamed = api.get(f"/api/customers/{customers['Old name'].id}").json()
    assert renamed["psa_company_name"] == "New name" and renamed["psa_mapping_status"] == "renamed"
    assert api.get(f"/api/customers/{customers['Goes away'].id}").json()["psa_mapping_status"] == "missing"
    assert autotask.count("POST", "/Companies/query") == 1  # one batched query for every customer
