"""Customers and jobs: CRUD, unique live names, soft delete, the inactive-customer filter, job details."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared_code.customers import customer_named
from shared_code.db.models import AuditLog, Customer, Job, MailMessage
from shared_code.errors import Conflict
from tests.support.factories import T0, a_customer, a_job, a_run


def test_customer_crud_with_unique_live_names(db: Session, api) -> None:
    created = api.post("/api/customers", body={"name": "Acme"}, role="Operator")
    assert created.status == 201
    customer = created.json()
    assert (customer["name"], customer["active"], customer["job_count"]) == ("Acme", True, 0)
    duplicate = api.post("/api/customers", body={"name": "  ACME "})
    assert (duplicate.status, duplicate.json()["error"]["code"]) == (409, "name_taken")

    changed = api.patch(f"/api/customers/{customer['id']}", body={"name": "Acme BV", "active": False}).json()
    assert (changed["name"], changed["active"]) == ("Acme BV", False)
    assert api.get(f"/api/customers/{customer['id']}", role="Viewer").json()["name"] == "Acme BV"
    assert [c["name"] for c in api.get("/api/customers?active=false").json()["items"]] == ["Acme BV"]
    assert api.get("/api/customers?search=bv").json()["items"][0]["id"] == customer["id"]

    assert api.delete(f"/api/customers/{customer['id']}", role="Admin").status == 204
    assert api.get(f"/api/customers/{customer['id']}").status == 404
    assert api.post("/api/customers", body={"name": "Acme BV"}).status == 201  # the name is free again
    actions = db.scalars(select(AuditLog.action).where(AuditLog.entity_type == "customer")).all()
    assert actions == ["create", "update", "delete", "create"]


def test_renaming_onto_a_taken_name_is_a_conflict(db: Session, api) -> None:
    a_customer(db, "Taken")
    other = a_customer(db, "Other")
    db.commit()
    response = api.patch(f"/api/customers/{other.id}", body={"name": "taken"})
    assert response.status == 409
    assert response.json()["error"]["details"][0]["field"] == "body.name"


def test_deleting_a_customer_soft_deletes_its_jobs_and_their_mails(db: Session, api) -> None:
    job = a_job(db)
    run = a_run(db, job)
    db.commit()
    api.delete(f"/api/customers/{job.customer_id}")
    db.expire_all()
    assert db.get(Customer, job.customer_id).deleted_at is not None
    assert db.get(Job, job.id).deleted_at is not None
    assert db.get(MailMessage, run.mail_id).deleted_at is not None
    assert api.get(f"/api/jobs/{job.id}").status == 404


def test_jobs_of_inactive_customers_are_hidden_unless_filtered_on(db: Session, api) -> None:
    active_job = a_job(db, a_customer(db, "Active"))
    dormant = a_customer(db, "Dormant", active=False)
    dormant_job = a_job(db, dormant)
    db.commit()

    def job_ids(query: str = "") -> list[int]:
        return [j["id"] for j in api.get(f"/api/jobs?{query}", role="Viewer").json()["items"]]

    assert job_ids() == [active_job.id]
    assert job_ids("include_inactive_customers=true") == [active_job.id, dormant_job.id]
    filtered = api.get(f"/api/jobs?customer_id={dormant.id}").json()
    assert filtered["customer"] == {"id": dormant.id, "name": "Dormant"}
    assert [j["id"] for j in filtered["items"]] == [dormant_job.id]
    assert api.get("/api/jobs?customer_id=999").status == 404


def test_job_details_show_run_history_with_indicators(db: Session, api) -> None:
    job = a_job(db)
    runs = [
        a_run(db, job, at=T0 + timedelta(days=n), status=s)
        for n, s in enumerate(["success", "failed", "warning"])
    ]
    db.commit()
    api.post("/api/tickets", body={"description": "x", "job_ids": [job.id]})

    detail = api.get(f"/api/jobs/{job.id}?limit=2").json()

    assert [r["id"] for r in detail["runs"]] == [runs[2].id, runs[1].id]
    assert detail["runs_page"]["has_more"] is True
    assert (detail["last_status"], detail["open_tickets"], detail["open_remarks"]) == ("warning", 1, 0)
    assert detail["runs"][0]["psa_ticket"]["can_resolve"] is False
    assert detail["schedule"]["kind"] == "none"


def test_jobs_can_be_changed_and_soft_deleted(db: Session, api) -> None:
    job, elsewhere = a_job(db), a_customer(db)
    db.commit()
    changed = api.patch(
        f"/api/jobs/{job.id}", body={"active": False, "customer_id": elsewhere.id}, role="Operator"
    )
    assert (changed.json()["active"], changed.json()["customer_id"]) == (False, elsewhere.id)
    bad = api.patch(f"/api/jobs/{job.id}", body={"customer_id": 999})
    assert (bad.status, bad.json()["error"]["details"][0]["field"]) == (422, "body.customer_id")
    assert api.delete(f"/api/jobs/{job.id}", role="Operator").status == 403
    assert api.delete(f"/api/jobs/{job.id}", role="Admin").status == 204
    assert api.delete(f"/api/jobs/{job.id}", role="Admin").status == 404
    assert api.get("/api/jobs").json()["items"] == []


@pytest.mark.parametrize(
    "lookalike",
    [
        "Contoso\u200b",
        "C\u043entoso",
        "\u0421\u043ent\u043es\u043e",
        "\uff23\uff4f\uff4e\uff54\uff4f\uff53\uff4f",
    ],
    ids=["zero-width space", "Cyrillic o", "Cyrillic C and o", "fullwidth"],
)
def test_a_name_that_looks_like_an_existing_customer_is_refused_naming_it(
    db: Session, api, lookalike: str
) -> None:
    contoso = api.post("/api/customers", body={"name": "Contoso"}).json()
    other = api.post("/api/customers", body={"name": "Fabrikam"}).json()

    for response in (
        api.post("/api/customers", body={"name": lookalike}),
        api.patch(f"/api/customers/{other['id']}", body={"name": lookalike}),
    ):
        assert response.status == 409, response.body
        error = response.json()["error"]
        assert error["code"] in {"name_confusable", "name_taken"}
        assert "Contoso" in error["message"]
    assert sorted(c.name for c in db.scalars(select(Customer))) == ["Contoso", "Fabrikam"]
    assert api.patch(f"/api/customers/{contoso['id']}", body={"name": "CONTOSO"}).status == 200  # its own


def test_invisible_characters_are_removed_and_control_characters_refused(db: Session, api) -> None:
    created = api.post("/api/customers", body={"name": "Nort\u200dhwind\ufeff  Traders"})
    assert (created.status, created.json()["name"]) == (201, "Northwind Traders")
    refused = api.post("/api/customers", body={"name": "Bad\u0007Bell"})
    assert refused.status == 422
    assert refused.json()["error"]["details"][0]["field"] == "body.name"
    assert api.post("/api/customers", body={"name": "\u200b\u200c"}).status == 422


def test_the_database_refuses_two_live_customers_that_look_alike(db: Session) -> None:
    db.add(Customer(name="Contoso"))
    db.flush()
    db.add(Customer(name="C\u043entoso"))
    with pytest.raises(IntegrityError, match="uq_customers_live_skeleton"):
        db.flush()
    db.rollback()


def test_an_approval_under_a_lookalike_customer_name_is_refused_naming_the_customer(db: Session) -> None:
    contoso = a_customer(db, "Contoso")
    with pytest.raises(Conflict, match=f"looks like the existing customer 'Contoso' \\(id {contoso.id}\\)"):
        customer_named(db, "C\u043entoso")
    assert customer_named(db, "contoso").id == contoso.id  # the same name in another case is reused


def test_jobs_are_found_by_job_or_customer_name_for_the_picker(db: Session, api) -> None:
    contoso, adatum = a_customer(db, "Contoso"), a_customer(db, "Adatum")
    nightly = a_job(db, contoso, job_name="Nightly SQL")
    files = a_job(db, adatum, job_name="Files")
    db.commit()

    def found(text: str) -> list[int]:
        return [j["id"] for j in api.get(f"/api/jobs?search={text}").json()["items"]]

    assert found("sql") == [nightly.id]
    assert found("ADATUM") == [files.id]
    assert found("%") == []
