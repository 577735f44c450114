"""Customers and jobs: CRUD, unique live names, soft delete, the inactive-customer filter, job details."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared_code.db.models import AuditLog, Customer, Job, MailMessage
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
    assert detail["runs"][0]["autotask"]["can_resolve"] is False
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
