"""Overrides through the API: applied to the runs they reach, re-applied on change, parsed status kept."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from shared_code.db.models import JobRun
from shared_code.runs.overrides import ObjectResult
from tests.support.factories import T0, a_job, a_run

SINCE_YESTERDAY = (T0 - timedelta(days=1)).isoformat()


def statuses(db: Session, *runs: JobRun) -> list[tuple[str, str]]:
    db.expire_all()
    return [(db.get(JobRun, r.id).status, db.get(JobRun, r.id).effective_status) for r in runs]


def test_a_backdated_override_is_applied_to_existing_runs_keeping_the_parsed_status(db: Session, api) -> None:
    job, other = a_job(db), a_job(db)
    run, untouched = a_run(db, job, status="warning"), a_run(db, other, status="warning")
    db.commit()
    created = api.post(
        "/api/overrides",
        role="Operator",
        body={
            "scope": "job",
            "job_id": job.id,
            "match_status": "warning",
            "result_status": "success",
            "reason": "known warning",
            "active_from": SINCE_YESTERDAY,
        },
    )
    assert created.status == 201, created.body
    assert created.json()["runs_changed"] == 1
    assert statuses(db, run, untouched) == [("warning", "success"), ("warning", "warning")]
    assert db.get(JobRun, run.id).override_id == created.json()["id"]


def test_a_new_override_starts_now_and_leaves_older_runs_alone(db: Session, api) -> None:
    run = a_run(db, a_job(db), status="failed")
    db.commit()
    created = api.post("/api/overrides", body={"scope": "global", "result_status": "success", "reason": "x"})
    assert created.json()["runs_changed"] == 0
    assert statuses(db, run) == [("failed", "failed")]


def test_changing_and_deleting_an_override_recomputes_its_runs(db: Session, api) -> None:
    job = a_job(db)
    match = a_run(db, job, status="warning", objects=(ObjectResult("vm01", "warning", "Snapshot retry"),))
    other = a_run(db, job, status="warning", objects=(ObjectResult("vm02", "warning", "Low disk"),))
    db.commit()
    override = api.post(
        "/api/overrides",
        body={
            "scope": "customer",
            "customer_id": job.customer_id,
            "result_status": "success",
            "reason": "x",
            "active_from": SINCE_YESTERDAY,
        },
    ).json()
    assert statuses(db, match, other) == [("warning", "success"), ("warning", "success")]

    narrowed = api.patch(f"/api/overrides/{override['id']}", body={"match_message": "snapshot"}).json()
    assert narrowed["runs_changed"] == 1
    assert statuses(db, match, other) == [("warning", "success"), ("warning", "warning")]

    assert api.delete(f"/api/overrides/{override['id']}").status == 204
    assert statuses(db, match, other) == [("warning", "warning"), ("warning", "warning")]
    assert api.get("/api/overrides").json()["items"] == []


def test_the_more_specific_override_wins_on_reapplication(db: Session, api) -> None:
    job = a_job(db)
    run = a_run(db, job, status="failed")
    db.commit()
    api.post(
        "/api/overrides",
        body={"scope": "global", "result_status": "warning", "reason": "g", "active_from": SINCE_YESTERDAY},
    )
    api.post(
        "/api/overrides",
        body={
            "scope": "job",
            "job_id": job.id,
            "result_status": "success",
            "reason": "j",
            "active_from": SINCE_YESTERDAY,
        },
    )
    assert statuses(db, run) == [("failed", "success")]


def test_bad_overrides_name_the_field(db: Session, api) -> None:
    job = a_job(db)
    db.commit()

    def field_of(body: dict) -> str:
        response = api.post("/api/overrides", body={"result_status": "success", "reason": "x", **body})
        assert response.status == 422, response.body
        return response.json()["error"]["details"][0]["field"]

    assert field_of({"scope": "job"}) == "body.job_id"
    assert field_of({"scope": "global", "job_id": job.id}) == "body.job_id"
    assert field_of({"scope": "customer", "customer_id": 999}) == "body.customer_id"
    assert (
        field_of({"scope": "global", "active_from": T0.isoformat(), "active_until": T0.isoformat()})
        == "body.active_until"
    )
    assert (
        field_of({"scope": "global", "active_from": "2026-01-01T00:00:00"}) == "body.active_from"
    )  # no timezone
    assert api.patch("/api/overrides/999", body={"reason": "x"}).status == 404


def test_an_override_applied_to_the_unreviewed_runs_is_previewed_then_changes_them(db: Session, api) -> None:
    job = a_job(db)
    reviewed = a_run(db, job, status="warning", at=T0 - timedelta(days=3))
    reviewed.reviewed_at = T0
    waiting = [a_run(db, job, status="warning", at=T0 + timedelta(hours=h)) for h in (0, 1)]
    db.commit()
    body = {
        "scope": "job",
        "job_id": job.id,
        "match_status": "warning",
        "result_status": "success",
        "reason": "known warning",
        "apply_to_unreviewed": True,
    }

    preview = api.post("/api/overrides/preview", role="Operator", body=body)
    assert preview.status == 200, preview.body
    assert preview.json() == {"runs_changed": 2}
    assert api.get("/api/overrides").json()["items"] == []  # the preview stored nothing
    assert statuses(db, *waiting) == [("warning", "warning")] * 2

    created = api.post("/api/overrides", role="Operator", body=body)
    assert created.json()["runs_changed"] == 2
    listed = api.get("/api/overrides").json()["items"][0]
    assert listed["target_name"] == f"{job.customer.name} · {job.job_name}"
    assert statuses(db, reviewed, *waiting) == [("warning", "warning")] + [("warning", "success")] * 2


def test_a_preview_names_a_bad_field_like_the_creation_does(db: Session, api) -> None:
    response = api.post(
        "/api/overrides/preview", body={"scope": "job", "result_status": "success", "reason": "x"}
    )
    assert response.status == 422
    assert response.json()["error"]["details"][0]["field"] == "body.job_id"
