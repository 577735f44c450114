"""Backfill: an archive imported as history, then the Run Checks first page against its SQL alone.

    .venv/bin/python bench/backfill.py [--mails 20000] [--requests 200]

Starts an embedded PostgreSQL, applies the migrations, creates the jobs of the corpus's parsable
reports and writes ``--mails`` of them as ``.eml`` files (each its own Message-ID, one a minute
back from now) into a temporary folder. Then ``import-mail DIR --as-reviewed`` does the work:
every file read, parsed, stored and booked, the runs marked reviewed by ``import`` (mails/s).
Last, ``GET /api/run-checks`` through the dev host: p50/p95 of the first page against the same
statements replayed alone (bench/run_checks.py's measure), which a history import must leave
small because nothing it booked is left to review.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run_checks import first_page_against_its_sql, percentile  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    from shared_code.devdb import EmbeddedPostgres

    database = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="bc-backfill-")) / "pg", keep_data=False)
    try:
        os.environ.update(DATABASE_URL=database.ensure_database("bench_backfill"), AUTH_MODE="off")
        os.environ.setdefault("LOG_LEVEL", "WARNING")
        return run(args.mails, args.requests)
    finally:
        database.stop()


def run(mails: int, requests: int) -> int:
    from sqlalchemy import func, select

    from shared_code.db.engine import get_engine
    from shared_code.db.migrate import upgrade
    from shared_code.db.models import JobRun
    from shared_code.mail.directory import import_directory

    upgrade("head")
    archive = Path(tempfile.mkdtemp(prefix="bc-archive-"))
    print(f"Writing {mails:,} archive mails to {archive} …")
    write_archive(archive, mails)

    started = time.perf_counter()
    summary = import_directory(archive, as_reviewed=True)
    seconds = time.perf_counter() - started
    shutil.rmtree(archive)
    with get_engine().connect() as connection:
        runs = connection.scalar(select(func.count()).select_from(JobRun)) or 0
        unreviewed = connection.scalar(select(func.count()).where(JobRun.reviewed_at.is_(None))) or 0
    print(f"\nImported as history: {summary.line()} in {seconds:.1f} s = {mails / seconds:.1f} mails/s")
    print(f"  {runs:,} runs booked, {unreviewed:,} left to review")
    return run_checks_first_page(requests)


def write_archive(folder: Path, count: int) -> None:
    """The corpus's parsable reports, round robin, with the jobs they belong to created."""
    from shared_code.db.engine import unit_of_work
    from shared_code.db.models import Customer, Job
    from shared_code.parsers.mime import decode_mail
    from shared_code.parsers.registry import parse_mail
    from tests.mail.mails import CORPUS, mime

    reports, identities = [], set()
    for path in sorted(CORPUS.glob("*.eml")):
        decoded = decode_mail(path.read_bytes())
        result = parse_mail(decoded).result
        if result is not None:
            reports.append(path.stem)
            identities.add((decoded.from_address, result.software, result.backup_type, result.job_name))
    with unit_of_work() as session:
        customer = Customer(name="Archive customer")
        session.add_all(
            Job(customer=customer, from_address=a, backup_software=s, backup_type=t, job_name=n)
            for a, s, t, n in identities
        )
    now = datetime.now(UTC)
    for index in range(count):
        moment = now - timedelta(minutes=count - index)
        raw = mime(reports[index % len(reports)], received=moment, message_id=f"<archive-{index}@bench.test>")
        (folder / f"{index:06}.eml").write_bytes(raw)


def run_checks_first_page(requests: int) -> int:
    from shared_code.db.engine import get_engine
    from shared_code.devhost import DevHost

    statements, api_ms, sql_ms, _ = first_page_against_its_sql(DevHost(), get_engine(), requests)
    api_p95, sql_p95 = percentile(api_ms, 0.95), percentile(sql_ms, 0.95)
    print(
        f"\nRun Checks first page after the backfill ({len(statements)} SQL statements, {requests} requests):"
    )
    print(f"  through the dev host: p50 {percentile(api_ms, 0.5):6.1f} ms   p95 {api_p95:6.1f} ms")
    print(f"  the SQL alone:        p50 {percentile(sql_ms, 0.5):6.1f} ms   p95 {sql_p95:6.1f} ms")
    print(f"  p95 ratio {api_p95 / sql_p95:.2f}x (goal <= 3x)")
    return 0 if api_p95 <= 3 * sql_p95 else 1


if __name__ == "__main__":
    sys.exit(main())
