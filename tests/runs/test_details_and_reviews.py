"""Run details and bulk review; the Resolve availability rule."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared_code.db.models import AppSettings, AuditLog, Job, JobRun
from shared_code.runs.creation import create_run
from shared_code.runs.overrides import ObjectResult
from shared_code.tickets.external import LinkFields, resolve_blocked_reason
from tests.support.factories import T0, a_job, a_run, an_override


def test_run_detail_shows_objects_mail_override_and_autotask_state(db: Session, api) -> None:
    job = a_job(db)
    an_override(db, match_message="retry", reason="known retry")
    run = a_run(db, job, status="warning", objects=(ObjectResult("vm01", "warning", "Retry succeeded"),))
    db.commit()

    detail = api.get(f"/api/runs/{run.id}", role="Viewer").json()

    assert (detail["status"], detail["effective_status"], detail["overridden"]) == (
        "warning",
        "success",
        True,
    )
    assert detail["override"]["reason"] == "known retry"
    assert detail["objects"] == [
        {"name": "vm01", "object_type": None, "status": "warning", "message": "Retry succeeded"}
    ]
    assert detail["mail"]["subject"] == f"[warning] {job.job_name}"
    assert detail["job"]["customer_name"] == job.customer.name
    assert detail["psa_ticket"]["resolve_blocked_reason"] == "psa_disabled"
    assert (detail["tickets"], detail["remarks"]) == ([], [])


def test_a_missed_run_has_no_mail(db: Session, api) -> None:
    run = create_run(db, a_job(db), run_at=T0, status="missed")
    db.commit()
    detail = api.get(f"/api/runs/{run.id}").json()
    assert (detail["missed"], detail["mail"], detail["objects"]) == (True, None, [])


def test_runs_of_a_deleted_job_are_not_found(db: Session, api) -> None:
    run = a_run(db, a_job(db))
    db.get(Job, run.job_id).deleted_at = T0
    db.commit()
    assert api.get(f"/api/runs/{run.id}").status == 404
    assert api.get("/api/runs/2147483647").status == 404


def test_review_and_unreview_in_bulk_idempotently(db: Session, api) -> None:
    job = a_job(db)
    first, second = a_run(db, job), a_run(db, job)
    db.commit()

    reviewed = api.post("/api/runs/review", body={"run_ids": [first.id]}, role="Operator").json()
    again = api.post("/api/runs/review", body={"run_ids": [first.id, second.id]}, role="Operator").json()
    assert reviewed == {"changed": [first.id], "unchanged": []}
    assert again == {"changed": [second.id], "unchanged": [first.id]}
    db.expire_all()
    assert db.get(JobRun, first.id).reviewed_by and db.get(JobRun, first.id).reviewed_at

    assert api.get("/api/run-checks").json()["customers"] == []
    back = api.post("/api/runs/unreview", body={"run_ids": [first.id]}).json()
    assert back == {"changed": [first.id], "unchanged": []}
    assert api.get("/api/run-checks").json()["customers"][0]["jobs"][0]["unreviewed_runs"] == 1
    actions = db.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions == ["review", "review", "unreview"]


def test_an_unknown_run_fails_the_whole_review_naming_it(db: Session, api) -> None:
    run = a_run(db, a_job(db))
    db.commit()
    response = api.post("/api/runs/review", body={"run_ids": [run.id, 424242]})
    assert response.status == 404
    assert "424242" in response.json()["error"]["message"]
    db.expire_all()
    assert db.get(JobRun, run.id).reviewed_at is None


def test_review_needs_run_ids(api) -> None:
    response = api.post("/api/runs/review", body={"run_ids": []})
    assert response.status == 422
    assert response.json()["error"]["details"][0]["field"] == "body.run_ids"


def settings(**fields: object) -> AppSettings:
    return AppSettings(**{"autotask_enabled": True, "autotask_completed_status_id": 5, **fields})


def ticket_run(**fields: object) -> LinkFields:
    return LinkFields(
        **{
            "ticket_provider": "autotask",
            "ticket_external_id": 7,
            "ticket_deleted_in_psa_at": None,
            "ticket_resolved_at": None,
            **fields,
        }
    )


@pytest.mark.parametrize(
    ("config", "run", "reason"),
    [
        (settings(), ticket_run(), None),
        (settings(autotask_enabled=False), ticket_run(), "psa_disabled"),
        (settings(autotask_completed_status_id=None), ticket_run(), "no_completed_status"),
        (settings(), ticket_run(ticket_external_id=None), "no_ticket"),
        (settings(), ticket_run(ticket_deleted_in_psa_at=T0), "deleted_in_psa"),
        (settings(), ticket_run(ticket_provider="connectwise"), "other_psa"),
        (settings(), ticket_run(ticket_resolved_at=T0), "already_resolved"),
    ],
)
def test_resolve_is_available_only_when_every_condition_holds(config, run, reason) -> None:
    assert resolve_blocked_reason(config, run) == reason


def test_twenty_parallel_reviews_of_the_same_runs_keep_the_first_reviewer_and_audit_once(
    db: Session, api, entra
) -> None:
    job = a_job(db)
    run_ids = [a_run(db, job).id for _ in range(5)]
    db.commit()
    start = threading.Barrier(20)

    def review_as(n: int) -> tuple[str, dict]:
        reviewer = f"operator{n}@example.test"
        headers = entra.bearer("Operator", preferred_username=reviewer)
        start.wait()
        response = api.post("/api/runs/review", role=None, headers=headers, body={"run_ids": run_ids})
        assert response.status == 200, response.body
        return reviewer, response.json()

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(review_as, range(20)))

    changed_by = {run_id: reviewer for reviewer, answer in answers for run_id in answer["changed"]}
    assert sorted(changed_by) == run_ids  # every run changed by exactly one request…
    assert sum(len(answer["changed"]) for _, answer in answers) == len(run_ids)
    for _, answer in answers:  # …and reported unchanged to the others
        assert sorted(answer["changed"] + answer["unchanged"]) == run_ids
    db.expire_all()
    audit = db.execute(select(AuditLog.entity_id, AuditLog.actor).where(AuditLog.action == "review")).all()
    assert sorted((int(entity), actor) for entity, actor in audit) == sorted(changed_by.items())
    for run_id, reviewer in changed_by.items():
        assert db.get(JobRun, run_id).reviewed_by == reviewer


def test_a_snoozed_run_leaves_run_checks_with_who_and_why_and_the_next_run_comes_back(
    db: Session, api
) -> None:
    job = a_job(db)
    known = a_run(db, job, at=T0)
    db.commit()

    snoozed = api.post(
        "/api/runs/snooze", role="Operator", body={"run_ids": [known.id], "reason": "Disk ordered"}
    )
    assert snoozed.status == 200, snoozed.body
    assert snoozed.json() == {"changed": [known.id], "unchanged": []}
    again = api.post("/api/runs/snooze", body={"run_ids": [known.id], "reason": "other"})
    assert again.json() == {"changed": [], "unchanged": [known.id]}
    assert api.get("/api/run-checks").json()["customers"] == []

    history = api.get(f"/api/jobs/{job.id}").json()["runs"][0]
    assert (history["snooze_reason"], history["reviewed"]) == ("Disk ordered", False)
    assert history["snoozed_by"] and history["snoozed_at"]
    db.expire_all()
    entry = db.scalars(select(AuditLog).where(AuditLog.action == "snooze")).one()
    assert (entry.entity_id, entry.details) == (str(known.id), {"reason": "Disk ordered"})

    nxt = a_run(db, job, at=T0 + timedelta(days=1))
    db.commit()
    runs = [
        r["id"] for c in api.get("/api/run-checks").json()["customers"] for j in c["jobs"] for r in j["runs"]
    ]
    assert runs == [nxt.id]


def test_a_snooze_taken_back_returns_the_run_to_run_checks_unreviewed(db: Session, api) -> None:
    job = a_job(db)
    snoozed, other = a_run(db, job, at=T0), a_run(db, job, at=T0 + timedelta(hours=1))
    db.commit()
    api.post("/api/runs/snooze", role="Operator", body={"run_ids": [snoozed.id], "reason": "Wrong run"})

    back = api.post("/api/runs/unsnooze", role="Operator", body={"run_ids": [snoozed.id, other.id]})
    assert back.status == 200, back.body
    assert back.json() == {"changed": [snoozed.id], "unchanged": [other.id]}
    again = api.post("/api/runs/unsnooze", role="Operator", body={"run_ids": [snoozed.id]})
    assert again.json() == {"changed": [], "unchanged": [snoozed.id]}
    runs = [
        r["id"] for c in api.get("/api/run-checks").json()["customers"] for j in c["jobs"] for r in j["runs"]
    ]
    assert sorted(runs) == sorted([snoozed.id, other.id])
    history = {r["id"]: r for r in api.get(f"/api/jobs/{job.id}").json()["runs"]}[snoozed.id]
    assert (history["snoozed_at"], history["snooze_reason"], history["reviewed"]) == (None, None, False)
    db.expire_all()
    entry = db.scalars(select(AuditLog).where(AuditLog.action == "unsnooze")).one()
    assert (entry.entity_id, entry.details) == (str(snoozed.id), {"reason": "Wrong run"})


def test_taking_a_snooze_back_is_an_operators_and_names_unknown_runs(db: Session, api) -> None:
    run = a_run(db, a_job(db))
    db.commit()
    assert api.post("/api/runs/unsnooze", role="Viewer", body={"run_ids": [run.id]}).status == 403
    missing = api.post("/api/runs/unsnooze", role="Operator", body={"run_ids": [run.id, 999999]})
    assert missing.status == 404 and "999999" in missing.json()["error"]["message"]


def test_a_snooze_needs_a_reason(db: Session, api) -> None:
    run = a_run(db, a_job(db))
    db.commit()
    response = api.post("/api/runs/snooze", body={"run_ids": [run.id], "reason": ""})
    assert response.status == 422
    assert response.json()["error"]["details"][0]["field"] == "body.reason"
