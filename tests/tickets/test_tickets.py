"""Internal tickets and remarks: codes, scopes, links, resolution, listing, audit."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared_code.db.engine import get_sessionmaker
from shared_code.db.models import AuditLog, TicketJobRun
from shared_code.tickets.codes import next_ticket_code
from tests.support.factories import a_job, a_run

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def test_ticket_codes_use_the_date_in_the_ui_timezone_and_a_daily_sequence(db: Session) -> None:
    late_evening_utc = datetime(2025, 1, 22, 23, 30, tzinfo=UTC)  # already the 23rd in Amsterdam
    assert next_ticket_code(db, late_evening_utc, AMSTERDAM) == "T20250123.0001"
    assert next_ticket_code(db, late_evening_utc, AMSTERDAM) == "T20250123.0002"
    assert next_ticket_code(db, late_evening_utc, ZoneInfo("UTC")) == "T20250122.0001"


def test_ticket_codes_are_unique_under_concurrency(db: Session) -> None:
    now = datetime(2025, 1, 23, 9, 0, tzinfo=UTC)

    def one_code(_: int) -> str:
        with get_sessionmaker()() as session:
            code = next_ticket_code(session, now, AMSTERDAM)
            session.commit()
            return code

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(one_code, range(40)))
    assert sorted(codes) == [f"T20250123.{n:04d}" for n in range(1, 41)]


def test_a_ticket_is_scoped_to_the_jobs_of_its_runs_and_linked_to_them(db: Session, api) -> None:
    job, other = a_job(db), a_job(db)
    run = a_run(db, job)
    db.commit()
    created = api.post(
        "/api/tickets", body={"description": "disk full", "job_ids": [other.id], "run_ids": [run.id]}
    )
    assert created.status == 201
    ticket = created.json()
    assert ticket["ticket_code"].startswith("T") and ticket["ticket_code"].endswith(".0001")
    assert [s["job_id"] for s in ticket["scopes"]] == sorted([job.id, other.id])
    assert {s["job_name"] for s in ticket["scopes"]} == {job.job_name, other.job_name}
    assert list(db.scalars(select(TicketJobRun.job_run_id))) == [run.id]
    assert db.scalars(select(AuditLog.action).where(AuditLog.entity_type == "ticket")).all() == ["create"]


def test_a_note_needs_a_job_and_unknown_ids_name_the_field(db: Session, api) -> None:
    nothing = api.post("/api/remarks", body={"description": "x"})
    assert nothing.status == 422
    assert nothing.json()["error"]["details"][0]["field"] == "body.job_ids"
    unknown = api.post("/api/tickets", body={"description": "x", "job_ids": [999]})
    assert unknown.status == 422
    assert unknown.json()["error"]["details"][0]["field"] == "body.job_ids"
    nul = api.post("/api/tickets", body={"description": "a\u0000b", "job_ids": [1]})
    assert nul.status == 422
    assert nul.json()["error"]["details"][0]["field"] == "body.description"


def test_linking_is_idempotent_and_refused_once_resolved(db: Session, api) -> None:
    job = a_job(db)
    first, second = a_run(db, job), a_run(db, job)
    db.commit()
    ticket = api.post(
        "/api/tickets", body={"description": "x", "job_ids": [job.id], "run_ids": [first.id]}
    ).json()
    links = api.post(f"/api/tickets/{ticket['id']}/links", body={"run_ids": [first.id, second.id]})
    assert links.json() == {"linked": [second.id], "already_linked": [first.id]}
    assert api.post(f"/api/tickets/{ticket['id']}/links", body={"run_ids": [999]}).status == 422

    assert api.post(f"/api/tickets/{ticket['id']}/resolve").status == 200
    again = api.post(f"/api/tickets/{ticket['id']}/resolve")
    assert (again.status, again.json()["error"]["code"]) == (409, "already_resolved")
    assert api.post(f"/api/tickets/{ticket['id']}/links", body={"run_ids": [first.id]}).status == 409
    assert api.post("/api/tickets/999/resolve").status == 404


def test_resolving_ends_every_scope(db: Session, api) -> None:
    job, other = a_job(db), a_job(db)
    db.commit()
    ticket = api.post("/api/tickets", body={"description": "x", "job_ids": [job.id, other.id]}).json()
    resolved = api.post(f"/api/tickets/{ticket['id']}/resolve").json()
    assert all(scope["resolved_at"] == resolved["resolved_at"] for scope in resolved["scopes"])


def test_lists_are_filtered_by_state_and_job(db: Session, api) -> None:
    job, other = a_job(db), a_job(db)
    db.commit()
    open_one = api.post("/api/remarks", body={"description": "a", "job_ids": [job.id]}).json()
    resolved = api.post("/api/remarks", body={"description": "b", "job_ids": [other.id]}).json()
    api.post(f"/api/remarks/{resolved['id']}/resolve")

    def ids(query: str) -> list[int]:
        return [r["id"] for r in api.get(f"/api/remarks?{query}", role="Viewer").json()["items"]]

    assert ids("") == [open_one["id"]]
    assert ids("state=resolved") == [resolved["id"]]
    assert ids("state=all") == [resolved["id"], open_one["id"]]
    assert ids(f"state=all&job_id={other.id}") == [resolved["id"]]
