"""Learned schedules, missed runs (once, after the grace period, through the timer and the admin
route) and Daily Jobs. Time is moved by passing ``now``; nothing sleeps."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared_code.db.models import Job, JobRun
from shared_code.runs.daily_jobs import DailyJob, DailyJobsQuery, daily_jobs
from shared_code.runs.missed_runs import generate_missed_runs
from shared_code.runs.schedules import JobSchedule, learn_schedule, learn_schedules
from tests.support.factories import a_job, a_run

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
GRACE = timedelta(hours=2)
MONDAY = datetime(2026, 11, 2, 22, 0, tzinfo=AMSTERDAM)  # a Monday evening


def every(
    days: int, count: int, start: datetime = MONDAY, jitter: timedelta = timedelta(0)
) -> list[datetime]:
    return [start + timedelta(days=days * n) + (jitter if n % 2 else -jitter) for n in range(count)]


def test_a_nightly_job_learns_a_daily_schedule_at_its_usual_time() -> None:
    learned = learn_schedule(every(1, 21, jitter=timedelta(minutes=4)), AMSTERDAM)
    assert learned == JobSchedule("daily", time_of_day=time(21, 56))


def test_weekdays_only_is_a_weekly_schedule() -> None:
    runs = [t for t in every(1, 28) if t.weekday() < 5]
    assert learn_schedule(runs, AMSTERDAM) == JobSchedule(
        "weekly", weekdays=(0, 1, 2, 3, 4), time_of_day=time(22)
    )


def test_a_monthly_job_learns_its_day_of_the_month() -> None:
    runs = [datetime(2026, month, 15, 3, 0, tzinfo=AMSTERDAM) for month in range(7, 11)]
    assert learn_schedule(runs, AMSTERDAM) == JobSchedule("monthly", day_of_month=15, time_of_day=time(3))


def test_too_little_or_irregular_history_learns_nothing() -> None:
    assert learn_schedule(every(1, 2), AMSTERDAM).kind == "none"
    assert learn_schedule(every(9, 5), AMSTERDAM).kind == "none"


def test_a_monthly_schedule_on_the_31st_expects_the_last_day_of_short_months() -> None:
    schedule = JobSchedule("monthly", day_of_month=31, time_of_day=time(3))
    assert schedule.expected_on(date(2026, 4, 30)) and not schedule.expected_on(date(2026, 5, 30))


def nightly_job(db: Session, nights: int = 21, **fields: object) -> Job:
    job = a_job(db, **fields)
    for at in every(1, nights):
        a_run(db, job, at=at, status="success")
    db.commit()
    return job


def missed_runs(db: Session, job: Job) -> list[datetime]:
    return list(
        db.scalars(
            select(JobRun.run_at).where(JobRun.job_id == job.id, JobRun.missed).order_by(JobRun.run_at)
        )
    )


def test_a_missed_run_is_booked_once_after_the_grace_period(db: Session) -> None:
    job = nightly_job(db)
    expected = MONDAY + timedelta(days=21)

    generate_missed_runs(db, now=expected + GRACE - timedelta(minutes=1), grace=GRACE)
    assert missed_runs(db, job) == []
    first = generate_missed_runs(db, now=expected + GRACE, grace=GRACE)
    again = generate_missed_runs(db, now=expected + GRACE + timedelta(hours=1), grace=GRACE)

    assert (first.missed_runs_created, again.missed_runs_created) == (1, 0)
    assert missed_runs(db, job) == [expected]
    run = db.get(JobRun, first.run_ids[0])
    assert (run.status, run.effective_status, run.mail_id) == ("missed", "missed", None)


def test_a_late_run_within_the_grace_period_is_not_missed(db: Session) -> None:
    job = nightly_job(db)
    expected = MONDAY + timedelta(days=21)
    a_run(db, job, at=expected + timedelta(minutes=90), status="success")
    generate_missed_runs(db, now=expected + timedelta(hours=5), grace=GRACE)
    assert missed_runs(db, job) == []


def test_informational_and_inactive_jobs_never_get_missed_runs(db: Session) -> None:
    notices = nightly_job(db, informational=True)
    inactive = nightly_job(db, active=False)
    result = generate_missed_runs(db, now=MONDAY + timedelta(days=25), grace=GRACE)
    assert result.missed_runs_created == 0
    db.expire_all()
    assert (db.get(Job, notices.id).schedule_kind, db.get(Job, inactive.id).schedule_kind) == ("none", "none")


def test_the_timer_and_the_admin_route_run_the_same_pass(db: Session, api, host) -> None:
    job = a_job(db)
    now = datetime.now(UTC)
    for days_ago in range(21, 0, -1):  # nightly runs up to yesterday, two hours past their time
        a_run(db, job, at=now - timedelta(days=days_ago, hours=3), status="success")
    db.commit()

    host.run_timer("missed_runs")
    booked = db.scalar(select(func.count()).select_from(JobRun).where(JobRun.missed))
    response = api.post("/api/missed-runs/generate", role="Admin")

    assert booked == 1  # today's run, three hours overdue with a two-hour grace period
    assert response.status == 200
    assert response.json()["missed_runs_created"] == 0
    assert api.post("/api/missed-runs/generate", role="Operator").status == 403


def test_daily_jobs_show_a_day_in_the_ui_timezone(db: Session) -> None:
    nightly = nightly_job(db)
    idle = a_job(db)
    day = (MONDAY + timedelta(days=20)).date()
    learn_schedules(db, MONDAY + timedelta(days=20, hours=1), AMSTERDAM)  # the hourly timer's first step
    db.commit()

    def page(now: datetime, on: date = day) -> dict[int, object]:
        result = daily_jobs(db, DailyJobsQuery(date=on), now=now, grace=GRACE)
        assert result.timezone == "Europe/Amsterdam"
        return {item.job_id: item for item in result.items}

    evening = page(MONDAY + timedelta(days=20, hours=1))
    assert evening[nightly.id].day_status == "success"
    assert [r.run_at for r in evening[nightly.id].runs] == [MONDAY + timedelta(days=20)]
    assert evening[idle.id].day_status == "not_expected"

    next_day = day + timedelta(days=1)
    expected_at = MONDAY + timedelta(days=21)
    assert page(expected_at + timedelta(hours=1), next_day)[nightly.id].day_status == "pending"
    assert page(expected_at + GRACE, next_day)[nightly.id].day_status == "missed"
    assert page(expected_at + GRACE, next_day)[nightly.id].expected_at == expected_at


def test_a_job_expects_nothing_before_its_first_run_or_its_creation(db: Session) -> None:
    nightly = nightly_job(db)  # nightly runs from November 2026; the job's row was created today
    learn_schedules(db, MONDAY + timedelta(days=22), AMSTERDAM)
    db.commit()
    first_run = min(db.scalars(select(JobRun.run_at).where(JobRun.job_id == nightly.id)))

    def item(on: date) -> DailyJob:
        page = daily_jobs(db, DailyJobsQuery(date=on), now=MONDAY + timedelta(days=30), grace=GRACE)
        (found,) = [i for i in page.items if i.job_id == nightly.id]
        return found

    before, first = item(date(2000, 1, 1)), item(first_run.date())
    assert (before.expected, before.expected_at, before.day_status) == (False, None, "not_expected")
    assert (first.expected, first.expected_at, first.day_status) == (True, first_run, "success")


def test_a_schedule_given_to_a_new_job_books_no_missed_runs_before_the_job_existed(db: Session) -> None:
    job = a_job(db, schedule_kind="daily", schedule_time=time(2, 0))
    db.commit()

    # every 02:00 slot of the three days looked back on lies before the job was created
    result = generate_missed_runs(db, now=job.created_at + timedelta(hours=1), grace=GRACE)

    assert (result.missed_runs_created, missed_runs(db, job)) == (0, [])


def test_daily_jobs_route_refuses_a_bad_date_naming_the_field(api) -> None:
    response = api.get("/api/daily-jobs?date=1999-12-31", role="Viewer")
    assert response.status == 400
    assert response.json()["error"]["details"][0]["field"] == "query.date"
    assert api.get("/api/daily-jobs?date=2026-11-20", role="Viewer").json()["items"] == []
