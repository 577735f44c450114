"""History strips: a page of jobs' last 14 days in one call, each day's worst status and marks."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy.orm import Session

from shared_code.runs.history import HistoryQuery, job_histories
from shared_code.runs.overrides import ObjectResult
from tests.support.factories import a_job, a_run, an_override

NOW = datetime(2026, 11, 20, 11, 0, tzinfo=UTC)  # a Friday, noon in Amsterdam


def test_each_day_shows_its_worst_run_with_marks_and_the_reason(db: Session) -> None:
    job = a_job(db, schedule_kind="daily", schedule_time=time(2, 0))
    ok = a_run(db, job, status="success", at=NOW - timedelta(days=1, hours=2))
    bad = a_run(
        db, job, at=NOW - timedelta(days=1, hours=1), objects=(ObjectResult("SRV1", "failed", "Disk full"),)
    )
    ok.reviewed_at = bad.reviewed_at = NOW
    db.flush()

    strip = job_histories(db, HistoryQuery(job_ids=[job.id]), now=NOW).jobs[0].days
    assert len(strip) == 14 and strip[-1].date.isoformat() == "2026-11-20"
    yesterday = strip[-2]
    assert (yesterday.status, yesterday.run_id, yesterday.runs, yesterday.reviewed) == (
        "failed",
        bad.id,
        2,
        True,
    )
    assert yesterday.message == "1 of 1 objects failed: SRV1 — Disk full"
    assert strip[-3].status == "none"  # a daily job without a run that day


def test_no_run_expected_and_overrides_are_told_apart(db: Session) -> None:
    weekly = a_job(db, schedule_kind="weekly", schedule_weekdays=[0], schedule_time=time(2, 0))  # Mondays
    an_override(db, job=weekly, active_from=NOW - timedelta(days=30))
    a_run(db, weekly, status="warning", at=datetime(2026, 11, 16, 1, 0, tzinfo=UTC))
    db.flush()

    days = {
        d.date.isoformat(): d
        for d in job_histories(db, HistoryQuery(job_ids=[weekly.id]), now=NOW).jobs[0].days
    }
    monday = days["2026-11-16"]
    assert (monday.status, monday.overridden, monday.reviewed) == ("success", True, False)
    assert days["2026-11-17"].status == "not_expected"
    assert days["2026-11-09"].status == "none"


def test_one_call_serves_a_page_of_jobs_in_the_order_asked(db: Session, api) -> None:
    jobs = [a_job(db) for _ in range(3)]
    db.commit()
    ids = [jobs[2].id, jobs[0].id]
    body = api.get(f"/api/job-history?job_ids={ids[0]},{ids[1]}&days=7", role="Viewer").json()
    assert [j["job_id"] for j in body["jobs"]] == ids
    assert all(len(j["days"]) == 7 for j in body["jobs"])
    assert api.get("/api/job-history?job_ids=x").status == 400
