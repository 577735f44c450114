"""The ticket title and description composed from a run (limits, shortening, the reference)."""

from __future__ import annotations

from datetime import UTC, datetime

from shared_code.psa import ticket_text
from shared_code.psa.ticket_text import DESCRIPTION_MAX, TITLE_MAX, FailingObject, RunFacts


def facts(**changes: object) -> RunFacts:
    values: dict[str, object] = {
        "run_id": 77,
        "job_id": 5,
        "customer": "Acme",
        "job_name": "Nightly",
        "backup_software": "Veeam",
        "backup_type": "Backup Job",
        "status": "failed",
        "run_at": datetime(2026, 11, 20, 6, 0, tzinfo=UTC),
        "missed": False,
        "objects": (FailingObject("VM1", "failed", "Snapshot   failed\nbadly"),),
    }
    return RunFacts(**(values | changes))  # type: ignore[arg-type]


def test_the_description_has_the_header_link_reference_and_objects() -> None:
    text = ticket_text.ticket_description(facts(), "https://bc.example.test/")
    assert "Customer: Acme" in text and "Job: Nightly (Veeam Backup Job)" in text
    assert "Job page: https://bc.example.test/#/jobs/5?run=77" in text
    assert "Backupchecks run 77" in text
    assert "- VM1 [failed]: Snapshot failed badly" in text


def test_a_long_description_is_shortened_with_a_visible_marker_keeping_the_reference() -> None:
    objects = tuple(FailingObject(f"VM{i:04d}", "failed", "x" * 150) for i in range(200))
    text = ticket_text.ticket_description(facts(objects=objects), "https://bc.example.test")
    assert len(text) <= DESCRIPTION_MAX
    assert "Backupchecks run 77" in text and "#/jobs/5?run=77" in text
    assert text.splitlines()[-1].startswith("[… shortened by Backupchecks:")
    assert "more failing objects" in text


def test_a_description_that_fits_is_not_marked() -> None:
    objects = tuple(FailingObject(f"VM{i}", "failed", "short") for i in range(10))
    assert "shortened" not in ticket_text.ticket_description(facts(objects=objects), None)


def test_missed_runs_and_long_titles() -> None:
    assert "No backup report arrived" in ticket_text.ticket_description(
        facts(missed=True, status="missed"), None
    )
    title = ticket_text.ticket_title(facts(job_name="J" * 400))
    assert len(title) == TITLE_MAX and title.endswith("…")
