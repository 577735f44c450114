"""A hand-entered Autotask ticket number: one open internal ticket per number, however many requests
link it at once (they take turns on a PostgreSQL advisory lock on the number)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared_code.db.models import Ticket, TicketJobRun, TicketScope
from tests.psa.conftest import Setup, configure
from tests.support.factories import a_job, a_run

NUMBER = "T20261101.0042"


def link(api: Any, run_id: int, number: str = NUMBER) -> Any:
    return api.post(
        f"/api/runs/{run_id}/autotask-ticket/link", role="Operator", body={"ticket_number": number}
    )


def test_ten_parallel_links_of_one_number_make_one_internal_ticket(
    api: Any, db: Session, mapped_run: Setup
) -> None:
    configure(api, enabled=False)  # a number kept by hand

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(lambda _: link(api, mapped_run.run.id), range(10)))

    assert [response.status for response in responses] == [200] * 10, [r.json() for r in responses]
    (ticket,) = db.scalars(select(Ticket)).all()
    assert {response.json()["internal_ticket_id"] for response in responses} == {ticket.id}
    assert ticket.psa_ticket_number == NUMBER
    assert db.scalars(select(TicketJobRun.job_run_id)).all() == [mapped_run.run.id]
    assert db.scalars(select(TicketScope.job_id)).all() == [mapped_run.run.job_id]


def test_the_same_number_on_another_job_is_the_same_ticket_scoped_to_both(
    api: Any, db: Session, mapped_run: Setup
) -> None:
    configure(api, enabled=False)
    other_run = a_run(db, a_job(db, mapped_run.customer, job_name="Nightly files"), status="failed")
    db.commit()

    first, second = link(api, mapped_run.run.id).json(), link(api, other_run.id).json()

    assert first["internal_ticket_id"] == second["internal_ticket_id"]
    assert sorted(db.scalars(select(TicketScope.job_id))) == sorted([mapped_run.run.job_id, other_run.job_id])


def test_a_resolved_ticket_frees_its_number_for_a_new_one(api: Any, db: Session, mapped_run: Setup) -> None:
    configure(api, enabled=False)
    first = link(api, mapped_run.run.id).json()["internal_ticket_id"]
    resolved = api.post(f"/api/tickets/{first}/resolve", role="Operator")
    assert resolved.status == 200, resolved.json()

    second = link(api, mapped_run.run.id).json()["internal_ticket_id"]

    assert second != first
