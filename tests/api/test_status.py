"""GET /api/status: the pipeline's own state, so that "no failures" never means "nothing arrived"."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy.orm import Session

from shared_code.db.models import GraphSubscription, IngestionFailure, PipelineEvent
from shared_code.mail.catch_up import run_catch_up
from shared_code.mail.graph_client import GraphError, default_mailbox
from shared_code.pipeline_status import pipeline_status
from tests.support.factories import a_customer, a_job, a_mail, a_run


def codes(status) -> list[str]:
    return [item.code for item in status.attention]


def a_subscription(db: Session, expires_in: timedelta, **fields) -> GraphSubscription:
    subscription = GraphSubscription(
        id="sub-1",
        resource="users/x/mailFolders/inbox/messages",
        expires_at=datetime.now(UTC) + expires_in,
        **fields,
    )
    db.add(subscription)
    db.flush()
    return subscription


def test_a_viewer_reads_the_status_and_a_fresh_system_says_the_subscription_is_missing(api) -> None:
    response = api.get("/api/status", role="Viewer")
    assert response.status == 200
    body = response.json()
    assert body["subscription"]["expected"] is True and body["subscription"]["expires_at"] is None
    assert [a["code"] for a in body["attention"]] == ["subscription_missing"]
    assert body["attention"][0]["severity"] == "danger"
    assert (body["failures_waiting"], body["jobs_overdue"], body["catch_up"]["outcome"]) == (0, 0, None)
    assert api.get("/api/status", role=None).status == 401


def test_a_live_subscription_is_reported_and_its_near_expiry_needs_attention(db: Session) -> None:
    renewed = datetime.now(UTC) - timedelta(hours=1)
    a_subscription(db, timedelta(days=2), last_renewed_at=renewed)
    db.add(
        PipelineEvent(
            kind="lifecycle", outcome="reauthorizationRequired", detail={"subscription_id": "sub-1"}
        )
    )
    db.flush()
    status = pipeline_status(db)
    assert (status.subscription.id, status.subscription.last_renewed_at) == ("sub-1", renewed)
    assert (status.subscription.lifecycle_events, status.subscription.last_lifecycle_event) == (
        1,
        "reauthorizationRequired",
    )
    assert codes(status) == []

    status = pipeline_status(db, now=datetime.now(UTC) + timedelta(days=2) - timedelta(hours=3))
    assert codes(status) == ["subscription_expiring"]
    assert "expires in 2 h" in status.attention[0].message or "expires in 3 h" in status.attention[0].message
    assert codes(pipeline_status(db, now=datetime.now(UTC) + timedelta(days=3))) == ["subscription_missing"]


def test_a_failed_catch_up_and_a_stale_one_need_attention(db: Session) -> None:
    a_subscription(db, timedelta(days=2))
    now = datetime.now(UTC)
    db.add(PipelineEvent(kind="catch_up", outcome="ok", at=now - timedelta(minutes=10), detail={}))
    db.flush()
    assert codes(pipeline_status(db, now=now)) == []
    assert codes(pipeline_status(db, now=now + timedelta(hours=1))) == ["catch_up_stale"]
    db.add(
        PipelineEvent(kind="catch_up", outcome="failed", at=now, detail={"error": "GraphUnavailable: 503"})
    )
    db.flush()
    status = pipeline_status(db, now=now)
    assert codes(status) == ["catch_up_failed"]
    assert "GraphUnavailable: 503" in status.attention[0].message


def test_the_catch_up_records_its_outcome(db: Session, graph) -> None:
    assert run_catch_up(default_mailbox()) is not None
    status = pipeline_status(db)
    assert status.catch_up.outcome == "ok" and status.catch_up.detail["pages"] >= 1
    assert status.subscription.id is not None and codes(status) == []

    graph.fail("GET", r"/delta", 400, times=10)
    with pytest.raises(GraphError):
        run_catch_up(default_mailbox())
    db.expire_all()
    status = pipeline_status(db)
    assert status.catch_up.outcome == "failed" and codes(status) == ["catch_up_failed"]


def test_failed_ingestions_waiting_are_counted_resolved_ones_not(db: Session) -> None:
    a_subscription(db, timedelta(days=2))
    for n, state in enumerate(("failing", "poisoned", "permanent", "resolved")):
        db.add(IngestionFailure(source="graph", message_ref=f"m{n}", state=state, last_error="boom"))
    db.flush()
    status = pipeline_status(db)
    assert status.failures_waiting == 3
    assert codes(status) == ["failures_waiting"]
    assert status.attention[0].message.startswith("3 mail(s) could not be ingested")


def test_silence_longer_than_the_usual_gap_needs_attention(db: Session) -> None:
    a_subscription(db, timedelta(days=2))
    newest = datetime.now(UTC) - timedelta(minutes=30)
    for n in range(30):
        a_mail(db, received_at=newest - timedelta(hours=n))  # hourly mail
    status = pipeline_status(db)
    assert (status.mail.newest_received_at, status.mail.usual_gap_minutes) == (newest, 60)
    assert codes(status) == []
    later = pipeline_status(db, now=newest + timedelta(hours=7))
    assert codes(later) == ["no_recent_mail"]
    assert "No mail has arrived for 7 h, longer than the usual gap of 60 min" in later.attention[0].message


def test_jobs_overdue_by_their_learned_schedule(db: Session) -> None:
    a_subscription(db, timedelta(days=2))
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    customer = a_customer(db, "Contoso")
    daily = dict(schedule_kind="daily", schedule_time=time(2, 0))
    late = a_job(db, customer, job_name="Late", **daily)
    on_time = a_job(db, customer, job_name="On time", **daily)
    only_missed = a_job(db, customer, job_name="Only a missed run", **daily)
    a_run(db, on_time, at=datetime(2026, 11, 20, 1, 5, tzinfo=UTC))
    a_run(db, late, at=datetime(2026, 11, 18, 1, 5, tzinfo=UTC))
    from shared_code.runs.creation import create_run

    create_run(db, only_missed, run_at=datetime(2026, 11, 20, 1, 0, tzinfo=UTC), status="missed")
    db.flush()
    status = pipeline_status(db, now=now)
    assert sorted(job.job_name for job in status.overdue) == ["Late", "Only a missed run"]
    assert status.jobs_overdue == 2
    assert status.overdue[0].customer_name == "Contoso"
    assert "jobs_overdue" in codes(status)
    named = next(a for a in status.attention if a.code == "jobs_overdue").message
    assert "Contoso · Late" in named and "Contoso · Only a missed run" in named
