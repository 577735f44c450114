"""The admin purge removes only what is soft-deleted, in the order the real foreign keys force;
the audit log lists every change. (pg8000 raises foreign-key violations as ProgrammingError,
hence DBAPIError below.)"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from shared_code.admin.purge import STEPS
from shared_code.db.live import soft_delete_mails
from shared_code.db.models import (
    Customer,
    Job,
    JobRun,
    MailMessage,
    MailObject,
    Override,
    RemarkJobRun,
    RemarkScope,
    TicketJobRun,
    TicketScope,
)
from shared_code.runs.overrides import ObjectResult
from tests.support.factories import T0, a_customer, a_job, a_remark, a_run, a_ticket, an_override

CONFIRMED = {"confirm": "purge"}


def soft_deleted_customer_with_everything(db: Session) -> Customer:
    """A customer and job touching every foreign key the purge must respect, then soft-deleted."""
    customer = a_customer(db, "Gone")
    job = a_job(db, customer)
    a_ticket(db, job)
    a_remark(db, job)
    an_override(db, job=job)
    an_override(db, customer=customer)
    a_run(db, job, objects=(ObjectResult("vm01", "failed", "boom"),))  # linked to both by propagation
    customer.deleted_at = job.deleted_at = T0
    db.execute(soft_delete_mails(T0, MailMessage.job_id == job.id))
    db.flush()
    return customer


def counts(db: Session) -> dict[str, int]:
    tables = (
        Customer,
        Job,
        JobRun,
        MailMessage,
        MailObject,
        Override,
        TicketJobRun,
        RemarkJobRun,
        TicketScope,
        RemarkScope,
    )
    return {t.__tablename__: db.scalar(select(func.count()).select_from(t)) for t in tables}


def test_purge_removes_soft_deleted_rows_and_keeps_live_ones(db: Session, api) -> None:
    soft_deleted_customer_with_everything(db)
    live = a_job(db)
    a_run(db, live, objects=(ObjectResult("vm02", "success", None),))
    db.add(Override(scope="global", result_status="success", reason="old", created_by="op", deleted_at=T0))
    db.commit()

    response = api.post("/api/admin/purge", role="Admin", body=CONFIRMED)

    assert response.status == 200
    assert response.json() == {
        "ticket_job_runs": 1,
        "remark_job_runs": 1,
        "ticket_scopes": 1,
        "remark_scopes": 1,
        "overrides": 3,
        "mails_unlinked": 1,
        "mail_objects": 1,
        "job_runs": 1,
        "jobs": 1,
        "mails": 1,
        "customers": 1,
        "feedback": dict.fromkeys(
            (
                "feedback_items",
                "feedback_replies",
                "feedback_votes",
                "feedback_attachments",
                "feedback_attachment_bytes",
            ),
            0,
        ),  # none deleted (tests/feedback purge it)
    }
    assert counts(db) == {
        "customers": 1,
        "jobs": 1,
        "job_runs": 1,
        "mail_messages": 1,
        "mail_objects": 1,
        "overrides": 0,
        "ticket_job_runs": 0,
        "remark_job_runs": 0,
        "ticket_scopes": 0,
        "remark_scopes": 0,
    }
    assert api.post("/api/admin/purge", role="Operator", body=CONFIRMED).status == 403


def test_a_deleted_customer_with_live_jobs_is_kept(db: Session, api) -> None:
    customer = a_customer(db)
    a_job(db, customer)
    customer.deleted_at = T0
    db.commit()
    assert api.post("/api/admin/purge", body=CONFIRMED).json()["customers"] == 0


NEEDED_BEFORE = [name for name, _ in STEPS if name not in {"job_runs", "jobs", "mails", "customers"}]


@pytest.mark.parametrize("skipped", NEEDED_BEFORE)
def test_each_earlier_step_is_forced_by_a_foreign_key(db: Session, skipped: str) -> None:
    soft_deleted_customer_with_everything(db)
    with pytest.raises(DBAPIError, match="violates foreign key constraint"), db.begin_nested():
        for name, step in STEPS:
            if name != skipped:
                step(db)


def test_runs_must_go_before_their_mails(db: Session) -> None:
    soft_deleted_customer_with_everything(db)
    order = [name for name, _ in STEPS if name not in {"job_runs", "jobs"}]
    order.insert(order.index("customers"), "jobs")  # the mails before the jobs and their runs
    steps = dict(STEPS)
    with pytest.raises(DBAPIError, match="fk_job_runs_mail_id"), db.begin_nested():
        for name in order:
            steps[name](db)


def test_the_audit_log_lists_changes_newest_first_with_filters(db: Session, api) -> None:
    created = api.post("/api/customers", body={"name": "Acme"}).json()
    api.patch(f"/api/customers/{created['id']}", body={"active": False})
    api.post("/api/customers", body={"name": "Other"})

    entries = api.get("/api/audit-log", role="Admin").json()["items"]
    assert [e["action"] for e in entries] == ["create", "update", "create"]
    assert entries[1]["details"] == {"active": False}
    assert entries[1]["correlation_id"]
    mine = api.get(f"/api/audit-log?entity_type=customer&entity_id={created['id']}").json()["items"]
    assert [e["action"] for e in mine] == ["update", "create"]
    assert api.get("/api/audit-log?since=2000-01-01T00:00:00Z&limit=1").json()["page"]["has_more"] is True
    assert api.get("/api/audit-log", role="Operator").status == 403
