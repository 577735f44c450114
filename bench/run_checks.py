"""Run Checks at scale: latency of the first page through the dev host against its SQL alone.

    .venv/bin/python bench/run_checks.py [--requests 200] [--keep DIR]

Starts an embedded PostgreSQL, applies the migrations and bulk-loads 2,000 customers, 10,000
jobs, 1,000,000 mails and 1,000,000 runs with ``INSERT ... SELECT generate_series`` (100 daily
runs per job; the newest two of each job unreviewed, as on a typical morning; a tenth of the jobs
with an open ticket, some runs with an Autotask ticket). Then it requests ``GET /api/run-checks``
through the dev host (in process, auth off), records the statements one request sends, replays
them alone on a DBAPI cursor, and prints p50/p95 of both, their ratio (goal: p95 within 3x of the
SQL alone and under 250 ms), and EXPLAIN ANALYZE of each statement.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CUSTOMERS, JOBS, RUNS = 2_000, 10_000, 1_000_000
RUNS_PER_JOB = RUNS // JOBS
UNREVIEWED_PER_JOB = 2

SEED = [
    (
        "empty tables",
        """TRUNCATE customers, jobs, mail_messages, mail_objects, job_runs, tickets, ticket_scopes,
                    ticket_job_runs RESTART IDENTITY CASCADE""",
    ),
    (
        "customers",
        """INSERT INTO customers (name)
        SELECT 'Customer ' || lpad(i::text, 5, '0') FROM generate_series(1, :customers) AS i""",
    ),
    (
        "jobs",
        """INSERT INTO jobs (customer_id, from_address, backup_software, backup_type, job_name)
        SELECT mod(i, :customers) + 1, 'backup' || i || '@example.test',
               (ARRAY['Veeam', 'Synology', 'NAKIVO', 'QNAP', 'Acronis'])[mod(i, 5) + 1],
               'Backup Job', 'Job ' || lpad(i::text, 5, '0')
        FROM generate_series(1, :jobs) AS i""",
    ),
    (
        "mails",
        """INSERT INTO mail_messages (source, internet_message_id, received_at, location, job_id,
                                       parse_status, subject)
        SELECT 'graph', '<' || i || '@bench.test>', now() - ((i - 1) / :jobs) * interval '1 day',
               'processed', mod(i - 1, :jobs) + 1, 'parsed', 'Backup report ' || i
        FROM generate_series(1, :runs) AS i""",
    ),
    (
        "PSA tickets",
        """INSERT INTO external_tickets (id, provider, external_id, number)
        SELECT i, 'autotask', i, 'T20260101.' || lpad(mod(i, 10000)::text, 4, '0')
        FROM generate_series(97, :runs, 97) AS i""",
    ),
    (
        "runs",
        """INSERT INTO job_runs (job_id, mail_id, run_at, status, effective_status, missed,
                                  reviewed_at, reviewed_by, external_ticket_id)
        SELECT mod(i - 1, :jobs) + 1, i, now() - ((i - 1) / :jobs) * interval '1 day',
               s.status, s.status, false,
               CASE WHEN (i - 1) / :jobs >= :unreviewed THEN now() END,
               CASE WHEN (i - 1) / :jobs >= :unreviewed THEN 'bench' END,
               CASE WHEN mod(i, 97) = 0 THEN i END
        FROM generate_series(1, :runs) AS i
        CROSS JOIN LATERAL (SELECT CASE WHEN mod(i, 20) = 0 THEN 'failed'
                                        WHEN mod(i, 7) = 0 THEN 'warning' ELSE 'success' END AS status) AS s""",
    ),
    (
        "tickets",
        """INSERT INTO tickets (ticket_code, description, created_by)
        SELECT 'T20260101.' || lpad(i::text, 4, '0'), 'Bench ticket ' || i, 'bench'
        FROM generate_series(1, :tickets) AS i""",
    ),
    (
        "ticket scopes",
        """INSERT INTO ticket_scopes (ticket_id, job_id) SELECT id, id * 10 FROM tickets""",
    ),
]


PARAMETERS = {
    "customers": CUSTOMERS,
    "jobs": JOBS,
    "runs": RUNS,
    "unreviewed": UNREVIEWED_PER_JOB,
    "tickets": JOBS // 10,
}


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def seed(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(
        url, connect_args={"timeout": None}
    )  # the app's 10 s socket timeout is for requests
    with engine.begin() as connection:
        for name, statement in SEED:
            print(
                f"  {name:<14} {timed(lambda s=statement: connection.execute(text(s), PARAMETERS)) / 1000:6.1f} s"
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        print(
            f"  {'vacuum analyze':<14} {timed(lambda: connection.execute(text('VACUUM ANALYZE'))) / 1000:6.1f} s"
        )
    engine.dispose()


def statements_of_one_request(engine: Any, request: Callable[[], Any]) -> list[tuple[str, Any]]:
    from sqlalchemy import event

    captured: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        request()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    return captured


def first_page_against_its_sql(
    host: Any, engine: Any, requests: int, *, explain: bool = False
) -> tuple[list[tuple[str, Any]], list[float], list[float], list[tuple[str, str]]]:
    """Time the first Run Checks page through the dev host, then the same SQL statements replayed
    alone on one raw connection (the floor); with ``explain``, each statement's plan too."""

    def first_page() -> None:
        response = host.request("GET", "/api/run-checks")
        assert response.status == 200, response.body[:500]

    for _ in range(20):  # warm the pool, the caches and the plans
        first_page()
    statements = statements_of_one_request(engine, first_page)
    api_ms = [timed(first_page) for _ in range(requests)]

    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()

        def replay() -> None:
            for statement, parameters in statements:
                cursor.execute(statement, parameters)
                cursor.fetchall()
            raw.rollback()

        for _ in range(20):
            replay()
        sql_ms = [timed(replay) for _ in range(requests)]
        plans = []
        if explain:
            for statement, parameters in statements:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                plans.append((statement, "\n".join(row[0] for row in cursor.fetchall())))
            raw.rollback()
    finally:
        raw.close()
    return statements, api_ms, sql_ms, plans


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--keep", help="keep the database in this directory (reused when seeded)")
    args = parser.parse_args()

    from shared_code.devdb import EmbeddedPostgres

    datadir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bc-bench-")) / "pg"
    database = EmbeddedPostgres(datadir, keep_data=bool(args.keep))
    try:
        os.environ.update(DATABASE_URL=database.ensure_database("bench_run_checks"), AUTH_MODE="off")
        os.environ.setdefault("LOG_LEVEL", "WARNING")
        return run(args.requests)
    finally:
        database.stop()


def run(requests: int) -> int:
    from sqlalchemy import func, select

    from shared_code.db.engine import get_engine
    from shared_code.db.migrate import upgrade
    from shared_code.db.models import JobRun
    from shared_code.devhost import DevHost

    upgrade("head")
    engine = get_engine()
    with engine.connect() as connection:
        seeded = connection.scalar(select(func.count()).select_from(JobRun))
    if not seeded:
        print(f"Seeding {CUSTOMERS:,} customers, {JOBS:,} jobs, {RUNS:,} mails and {RUNS:,} runs:")
        seed(engine.url.render_as_string(hide_password=False))

    host = DevHost()
    statements, api_ms, sql_ms, plans = first_page_against_its_sql(host, engine, requests, explain=True)

    body = host.request("GET", "/api/run-checks").json()
    shown_jobs = sum(len(c["jobs"]) for c in body["customers"])
    shown_runs = sum(len(j["runs"]) for c in body["customers"] for j in c["jobs"])
    api_p50, api_p95 = percentile(api_ms, 0.5), percentile(api_ms, 0.95)
    sql_p50, sql_p95 = percentile(sql_ms, 0.5), percentile(sql_ms, 0.95)
    print(f"\nFirst Run Checks page: {shown_jobs} jobs, {shown_runs} runs, {len(statements)} SQL statements")
    print(f"  through the dev host: p50 {api_p50:6.1f} ms   p95 {api_p95:6.1f} ms   ({requests} requests)")
    print(f"  the SQL alone:        p50 {sql_p50:6.1f} ms   p95 {sql_p95:6.1f} ms")
    print(f"  p95 ratio {api_p95 / sql_p95:.2f}x (goal <= 3x); p95 under 250 ms: {api_p95 < 250}")
    print(f"  mean {statistics.fmean(api_ms):.1f} ms through the host, {statistics.fmean(sql_ms):.1f} ms SQL")
    for number, (statement, plan) in enumerate(plans, 1):
        print(f"\n--- statement {number}: {' '.join(statement.split())[:160]} ...\n{plan}")
    return 0 if api_p95 < 250 and api_p95 <= 3 * sql_p95 else 1


if __name__ == "__main__":
    sys.exit(main())
