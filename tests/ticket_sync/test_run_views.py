"""Run Checks and run details carry what the site shows for a run's Autotask ticket: the
resolution-origin badge, the deleted-in-PSA warning and whether Resolve is available (and why not)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from shared_code.db.models import AppSettings, ExternalTicket
from tests.support.factories import T0, a_job, a_run


def test_badges_warning_and_resolve_availability_in_run_checks_and_run_details(db: Session, api) -> None:
    db.add(AppSettings(id=1, autotask_enabled=True, autotask_completed_status_id=5))
    job = a_job(db)
    by_psa, by_us, deleted, open_ticket, no_ticket = (
        a_run(db, job, at=T0.replace(hour=h)) for h in range(1, 6)
    )
    tickets = {}
    for number, run in enumerate((by_psa, by_us, deleted, open_ticket), 1):
        tickets[run.id] = run.external_ticket = ExternalTicket(
            provider="autotask", external_id=100 + number, number=f"T20261120.000{number}"
        )
    tickets[by_psa.id].resolved_at, tickets[by_psa.id].resolution_origin = T0, "psa"
    tickets[by_us.id].resolved_at, tickets[by_us.id].resolution_origin = T0, "backupchecks"
    tickets[deleted.id].deleted_in_psa_at = T0
    db.commit()

    listed = {
        run["id"]: run["psa_ticket"]
        for run in api.get("/api/run-checks", role="Viewer").json()["customers"][0]["jobs"][0]["runs"]
    }
    detailed = {
        run.id: api.get(f"/api/runs/{run.id}", role="Viewer").json()["psa_ticket"]
        for run in (by_psa, by_us, deleted, open_ticket, no_ticket)
    }

    assert listed == detailed
    shown = {
        run_id: (
            a["resolution_badge"],
            a["ticket_deleted_in_psa"],
            a["can_resolve"],
            a["resolve_blocked_reason"],
        )
        for run_id, a in listed.items()
    }
    assert shown == {
        by_psa.id: ("Resolved by PSA", False, False, "already_resolved"),
        by_us.id: ("Resolved by Backupchecks", False, False, "already_resolved"),
        deleted.id: (None, True, False, "deleted_in_psa"),
        open_ticket.id: (None, False, True, None),
        no_ticket.id: (None, False, False, "no_ticket"),
    }
    warning = listed[deleted.id]["deleted_in_psa_warning"]
    assert "T20261120.0003" in warning and "link or create a replacement" in warning
    assert listed[deleted.id]["ticket_number"] == "T20261120.0003"  # references kept
    assert listed[by_psa.id]["deleted_in_psa_warning"] is None
