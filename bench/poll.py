"""The Run Checks poll over 2,000 linked tickets, against the floor of the same requests.

    .venv/bin/python bench/poll.py [--provider autotask|connectwise] [--tickets 2000] [--completed 20]
                                   [--deleted 20] [--latency-ms 50] [--rounds 3] [--database-url URL]

Starts the fake PSA (Autotask: tests/support/fake_autotask_sync.py; ConnectWise:
tests/support/fake_connectwise.py) with the given latency on every request, and an embedded
PostgreSQL (or uses --database-url, whose public schema it rebuilds).
Each round links that many runs to as many fresh tickets, of which some are completed and some
deleted in the fake since the last poll, and then measures:
- the poll: ``poll_linked_tickets`` as ``POST /api/run-checks/poll`` runs it (scope query,
  Autotask requests, the one transaction that records what was learnt);
- the floor: the same PSA requests (the active-ticket queries of at most 500 ids for Autotask, a
  page of 1,000 for ConnectWise, and one lookup per completed or deleted ticket) sent one after
  another by one httpx client in a loop, with no database and no parsing beyond JSON.
It prints wall time and request count of both (medians over the rounds), and the poll's writes to
the PSA (none expected).
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
    parser.add_argument("--provider", choices=("autotask", "connectwise"), default="autotask")
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--completed", type=int, default=20)
    parser.add_argument("--deleted", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", help="a throw-away database (its public schema is rebuilt)")
    args = parser.parse_args()

    from tests.support.database import TestDatabase

    side = ConnectWiseSide(args) if args.provider == "connectwise" else AutotaskSide(args)
    database = TestDatabase(args.database_url)  # embedded unless given
    os.environ.update(DATABASE_URL=database.url, AUTH_MODE="off")
    logging.getLogger("shared_code").setLevel(logging.ERROR)  # one line per changed ticket otherwise
    try:
        database.reset_schema()
        return run(args, side)
    finally:
        side.stop()
        database.stop()


def run(args: argparse.Namespace, side: Any) -> int:
    from shared_code.db.migrate import upgrade

    upgrade("head")
    polls, floors = [], []
    for number in range(1, args.rounds + 1):
        ticket_ids, changed = side.arrange()
        floors.append(side.floor(ticket_ids, changed))
        side.arrange_again(changed)
        polls.append(poll(side))
        print(
            f"round {number}: poll {polls[-1]['seconds']:.3f} s, {polls[-1]['requests']} requests, "
            f"{polls[-1]['writes']} writes ({polls[-1]['outcome']}); "
            f"floor {floors[-1]['seconds']:.3f} s, {floors[-1]['requests']} requests"
        )
    poll_s = statistics.median(p["seconds"] for p in polls)
    floor_s = statistics.median(f["seconds"] for f in floors)
    print(
        f"\nPoll over {args.tickets:,} linked tickets ({args.completed} completed, {args.deleted} deleted), "
        f"{args.latency_ms:.0f} ms latency per request, median of {args.rounds}:"
    )
    name = side.label
    print(f"  poll (service, DB included): {poll_s:7.3f} s   {polls[0]['requests']} {name} requests")
    print(f"  floor (httpx, one loop):     {floor_s:7.3f} s   {floors[0]['requests']} {name} requests")
    print(f"  poll / floor: {poll_s / floor_s:.2f}x   writes to {name} by the poll: {polls[0]['writes']}")
    return 0


def link_runs(settings: Any, provider: str, ticket_ids: list[int]) -> None:
    """A fresh database: the settings row, one job, and a missed run linked to each ticket."""
    from sqlalchemy import text

    from shared_code.db.engine import unit_of_work
    from shared_code.db.models import Customer, ExternalTicket, Job, JobRun

    with unit_of_work() as session:
        session.execute(
            text(
                "TRUNCATE customers, jobs, job_runs, tickets, external_tickets, settings, audit_log"
                " RESTART IDENTITY CASCADE"
            )
        )
        session.add(settings)
        job = Job(
            customer=Customer(name="Bench customer"),
            from_address="backup@example.test",
            backup_software="Veeam",
            backup_type="Backup Job",
            job_name="Bench job",
        )
        session.add(job)
        session.flush()
        links = session.scalars(
            ExternalTicket.__table__.insert().returning(ExternalTicket.id),
            [
                {"provider": provider, "external_id": ticket_id, "number": str(ticket_id)}
                for ticket_id in ticket_ids
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


class AutotaskSide:
    label = "Autotask"

    def __init__(self, args: argparse.Namespace) -> None:
        from tests.support.fake_autotask_sync import SyncFakeAutotask

        self.args = args
        self.fake = SyncFakeAutotask()
        self.fake.start()

    def stop(self) -> None:
        self.fake.stop()

    def arrange(self) -> tuple[list[int], dict[str, list[int]]]:
        """Fresh runs and tickets; some tickets completed and some deleted since the last poll."""
        from shared_code.db.models import AppSettings
        from tests.support import fake_autotask

        self.fake.reset()
        ticket_ids = [int(self.fake.add_ticket(status=1)["id"]) for _ in range(self.args.tickets)]
        settings = AppSettings(
            id=1,
            autotask_enabled=True,
            autotask_username=fake_autotask.USERNAME,
            autotask_integration_code=fake_autotask.INTEGRATION_CODE,
            autotask_api_base_url=self.fake.api_url,
            autotask_completed_status_id=fake_autotask.COMPLETE,
        )
        link_runs(settings, "autotask", ticket_ids)
        changed = {
            "completed": ticket_ids[: self.args.completed],
            "deleted": ticket_ids[self.args.completed : self.args.completed + self.args.deleted],
        }
        self.arrange_again(changed)
        self.fake.latency(self.args.latency_ms / 1000)
        return ticket_ids, changed

    def arrange_again(self, changed: dict[str, list[int]]) -> None:
        from tests.support import fake_autotask

        for ticket_id in changed["completed"]:
            self.fake.set_status(ticket_id, fake_autotask.COMPLETE)
        for ticket_id in changed["deleted"]:
            self.fake.tickets.pop(ticket_id, None)

    def floor(self, ticket_ids: list[int], changed: dict[str, list[int]]) -> dict[str, Any]:
        import httpx

        from tests.support import fake_autotask

        headers = {
            "ApiIntegrationCode": fake_autotask.INTEGRATION_CODE,
            "UserName": fake_autotask.USERNAME,
            "Secret": fake_autotask.SECRET,
        }
        before = len(self.fake.requests)
        started = time.perf_counter()
        with httpx.Client(base_url=self.fake.api_url, headers=headers) as client:
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
        return {"seconds": time.perf_counter() - started, "requests": len(self.fake.requests) - before}

    def provider(self) -> Any:
        from tests.support.ticket_sync import fake_provider

        return fake_provider(self.fake, timeout=10.0, retry_budget=5.0)

    def requests(self) -> int:
        return len(self.fake.requests)

    def writes(self) -> int:
        return sum(
            1
            for method, path in self.fake.requests
            if method in ("PATCH", "PUT", "DELETE") or (method == "POST" and not path.endswith("/query"))
        )


class ConnectWiseSide:
    """ConnectWise PSA: the fake's tickets closed by a person or deleted before the poll (reads change
    nothing there, so every round finds them so)."""

    label = "ConnectWise"

    def __init__(self, args: argparse.Namespace) -> None:
        from tests.support.fake_connectwise import FakeConnectWise

        self.args = args
        self.fake = FakeConnectWise().start()

    def stop(self) -> None:
        self.fake.stop()

    def arrange(self) -> tuple[list[int], dict[str, list[int]]]:
        from shared_code.db.models import AppSettings
        from tests.support import fake_connectwise

        self.fake.reset()
        completed, deleted = self.args.completed, self.args.deleted
        ticket_ids = self.fake.add_linked_tickets(self.args.tickets, closed=completed, deleted=deleted)
        settings = AppSettings(
            id=1, psa_provider="connectwise", connectwise_closed_status_id=fake_connectwise.COMPLETED
        )
        link_runs(settings, "connectwise", ticket_ids)
        self.fake.latency_seconds = self.args.latency_ms / 1000
        changed = {
            "completed": ticket_ids[:completed],
            "deleted": ticket_ids[completed : completed + deleted],
        }
        return ticket_ids, changed

    def arrange_again(self, changed: dict[str, list[int]]) -> None:
        pass  # the fake's state is as arranged: the floor only read it

    def floor(self, ticket_ids: list[int], changed: dict[str, list[int]]) -> dict[str, Any]:
        import httpx

        from tests.support import fake_connectwise

        pair = f"{fake_connectwise.COMPANY_ID}+{fake_connectwise.PUBLIC_KEY}"
        auth = httpx.BasicAuth(pair, fake_connectwise.PRIVATE_KEY)
        headers = {"clientId": fake_connectwise.CLIENT_ID}
        before = len(self.fake.requests)
        started = time.perf_counter()
        with httpx.Client(base_url=self.fake.api_url, auth=auth, headers=headers) as client:
            for start in range(0, len(ticket_ids), 1000):
                chunk = ticket_ids[start : start + 1000]
                conditions = f"id in ({','.join(map(str, chunk))}) and closedFlag = false"
                params = {"pageSize": len(chunk), "fields": "id,summary,status,closedFlag"}
                client.post(
                    "/service/tickets/search", params=params, json={"conditions": conditions}
                ).raise_for_status()
            for ticket_id in changed["completed"] + changed["deleted"]:
                response = client.get(f"/service/tickets/{ticket_id}")
                if response.status_code != 404:
                    response.raise_for_status()
        return {"seconds": time.perf_counter() - started, "requests": len(self.fake.requests) - before}

    def provider(self) -> Any:
        from shared_code.psa.connectwise.neutral import ConnectWisePsa
        from shared_code.psa.connectwise.provider import connectwise_provider, credentials
        from tests.support import fake_connectwise

        creds = credentials(
            site=self.fake.site,
            company_id=fake_connectwise.COMPANY_ID,
            public_key=fake_connectwise.PUBLIC_KEY,
            private_key=fake_connectwise.PRIVATE_KEY,
            client_id=fake_connectwise.CLIENT_ID,
        )
        return ConnectWisePsa(connectwise_provider(creds, timeout_seconds=10.0))

    def requests(self) -> int:
        return len(self.fake.requests)

    def writes(self) -> int:
        return int(self.fake.writes())


def poll(side: Any) -> dict[str, Any]:
    from sqlalchemy import select

    from shared_code.app_settings import load_app_settings
    from shared_code.db.engine import unit_of_work
    from shared_code.db.models import JobRun
    from shared_code.psa.polling import poll_linked_tickets
    from shared_code.psa.provider import ReferenceData

    with unit_of_work() as session:
        run_ids = list(session.scalars(select(JobRun.id)))
    before, writes_before = side.requests(), side.writes()
    started = time.perf_counter()
    with unit_of_work() as session:
        result = poll_linked_tickets(
            session, load_app_settings(session), side.provider, ReferenceData(), run_ids, budget_seconds=30.0
        )
    seconds = time.perf_counter() - started
    outcome = ", ".join(f"{name} {value}" for name, value in result.counts.model_dump().items())
    return {
        "seconds": seconds,
        "requests": side.requests() - before,
        "writes": side.writes() - writes_before,
        "outcome": outcome,
    }


if __name__ == "__main__":
    sys.exit(main())
