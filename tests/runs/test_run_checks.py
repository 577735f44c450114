"""Run Checks: grouping, order, filters, paging, indicators, and a fixed statement count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, func, insert, select
from sqlalchemy.orm import Session

from shared_code.db.engine import get_engine
from shared_code.db.models import AppSettings, ExternalTicket, JobRun
from tests.support.factories import T0, a_customer, a_job, a_remark, a_run, a_ticket, an_override


def test_unreviewed_runs_are_grouped_by_customer_and_job_newest_first(db: Session, api) -> None:
    beta, alpha = a_customer(db, "Beta"), a_customer(db, "Alpha")
    beta_job, alpha_job = a_job(db, beta, job_name="Nightly"), a_job(db, alpha, job_name="Files")
    older, newer = a_run(db, alpha_job, at=T0), a_run(db, alpha_job, at=T0 + timedelta(days=1))
    a_run(db, beta_job)
    reviewed = a_run(db, beta_job, at=T0 + timedelta(hours=1))
    reviewed.reviewed_at = T0
    db.commit()

    page = api.get("/api/run-checks", role="Viewer").json()

    assert [c["customer_name"] for c in page["customers"]] == ["Alpha", "Beta"]
    alpha_group = page["customers"][0]["jobs"][0]
    assert [r["id"] for r in alpha_group["runs"]] == [newer.id, older.id]
    assert alpha_group["unreviewed_runs"] == 2
    beta_group = page["customers"][1]["jobs"][0]
    assert reviewed.id not in [r["id"] for r in beta_group["runs"]]
    assert beta_group["unreviewed_runs"] == 1
    assert page["page"] == {"offset": 0, "limit": 50, "has_more": False}


def test_filters_by_customer_effective_status_and_software(db: Session, api) -> None:
    customer = a_customer(db)
    veeam = a_job(db, customer, job_name="A nightly")  # named: no dependence on the factory's counter
    synology = a_job(db, customer, job_name="B nightly", backup_software="Synology")
    a_run(db, veeam, status="failed")
    a_run(db, synology, status="warning")
    an_override(db, job=synology)
    overridden = a_run(db, synology, status="warning", at=T0 + timedelta(hours=1))
    other = a_job(db)
    a_run(db, other)
    db.commit()

    def job_ids(query: str) -> list[int]:
        page = api.get(f"/api/run-checks?{query}").json()
        return [j["job_id"] for c in page["customers"] for j in c["jobs"]]

    assert job_ids(f"customer_id={customer.id}") == [veeam.id, synology.id]
    assert job_ids("software=SYNOLOGY") == [synology.id]
    assert job_ids("status=success") == [synology.id]
    assert job_ids(f"customer_id={customer.id}&status=failed,success") == [veeam.id, synology.id]
    assert job_ids(f"customer_id={customer.id}&status=failed,missed") == [veeam.id]
    run = api.get("/api/run-checks?status=success").json()["customers"][0]["jobs"][0]["runs"][0]
    assert run["id"] == overridden.id
    assert (run["status"], run["effective_status"], run["overridden"]) == ("warning", "success", True)


def test_lists_show_names_in_natural_order(db: Session, api) -> None:
    customer = a_customer(db)
    names = ["job 10", "Job 9", "Job 1", "job 2b", "Job 2a"]
    jobs = {name: a_job(db, customer, job_name=name) for name in names}
    for job in jobs.values():
        a_run(db, job)
    db.commit()
    natural = ["Job 1", "Job 2a", "job 2b", "Job 9", "job 10"]

    checks = api.get("/api/run-checks").json()["customers"][0]["jobs"]
    listed = api.get(f"/api/jobs?customer_id={customer.id}").json()["items"]

    assert [j["job_id"] for j in checks] == [jobs[name].id for name in natural]
    assert [j["id"] for j in listed] == [jobs[name].id for name in natural]


def test_bad_filters_name_the_field(api) -> None:
    for bad in ("purple", "failed,purple", ","):
        response = api.get(f"/api/run-checks?status={bad}")
        assert response.status == 400
        assert response.json()["error"]["details"][0]["field"].startswith("query.status")


def test_pages_by_job(db: Session, api) -> None:
    customer = a_customer(db)
    jobs = [a_job(db, customer, job_name=f"Job {n}") for n in range(3)]
    for job in jobs:
        a_run(db, job)
    db.commit()
    first = api.get("/api/run-checks?limit=2").json()
    second = api.get("/api/run-checks?limit=2&offset=2").json()
    assert [j["job_id"] for j in first["customers"][0]["jobs"]] == [jobs[0].id, jobs[1].id]
    assert first["page"]["has_more"] is True
    assert [j["job_id"] for j in second["customers"][0]["jobs"]] == [jobs[2].id]
    assert second["page"]["has_more"] is False


def test_indicators_show_open_tickets_remarks_and_the_autotask_state(db: Session, api) -> None:
    job = a_job(db)
    a_ticket(db, job)
    a_ticket(db, job, resolved_at=T0)
    a_remark(db, job)
    run = a_run(db, job)
    run.external_ticket = ExternalTicket(
        provider="autotask",
        external_id=99,
        number="T20261120.0099",
        url="https://ww1.autotask.example/ticket/99",
        resolution_origin="psa",
        resolved_at=T0,
        deleted_in_psa_at=T0,
    )
    db.add(AppSettings(id=1, autotask_enabled=True, autotask_completed_status_id=5))
    db.commit()

    group = api.get("/api/run-checks").json()["customers"][0]["jobs"][0]
    assert (group["open_tickets"], group["open_remarks"]) == (1, 1)
    autotask = group["runs"][0]["psa_ticket"]
    assert autotask["ticket_number"] == "T20261120.0099"
    assert autotask["ticket_url"].endswith("/99")
    assert (autotask["resolution_origin"], autotask["ticket_deleted_in_psa"]) == ("psa", True)
    assert (autotask["can_resolve"], autotask["resolve_blocked_reason"]) == (False, "deleted_in_psa")


def count_statements(api, path: str) -> int:
    statements: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert api.get(path).status == 200
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(statements)


def add_runs(db: Session, jobs: list, count: int, *, start: int = 0) -> None:
    db.execute(
        insert(JobRun),
        [
            {
                "job_id": jobs[n % len(jobs)].id,
                "run_at": T0 - timedelta(minutes=n),
                "status": "failed",
                "effective_status": "failed",
                "missed": True,
            }
            for n in range(start, start + count)
        ],
    )
    db.commit()


@pytest.mark.slow  # writes 10,000 runs
def test_the_statement_count_is_the_same_for_10_and_10000_runs(db: Session, api) -> None:
    jobs = [a_job(db) for _ in range(10)]
    add_runs(db, jobs, 10)
    with_10 = count_statements(api, "/api/run-checks")
    add_runs(db, jobs, 9_990, start=10)
    assert db.scalar(select(func.count()).select_from(JobRun)) == 10_000
    with_10_000 = count_statements(api, "/api/run-checks")
    assert with_10 == with_10_000 == 3


def test_informational_jobs_are_listed_but_deleted_and_inactive_ones_are_not(db: Session, api) -> None:
    notices = a_job(db, informational=True)
    deleted, inactive = a_job(db), a_job(db, active=False)
    dormant_customer_job = a_job(db, a_customer(db, active=False))
    for job in (notices, deleted, inactive, dormant_customer_job):
        a_run(db, job, status="success")
    deleted.deleted_at = T0
    db.commit()
    groups = api.get("/api/run-checks").json()["customers"]
    assert [(j["job_id"], j["informational"]) for c in groups for j in c["jobs"]] == [(notices.id, True)]


def test_informational_jobs_can_be_left_out_or_asked_for_alone(db: Session, api) -> None:
    customer = a_customer(db)
    notices, backups = a_job(db, customer, job_name="A notices", informational=True), a_job(db, customer)
    for job in (notices, backups):
        a_run(db, job, status="success")
    db.commit()

    def job_ids(query: str) -> list[int]:
        page = api.get(f"/api/run-checks?{query}").json()
        return [j["job_id"] for c in page["customers"] for j in c["jobs"]]

    assert job_ids("informational=false") == [backups.id]
    assert job_ids("informational=true") == [notices.id]
    assert job_ids("") == [notices.id, backups.id]
