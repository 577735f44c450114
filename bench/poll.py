"""The Run Checks poll over 2,000 linked tickets, against the floor of the same requests.

    .venv/bin/python bench/poll.py [--tickets 2000] [--completed 20] [--deleted 20]
                                   [--latency-ms 50] [--rounds 3] [--database-url URL]

Starts the fake Autotask (tests/support/fake_autotask_sync.py) with the given latency on every
request, and an embedded PostgreSQL (or uses --database-url, whose public schema it rebuilds).
Each round links that many runs to as many fresh tickets, of which some are completed and some
deleted in the fake since the last poll, and then measures:
- the poll: ``poll_linked_tickets`` as ``POST /api/run-checks/poll`` runs it (scope query,
  Autotask requests, the one transaction that records what was learnt);
- the floor: the same Autotask requests (the active-ticket queries of at most 500 ids and one
  lookup per completed or deleted ticket) sent one after another by one httpx client in a loop,
  with no database and no parsing beyond JSON.
It prints wall time and request count of both (medians over the rounds).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FIRST_RUN = datetime(2026, 11, 1, tzinfo=UTC)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--completed", type=int, default=20)
    parser.add_argument("--deleted", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", help="a throw-away database (its public schema is rebuilt)")
    args = parser.parse_args()

    from tests.support.database import TestDatabase
    from tests.support.fake_autotask_sync import SyncFakeAutotask

    autotask = SyncFakeAutotask()
    autotask.start()
    database = TestDatabase(args.database_url)  # embedded unless given
    os.environ.update(DATABASE_URL=database.url, AUTH_MODE="off")
    logging.getLogger("shared_code").setLevel(logging.ERROR)  # one line per changed ticket otherwise
    try:
        database.reset_schema()
        return run(args, autotask)
    finally:
        autotask.stop()
        database.stop()


def run(args: argparse.Namespace, autotask: Any) -> int:
    from shared_code.db.migrate import upgrade

    upgrade("head")
    polls, floors = [], []
    for number in range(1, args.rounds + 1):
        ticket_ids, changed = arrange(args, autotask)
        floors.append(floor(autotask, ticket_ids, changed))
        arrange_again(autotask, changed)
        polls.append(poll(autotask))
        print(
            f"round {number}: poll {polls[-1]['seconds']:.3f} s, {polls[-1]['requests']} requests "
            f"({polls[-1]['outcome']}); floor {floors[-1]['seconds']:.3f} s, {floors[-1]['requests']} requests"
        )
    poll_s = statistics.median(p["seconds"] for p in polls)
    floor_s = statistics.median(f["seconds"] for f in floors)
    print(
        f"\nPoll over {args.tickets:,} linked tickets ({args.completed} completed, {args.deleted} deleted), "
        f"{args.latency_ms:.0f} ms latency per request, median of {args.rounds}:"
    )
    print(f"  poll (service, DB included): {poll_s:7.3f} s   {polls[0]['requests']} Autotask requests")
    print(f"  floor (httpx, one loop):     {floor_s:7.3f} s   {floors[0]['requests']} Autotask requests")
    print(f"  poll / floor: {poll_s / floor_s:.2f}x")
    return 0


def arrange(args: argparse.Namespace, autotask: Any) -> tuple[list[int], dict[str, list[int]]]:
    """Fresh runs and tickets; some tickets completed and some deleted since the last poll."""
    from sqlalchemy import text

    from shared_code.db.engine import unit_of_work
    from shared_code.db.models import AppSettings, Customer, ExternalTicket, Job, JobRun
    from tests.support import fake_autotask

    autotask.reset()
    with unit_of_work() as session:
        session.execute(
            text("TRUNCATE customers, jobs, job_runs, tickets, external_tickets, settings, audit_log RESTART IDENTITY CASCADE")
        )
        session.add(
            AppSettings(
                id=1,
                autotask_enabled=True,
                autotask_username=fake_autotask.USERNAME,
                autotask_integration_code=fake_autotask.INTEGRATION_CODE,
                autotask_api_base_url=autotask.api_url,
                autotask_completed_status_id=fake_autotask.COMPLETE,
            )
        )
        job = Job(
            customer=Customer(name="Bench customer"),
            from_address="backup@example.test",
            backup_software="Veeam",
            backup_type="Backup Job",
            job_name="Bench job",
        )
        session.add(job)
        session.flush()
        ticket_ids = [int(autotask.add_ticket(status=1)["id"]) for _ in range(args.tickets)]
        links = session.scalars(
            ExternalTicket.__table__.insert().returning(ExternalTicket.id),
            [
                {"provider": "autotask", "external_id": ticket_id, "number": f"T20261101.{index:04d}"}
                for index, ticket_id in enumerate(ticket_ids)
            ],
        ).all()
        session.execute(
            JobRun.__table__.insert(),
            [
                {
                    "job_id": job.id,
                    "run_at": FIRST_RUN + timedelta(minutes=index),
                    "status": "missed",
                    "effective_status": "missed",
                    "missed": True,
                    "external_ticket_id": link_id,
                }
                for index, link_id in enumerate(links)
            ],
        )
    changed = {
        "completed": ticket_ids[: args.completed],
        "deleted": ticket_ids[args.completed : args.completed + args.deleted],
    }
    arrange_again(autotask, changed)
    autotask.latency(args.latency_ms / 1000)
    return ticket_ids, changed


def arrange_again(autotask: Any, changed: dict[str, list[int]]) -> None:
    from tests.support import fake_autotask

    for ticket_id in changed["completed"]:
        autotask.set_status(ticket_id, fake_autotask.COMPLETE)
    for ticket_id in changed["deleted"]:
        autotask.tickets.pop(ticket_id, None)


def floor(autotask: Any, ticket_ids: list[int], changed: dict[str, list[int]]) -> dict[str, Any]:
    import httpx

    from tests.support import fake_autotask

    headers = {
        "ApiIntegrationCode": fake_autotask.INTEGRATION_CODE,
        "UserName": fake_autotask.USERNAME,
        "Secret": fake_autotask.SECRET,
    }
    before = len(autotask.requests)
    started = time.perf_counter()
    with httpx.Client(base_url=autotask.api_url, headers=headers) as client:
        for start in range(0, len(ticket_ids), 500):
            body = {
                "MaxRecords": 500,
                "IncludeFields": ["id", "ticketNumber", "status"],
                "filter": [
                    {"op": "in", "field": "id", "value": ticket_ids[start : start + 500]},
                    {"op": "noteq", "field": "status", "value": fake_autotask.COMPLETE},
                ],
            }
            client.post("/Tickets/query", json=body).raise_for_status()
        for ticket_id in changed["completed"] + changed["deleted"]:
            client.get(f"/Tickets/{ticket_id}").raise_for_status()
    return {"seconds": time.perf_counter() - started, "requests": len(autotask.requests) - before}


def poll(autotask: Any) -> dict[str, Any]:
    from sqlalchemy import select

    from shared_code.app_settings import load_app_settings
    from shared_code.db.engine import unit_of_work
    from shared_code.db.models import JobRun
    from shared_code.psa.polling import poll_linked_tickets
    from shared_code.psa.provider import ReferenceData
    from tests.support.ticket_sync import fake_provider

    def open_provider() -> Any:
        return fake_provider(autotask, timeout=10.0, retry_budget=5.0)

    with unit_of_work() as session:
        run_ids = list(session.scalars(select(JobRun.id)))
    before = len(autotask.requests)
    started = time.perf_counter()
    with unit_of_work() as session:
        result = poll_linked_tickets(
            session, load_app_settings(session), open_provider, ReferenceData(), run_ids, budget_seconds=30.0
        )
    seconds = time.perf_counter() - started
    outcome = ", ".join(f"{name} {value}" for name, value in result.counts.model_dump().items())
    return {"seconds": seconds, "requests": len(autotask.requests) - before, "outcome": outcome}


if __name__ == "__main__":
    sys.exit(main())
