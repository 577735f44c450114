"""A customer's report through the API: counts by effective status, success rate, failing streak,
tickets, overrides, the period in the UI timezone, CSV and PDF."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from shared_code.db.models import ExternalTicket, JobRun, Ticket
from tests.reports.pdf_text import pdf_text
from tests.support.factories import a_customer, a_job, a_run, a_ticket, an_override

NOVEMBER = "from=2026-11-01&to=2026-11-30"


def nov(day: int, hour: int = 2) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=UTC)


def a_missed_run(db: Session, job, at: datetime) -> JobRun:
    from shared_code.runs.creation import create_run

    return create_run(db, job, run_at=at, status="missed")


def test_counts_rates_and_the_longest_failing_streak(db: Session, api) -> None:
    customer = a_customer(db, "Contoso")
    job = a_job(db, customer, job_name="Nightly")
    for day, status in [(1, "success"), (2, "failed"), (3, "failed"), (5, "warning"), (6, "failed")]:
        a_run(db, job, at=nov(day), status=status)
    a_missed_run(db, job, nov(4))
    a_run(db, job, at=nov(7, 1), status="failed")
    a_run(db, job, at=nov(7, 3), status="success")  # the day's last run succeeded: no failing day
    a_run(db, job, at=datetime(2026, 10, 31, 23, 30, tzinfo=UTC), status="failed")  # 1 Nov in Amsterdam (CET)
    a_run(db, job, at=datetime(2026, 11, 30, 23, 30, tzinfo=UTC), status="failed")  # 1 Dec in Amsterdam
    notices = a_job(db, customer, job_name="DSM update", informational=True)
    a_run(db, notices, at=nov(3), status="warning")
    db.commit()

    response = api.get(f"/api/reports/customers/{customer.id}?{NOVEMBER}", role="Viewer")
    assert response.status == 200, response.body
    report = response.json()
    assert report["period"] == {"from": "2026-11-01", "to": "2026-11-30", "timezone": "Europe/Amsterdam"}
    nightly, update = report["jobs"]
    assert nightly["runs"] == {"success": 2, "warning": 1, "failed": 5, "missed": 1}
    assert (nightly["expected_runs"], nightly["successful_runs"], nightly["success_rate"]) == (9, 3, 0.3333)
    # 1 Nov ended well (03:00 after the 00:30 failure); 2, 3 failed and 4 missed: three days in a row
    assert nightly["longest_failing_streak"] == {
        "days": 3,
        "first_day": "2026-11-02",
        "last_day": "2026-11-04",
    }
    assert update["informational"] and update["runs"]["warning"] == 1 and update["success_rate"] is None
    assert report["totals"]["runs"] == nightly["runs"]  # informational jobs count nowhere
    assert [m["run_at"] for m in report["missed_runs"]] == ["2026-11-04T02:00:00Z"]
    assert sum(w["expected_runs"] for w in report["weeks"]) == 9
    assert report["weeks"][0]["week_start"] == "2026-10-26"  # the Monday before 1 November


def test_tickets_opened_in_the_period_with_their_time_to_resolve(db: Session, api) -> None:
    customer = a_customer(db)
    job = a_job(db, customer, job_name="Files")
    run = a_run(db, job, at=nov(10), status="failed")
    resolved = a_ticket(db, job, code="T20261110.0001", description="USB disk full")
    resolved.created_at, resolved.resolved_at = nov(10, 8), nov(11, 20)
    open_ticket = a_ticket(db, job, code="T20261112.0001", description="Agent offline")
    open_ticket.created_at = nov(12)
    older = a_ticket(db, job, code="T20261001.0001")
    older.created_at = datetime(2026, 10, 1, tzinfo=UTC)
    link = ExternalTicket(
        provider="autotask",
        external_id=9001,
        number="T20261110.0042",
        created_at=nov(10, 9),
        resolved_at=nov(10, 21),
        resolution_origin="psa",
    )
    db.add(link)
    db.flush()
    run.external_ticket_id = link.id
    db.commit()

    report = api.get(f"/api/reports/customers/{customer.id}?{NOVEMBER}").json()
    tickets = {t["ticket_code"]: t for t in report["tickets"]}
    assert set(tickets) == {"T20261110.0001", "T20261112.0001"}
    assert tickets["T20261110.0001"]["hours_to_resolve"] == 36.0
    assert tickets["T20261112.0001"]["resolved_at"] is None and tickets["T20261112.0001"]["jobs"] == ["Files"]
    (psa,) = report["psa_tickets"]
    assert (psa["ticket_number"], psa["hours_to_resolve"], psa["resolution_origin"]) == (
        "T20261110.0042",
        12.0,
        "psa",
    )
    assert db.query(Ticket).count() == 3


def test_overrides_in_force_during_the_period_say_who_why_and_when(db: Session, api) -> None:
    customer, other = a_customer(db), a_customer(db)
    job = a_job(db, customer, job_name="SQL")
    sql_override = an_override(db, job=job, reason="Known SQL log warning", active_from=nov(1))
    sql_override.created_by = "alice"
    an_override(
        db,
        customer=customer,
        reason="Ended before",
        active_from=nov(1) - timedelta(days=60),
        active_until=nov(1) - timedelta(days=1),
    )
    an_override(db, customer=other, reason="Someone else's")
    an_override(db, reason="Everyone", active_from=nov(20))
    a_run(db, job, at=nov(2), status="warning")
    db.commit()

    report = api.get(f"/api/reports/customers/{customer.id}?{NOVEMBER}").json()
    overrides = {o["reason"]: o for o in report["overrides"]}
    assert set(overrides) == {"Known SQL log warning", "Everyone"}
    sql = overrides["Known SQL log warning"]
    assert (sql["scope"], sql["job_name"], sql["created_by"], sql["runs_changed"]) == (
        "job",
        "SQL",
        "alice",
        1,
    )
    assert report["jobs"][0]["runs"]["success"] == 1  # counted by effective status


def test_snoozed_runs_of_the_period_say_who_why_and_when(db: Session, api) -> None:
    customer = a_customer(db, "Fabrikam")
    job = a_job(db, customer, job_name="File server")
    snoozed = a_run(db, job, at=nov(5), status="warning")
    earlier = a_run(db, job, at=nov(1) - timedelta(days=2), status="failed")
    db.commit()
    for run in (snoozed, earlier):
        answer = api.post(
            "/api/runs/snooze", role="Operator", body={"run_ids": [run.id], "reason": "Disk swap on Monday"}
        )
        assert answer.status == 200, answer.json()

    report = api.get(f"/api/reports/customers/{customer.id}?{NOVEMBER}").json()
    (snooze,) = report["snoozes"]  # the October run is outside the period
    assert (snooze["job_name"], snooze["status"], snooze["reason"]) == (
        "File server",
        "warning",
        "Disk swap on Monday",
    )
    assert snooze["snoozed_by"] and snooze["snoozed_at"]
    assert report["jobs"][0]["runs"]["warning"] == 1  # a snoozed run still counts by its status
    rows = list(
        csv.DictReader(
            io.StringIO(
                api.get(f"/api/reports/customers/{customer.id}?{NOVEMBER}&format=csv").body.decode(
                    "utf-8-sig"
                )
            )
        )
    )
    assert rows[0]["snoozed_runs"] == "1"
    assert "Disk swap on Monday" in pdf_text(
        api.get(f"/api/reports/customers/{customer.id}?{NOVEMBER}&format=pdf").body
    )


def test_csv_has_one_row_per_job_with_the_json_figures(db: Session, api) -> None:
    customer = a_customer(db, "=Formula Ltd")
    job = a_job(db, customer, job_name="Nightly")
    a_run(db, job, at=nov(3), status="success")
    a_run(db, job, at=nov(4), status="failed")
    a_job(db, customer, job_name="Weekly")
    db.commit()

    response = api.get(f"/api/reports/customers/{customer.id}?{NOVEMBER}&format=csv")
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.body.decode("utf-8-sig"))))
    assert [r["job_name"] for r in rows] == ["Nightly", "Weekly"]
    assert rows[0]["customer"] == "'=Formula Ltd"  # never a formula in a spreadsheet
    assert (rows[0]["success"], rows[0]["failed"], rows[0]["success_rate"]) == ("1", "1", "0.5000")
    assert rows[1]["expected_runs"] == "0" and rows[1]["success_rate"] == ""


def test_pdf_holds_the_customer_period_jobs_and_rates(db: Session, api) -> None:
    customer = a_customer(db, "Northwind Traders")
    job = a_job(db, customer, job_name="Exchange backup")
    a_run(db, job, at=nov(3), status="success")
    a_run(db, job, at=nov(4), status="failed")
    an_override(db, job=job, reason="Accepted with the customer", active_from=nov(1))
    db.commit()

    response = api.get(f"/api/reports/customers/{customer.id}?{NOVEMBER}&format=pdf", role="Viewer")
    assert response.status == 200 and response.headers["content-type"].startswith("application/pdf")
    text = pdf_text(response.body)
    for expected in (
        "Northwind Traders",
        "2026-11-01 to 2026-11-30",
        "Exchange backup",
        "50.0 %",
        "Accepted with the customer",
    ):
        assert expected in text, expected


def test_the_period_defaults_to_last_month_and_is_validated(db: Session, api) -> None:
    customer = a_customer(db)
    db.commit()
    report = api.get(f"/api/reports/customers/{customer.id}").json()
    first, last = report["period"]["from"], report["period"]["to"]
    assert first.endswith("-01") and first[:7] == last[:7] and first < datetime.now(UTC).date().isoformat()

    backwards = api.get(f"/api/reports/customers/{customer.id}?from=2026-11-30&to=2026-11-01")
    assert backwards.status == 400 and backwards.json()["error"]["details"][0]["field"] == "query.to"
    too_long = api.get(f"/api/reports/customers/{customer.id}?from=2025-01-01&to=2026-11-01")
    assert too_long.status == 400 and "366" in too_long.json()["error"]["message"]
    assert api.get(f"/api/reports/customers/{customer.id}?format=xlsx").status == 400
    assert api.get("/api/reports/customers/999999").status == 404
