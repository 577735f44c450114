"""A run's Autotask ticket through the HTTP API: exactly one per run, payload, internal ticket,
propagation, linking, manual numbers, replacement after deletion in the PSA."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared_code.db.models import (
    Customer,
    JobRun,
    PsaTicketCreation,
    Ticket,
    TicketJobRun,
    TicketScope,
)
from tests.psa.conftest import Setup, configure, create
from tests.support.factories import T0, a_run
from tests.support.fake_autotask import FakeAutotask
from tests.support.ticket_sync import legacy


def stored_run(db: Session, run_id: int) -> Any:
    """The run with its ticket, under the names of the run's columns before 0009."""
    db.expire_all()
    return legacy(db, run_id)


def test_a_ticket_is_created_with_the_payload_rules_and_a_matching_internal_ticket(
    api: Any, db: Session, autotask: FakeAutotask, mapped_run: Setup
) -> None:
    response = create(api, mapped_run.run.id)
    assert response.status == 201, response.json()
    result = response.json()
    [ticket] = autotask.tickets.values()
    assert result["autotask_ticket_id"] == ticket["id"]
    assert result["autotask_ticket_number"] == ticket["ticketNumber"]
    assert result["autotask_ticket_url"].endswith(f"TicketID={ticket['id']}")
    assert ticket["title"] == "Backup failed: Acme / Nightly SQL"
    assert ticket["companyID"] == mapped_run.company_id
    assert (ticket["queueID"], ticket["source"], ticket["status"]) == (29683378, 8, 1)
    assert ticket["priority"] == 1  # failed → the Failed priority
    due = datetime.fromisoformat(ticket["dueDateTime"].replace("Z", "+00:00"))
    assert timedelta(hours=7, minutes=59) < due - datetime.now(UTC) <= timedelta(hours=8)
    description = ticket["description"]
    link = f"https://backupchecks.example.test/#/jobs/{mapped_run.job.id}?run={mapped_run.run.id}"
    assert link in description
    assert f"Backupchecks run {mapped_run.run.id}" in description
    assert "- SRV-DC01 [failed]: Error: Failed to create snapshot" in description
    assert "SRV-FS02 [warning]" in description and "SRV-OK" not in description

    run = stored_run(db, mapped_run.run.id)
    assert (legacy(db, run).autotask_ticket_id, legacy(db, run).autotask_ticket_number) == (
        ticket["id"],
        ticket["ticketNumber"],
    )
    assert legacy(db, run).autotask_ticket_created_by and legacy(db, run).autotask_ticket_created_at
    internal = db.get(Ticket, result["internal_ticket_id"])
    assert internal is not None and internal.psa_ticket_id == ticket["id"]
    assert internal.ticket_code == result["internal_ticket_code"]
    assert db.scalars(select(TicketScope.job_id).where(TicketScope.note_id == internal.id)).all() == [
        mapped_run.job.id
    ]
    assert db.scalars(select(TicketJobRun.job_run_id).where(TicketJobRun.note_id == internal.id)).all() == [
        mapped_run.run.id
    ]


def test_a_second_create_is_refused_and_sends_nothing(
    api: Any, autotask: FakeAutotask, mapped_run: Setup
) -> None:
    assert create(api, mapped_run.run.id).status == 201
    again = create(api, mapped_run.run.id)
    assert again.status == 409 and again.json()["error"]["code"] == "run_has_ticket"
    assert autotask.count("POST", "/Tickets") == 1


def test_fifty_concurrent_creates_make_exactly_one_ticket(
    api: Any, db: Session, autotask: FakeAutotask, mapped_run: Setup
) -> None:
    autotask.fail("POST", "^/Tickets$", None, delay=0.5)  # a slow Autotask widens the race
    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(lambda _: create(api, mapped_run.run.id), range(50)))
    statuses = sorted(r.status for r in responses)
    assert statuses.count(201) == 1, statuses
    assert set(statuses) == {201, 409}
    codes = {r.json()["error"]["code"] for r in responses if r.status == 409}
    assert codes <= {"ticket_creation_in_progress", "run_has_ticket"}
    assert autotask.count("POST", "/Tickets") == 1
    assert len(autotask.tickets) == 1
    assert stored_run(db, mapped_run.run.id).autotask_ticket_id == next(iter(autotask.tickets))
    assert len(db.scalars(select(Ticket)).all()) == 1


def test_a_create_answered_after_the_timeout_is_found_and_linked_not_repeated(
    api: Any, db: Session, autotask: FakeAutotask, mapped_run: Setup
) -> None:
    """The fake stores the ticket, then answers later than the client waits (AUTOTASK_TIMEOUT_SECONDS=5)."""
    autotask.fail("POST", "^/Tickets$", None, delay=6.5)
    response = create(api, mapped_run.run.id)
    assert response.status == 201, response.json()
    assert response.json()["found_after_lost_answer"] is True
    assert autotask.count("POST", "/Tickets") == 1
    [ticket_id] = autotask.tickets
    assert stored_run(db, mapped_run.run.id).autotask_ticket_id == ticket_id
    assert create(api, mapped_run.run.id).status == 409
    assert autotask.count("POST", "/Tickets") == 1


def test_a_lost_answer_not_yet_found_makes_the_next_attempt_look_first(
    api: Any, db: Session, autotask: FakeAutotask, mapped_run: Setup
) -> None:
    autotask.fail("POST", "^/Tickets$", 502, body="")  # refused before storing, but a create is not resent
    first = create(api, mapped_run.run.id)
    assert first.status == 503 and first.json()["error"]["code"] == "ticket_outcome_unknown"
    attempt = db.get(PsaTicketCreation, mapped_run.run.id)
    assert attempt is not None and attempt.outcome == "unknown"
    queries_before = autotask.count("POST", "/Tickets/query")
    second = create(api, mapped_run.run.id)
    assert second.status == 201
    assert autotask.count("POST", "/Tickets/query") == queries_before + 1  # looked before creating
    assert autotask.count("POST", "/Tickets") == 2 and len(autotask.tickets) == 1


def test_a_create_autotask_refuses_is_a_502_with_its_text_and_may_be_tried_again(
    api: Any, db: Session, autotask: FakeAutotask, mapped_run: Setup
) -> None:
    autotask.required_on_create.add("issueType")
    response = create(api, mapped_run.run.id)
    assert response.status == 502
    assert "Missing Required Field: issueType" in response.json()["error"]["details"]["psa_messages"]
    assert stored_run(db, mapped_run.run.id).autotask_ticket_id is None
    autotask.required_on_create.discard("issueType")
    assert create(api, mapped_run.run.id).status == 201


def test_the_ticket_propagates_to_the_jobs_later_runs(
    api: Any, db: Session, autotask: FakeAutotask, mapped_run: Setup
) -> None:
    result = create(api, mapped_run.run.id).json()
    later = a_run(db, mapped_run.job, at=T0 + timedelta(days=1), status="failed")
    db.commit()
    later = stored_run(db, later.id)
    assert legacy(db, later).autotask_ticket_id == result["autotask_ticket_id"]
    linked = db.scalars(select(TicketJobRun.note_id).where(TicketJobRun.job_run_id == later.id)).all()
    assert linked == [result["internal_ticket_id"]]


@pytest.mark.parametrize(
    ("mapping", "code"),
    [
        ({"psa_company_id": None, "psa_mapping_status": "unmapped"}, "customer_unmapped"),
        ({"psa_mapping_status": "missing"}, "company_missing"),
        ({"psa_mapping_status": "inactive"}, "company_inactive"),
    ],
)
def test_unmapped_or_broken_mappings_are_409(
    api: Any, db: Session, autotask: FakeAutotask, mapped_run: Setup, mapping: dict[str, Any], code: str
) -> None:
    customer = db.get(Customer, mapped_run.customer.id)
    for name, value in mapping.items():
        setattr(customer, name, value)
    db.commit()
    requests_before = autotask.count()
    response = create(api, mapped_run.run.id)
    assert response.status == 409 and response.json()["error"]["code"] == code
    assert autotask.count() == requests_before


def test_a_ticket_deleted_in_the_psa_may_be_replaced_and_the_old_one_stays_as_history(
    api: Any, db: Session, autotask: FakeAutotask, mapped_run: Setup
) -> None:
    old = create(api, mapped_run.run.id).json()
    db.expire_all()
    run = db.get(JobRun, mapped_run.run.id)
    assert run is not None and run.external_ticket is not None
    run.external_ticket.deleted_in_psa_at = datetime.now(UTC)
    db.commit()
    new = create(api, mapped_run.run.id)
    assert new.status == 201, new.json()
    assert new.json()["autotask_ticket_id"] != old["autotask_ticket_id"]
    assert stored_run(db, mapped_run.run.id).autotask_ticket_deleted_at is None
    history = db.get(Ticket, old["internal_ticket_id"])
    assert history is not None and history.psa_ticket_id == old["autotask_ticket_id"]
    assert history.psa_ticket_number == old["autotask_ticket_number"]


# --- link -------------------------------------------------------------------------------------------


def link(api: Any, run_id: int, number: str, **extra: Any) -> Any:
    return api.post(
        f"/api/runs/{run_id}/autotask-ticket/link", role="Operator", body={"ticket_number": number, **extra}
    )


def test_an_existing_ticket_is_linked_after_looking_it_up(
    api: Any, db: Session, autotask: FakeAutotask, mapped_run: Setup
) -> None:
    existing = autotask.add_ticket(
        companyID=mapped_run.company_id, ticketNumber="T20261101.0007", title="Known issue"
    )
    response = link(api, mapped_run.run.id, "T20261101.0007")
    assert response.status == 200, response.json()
    assert response.json()["autotask_ticket_id"] == existing["id"]
    assert stored_run(db, mapped_run.run.id).autotask_ticket_number == "T20261101.0007"
    assert autotask.count("POST", "/Tickets") == 0
    again = link(api, mapped_run.run.id, "T20261101.0007")
    assert again.status == 409 and again.json()["error"]["code"] == "run_has_ticket"


def test_an_unknown_ticket_number_is_422_naming_the_field(
    api: Any, autotask: FakeAutotask, mapped_run: Setup
) -> None:
    response = link(api, mapped_run.run.id, "T19990101.0001")
    assert response.status == 422
    assert response.json()["error"]["details"][0]["field"] == "body.ticket_number"


def test_while_disabled_a_manual_number_is_kept_on_the_internal_ticket_without_any_request(
    api: Any, db: Session, autotask: FakeAutotask, mapped_run: Setup
) -> None:
    configure(api, enabled=False)
    before = autotask.count()
    response = link(api, mapped_run.run.id, "T20261101.0042")
    assert response.status == 200, response.json()
    assert response.json()["manual"] is True and response.json()["autotask_ticket_id"] is None
    internal = db.get(Ticket, response.json()["internal_ticket_id"])
    assert internal is not None and internal.psa_ticket_number == "T20261101.0042"
    assert internal.psa_ticket_id is None  # nothing to poll
    assert stored_run(db, mapped_run.run.id).autotask_ticket_id is None
    assert autotask.count() == before


def test_compatibility_mode_allows_manual_numbers_while_enabled(
    api: Any, autotask: FakeAutotask, mapped_run: Setup
) -> None:
    refused = link(api, mapped_run.run.id, "T20261101.0042", manual=True)
    assert refused.status == 422
    configure(api, compatibility_mode=True)
    before = autotask.count()
    assert link(api, mapped_run.run.id, "T20261101.0042", manual=True).json()["manual"] is True
    assert autotask.count() == before


def test_operators_not_viewers(api: Any, mapped_run: Setup) -> None:
    assert api.post(f"/api/runs/{mapped_run.run.id}/autotask-ticket", role="Viewer").status == 403
