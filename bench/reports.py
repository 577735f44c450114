"""Customer reports at scale: a customer with 50 jobs over a year, and the overview of 2,000
customers over a month, through the dev host against the same SQL alone.

    .venv/bin/python bench/reports.py [--requests 10] [--database-url URL | --keep DIR]

Starts an embedded PostgreSQL (or uses the throw-away database at ``--database-url``), applies
the migrations and bulk-loads with ``INSERT ... SELECT generate_series``: 2,000 customers with
10 jobs each and a run per job and day in November 2026 (600,000 runs), and one more customer with 50 jobs and a run per job and day for a year (18,250
runs); a twentieth of the runs failed, a seventh warned, one in fifty missed; tickets, PSA
tickets and overrides on the year customer. Then it requests the year customer's report (JSON
and PDF) and the overview's first page through the dev host (in process, auth off), records the
statements one request sends, replays them alone on a DBAPI cursor, and prints p50/p95 of both
and their ratio. Goal: each under 2 s.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run_checks import percentile, statements_of_one_request, timed  # noqa: E402

CUSTOMERS, JOBS_EACH, MONTH_DAYS = 2_000, 10, 30
YEAR_JOBS, YEAR_DAYS = 50, 365
GOAL_MS = 2000

# Runs: day d of job j; status by (j + d); every 50th is missed (no mail, as missed runs are).
_RUNS = """
    WITH slots AS (
        SELECT j.id AS job_id, d, (timestamptz '{start}' + d * interval '1 day' + interval '2 hours') AS at,
               mod(j.id * 7 + d, 50) = 0 AS missed,
               CASE WHEN mod(j.id + d, 20) = 0 THEN 'failed' WHEN mod(j.id + d, 7) = 0 THEN 'warning'
                    ELSE 'success' END AS status
        FROM jobs j CROSS JOIN generate_series(0, {days} - 1) AS d
        WHERE j.customer_id {customers}
    ), mails AS (
        INSERT INTO mail_messages (source, internet_message_id, received_at, location, job_id, parse_status)
        SELECT 'graph', '<' || job_id || '.' || d || '@bench.test>', at, 'processed', job_id, 'parsed'
        FROM slots WHERE NOT missed
        RETURNING id, job_id, received_at
    )
    INSERT INTO job_runs (job_id, mail_id, run_at, status, effective_status, missed)
    SELECT s.job_id, m.id, s.at, CASE WHEN s.missed THEN 'missed' ELSE s.status END,
           CASE WHEN s.missed THEN 'missed' ELSE s.status END, s.missed
    FROM slots s LEFT JOIN mails m ON m.job_id = s.job_id AND m.received_at = s.at
"""

SEED = [
    (
        "customers",
        """INSERT INTO customers (name, name_skeleton)
        SELECT 'Customer ' || lpad(i::text, 5, '0'), 'customer ' || lpad(i::text, 5, '0')
        FROM generate_series(1, CAST(:year_customer AS int)) AS i""",
    ),
    (
        "jobs",
        """INSERT INTO jobs (customer_id, from_address, backup_software, backup_type, job_name)
        SELECT CASE WHEN i <= CAST(:month_jobs AS int) THEN mod(i - 1, CAST(:customers AS int)) + 1 ELSE CAST(:year_customer AS int) END,
               'backup' || i || '@example.test', 'Veeam', 'Backup Job', 'Job ' || lpad(i::text, 6, '0')
        FROM generate_series(1, CAST(:all_jobs AS int)) AS i""",
    ),
    (
        "month runs",
        _RUNS.format(start="2026-11-01T00:00:00+01", days=MONTH_DAYS, customers="<= CAST(:customers AS int)"),
    ),
    (
        "year runs",
        _RUNS.format(
            start="2025-12-01T00:00:00+01", days=YEAR_DAYS, customers="= CAST(:year_customer AS int)"
        ),
    ),
    (
        "tickets",
        """INSERT INTO tickets (ticket_code, description, created_by, created_at, resolved_at)
        SELECT 'T2026.' || lpad(i::text, 4, '0'), 'Bench ticket ' || i, 'bench',
               timestamptz '2025-12-05T09:00:00+01' + i * interval '7 days',
               timestamptz '2025-12-06T09:00:00+01' + i * interval '7 days'
        FROM generate_series(1, 40) AS i""",
    ),
    (
        "ticket scopes",
        """INSERT INTO ticket_scopes (ticket_id, job_id)
        SELECT t.id, j.id FROM tickets t JOIN jobs j ON j.customer_id = CAST(:year_customer AS int)
        AND mod(j.id, 40) = mod(t.id, 40)""",
    ),
    (
        "PSA tickets",
        """UPDATE job_runs SET autotask_ticket_id = id, autotask_ticket_number = 'T' || id,
               autotask_ticket_created_at = run_at, ticket_resolved_at = run_at + interval '5 hours',
               ticket_resolution_origin = 'psa'
        WHERE effective_status = 'failed' AND job_id IN (SELECT id FROM jobs WHERE customer_id = CAST(:year_customer AS int))""",
    ),
    (
        "overrides",
        """INSERT INTO overrides (scope, job_id, match_status, result_status, reason, created_by, active_from)
        SELECT 'job', j.id, 'warning', 'success', 'Accepted warning ' || j.id, 'bench', '2026-03-01'
        FROM jobs j WHERE j.customer_id = CAST(:year_customer AS int) AND mod(j.id, 5) = 0""",
    ),
]

PARAMETERS = {
    "customers": CUSTOMERS,
    "month_jobs": CUSTOMERS * JOBS_EACH,
    "all_jobs": CUSTOMERS * JOBS_EACH + YEAR_JOBS,
    "year_customer": CUSTOMERS + 1,
}

YEAR_REPORT = f"/api/reports/customers/{CUSTOMERS + 1}?from=2025-12-01&to=2026-11-30"
REQUESTS = {
    "a customer, 50 jobs, a year (JSON)": YEAR_REPORT,
    "the same as PDF": YEAR_REPORT + "&format=pdf",
    "overview, 2,000 customers, a month": "/api/reports/overview?from=2026-11-01&to=2026-11-30",
}


def seed(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url, connect_args={"timeout": None})
    with engine.begin() as connection:
        for name, statement in SEED:
            seconds = timed(lambda s=statement: connection.execute(text(s), PARAMETERS)) / 1000
            print(f"  {name:<14} {seconds:6.1f} s")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        print(
            f"  {'vacuum analyze':<14} {timed(lambda: connection.execute(text('VACUUM ANALYZE'))) / 1000:6.1f} s"
        )
    engine.dispose()


def against_its_sql(host: Any, engine: Any, path: str, requests: int) -> tuple[int, list[float], list[float]]:
    def request() -> None:
        response = host.request("GET", path)
        assert response.status == 200, response.body[:500]

    for _ in range(3):  # warm the pool, the caches, the plans and reportlab
        request()
    statements = statements_of_one_request(engine, request)
    api_ms = [timed(request) for _ in range(requests)]
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()

        def replay() -> None:
            for statement, parameters in statements:
                cursor.execute(statement, parameters)
                cursor.fetchall()
            raw.rollback()

        replay()
        sql_ms = [timed(replay) for _ in range(requests)]
    finally:
        raw.close()
    return len(statements), api_ms, sql_ms


def run(requests: int) -> int:
    from sqlalchemy import func, select

    from shared_code.db.engine import get_engine
    from shared_code.db.migrate import upgrade
    from shared_code.db.models import JobRun
    from shared_code.devhost import DevHost

    engine = get_engine()
    upgrade("head")
    with engine.connect() as connection:
        seeded = connection.scalar(select(func.count()).select_from(JobRun))
    if not seeded:
        print(
            f"Seeding {CUSTOMERS + 1:,} customers, {CUSTOMERS * JOBS_EACH + YEAR_JOBS:,} jobs and their runs:"
        )
        seed(engine.url.render_as_string(hide_password=False))
    host = DevHost()
    ok = True
    print()
    for name, path in REQUESTS.items():
        count, api_ms, sql_ms = against_its_sql(host, engine, path, requests)
        api_p50, api_p95 = percentile(api_ms, 0.5), percentile(api_ms, 0.95)
        sql_p50, sql_p95 = percentile(sql_ms, 0.5), percentile(sql_ms, 0.95)
        ok = ok and api_p95 < GOAL_MS
        print(f"{name}: {count} SQL statements")
        print(
            f"  through the dev host: p50 {api_p50:7.1f} ms   p95 {api_p95:7.1f} ms   ({requests} requests)"
        )
        print(f"  the SQL alone:        p50 {sql_p50:7.1f} ms   p95 {sql_p95:7.1f} ms")
        print(f"  p95 ratio {api_p95 / sql_p95:.2f}x; under {GOAL_MS} ms: {api_p95 < GOAL_MS}")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument(
        "--database-url", help="a throw-away PostgreSQL database (seeded when it has no runs)"
    )
    parser.add_argument("--keep", help="keep the embedded database in this directory (reused when seeded)")
    args = parser.parse_args()
    os.environ.update(AUTH_MODE="off")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
        return run(args.requests)
    from shared_code.devdb import EmbeddedPostgres

    datadir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bc-bench-")) / "pg"
    database = EmbeddedPostgres(datadir, keep_data=bool(args.keep))
    try:
        os.environ["DATABASE_URL"] = database.ensure_database("bench_reports")
        return run(args.requests)
    finally:
        database.stop()


if __name__ == "__main__":
    sys.exit(main())
