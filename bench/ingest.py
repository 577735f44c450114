"""Ingestion throughput: queue message to committed run, against the floor of inserting the same rows.

    .venv/bin/python bench/ingest.py [--mails 2000] [--workers 4] [--rounds 3]

Starts an embedded PostgreSQL and the fake Graph (tests/support/fake_graph.py: TLS on loopback,
token endpoint included), applies the migrations, creates the jobs of the sample reports and puts
``--mails`` reports in the fake mailbox (the corpus's parsable reports, each with its own
Message-ID). Then, with ``--workers`` threads (the Functions host runs batchSize 3 +
newBatchThreshold 1 = 4 messages at a time per instance):

- floor: the rows the pipeline will write (mail, raw content, objects, run), computed beforehand
  and inserted directly, one transaction per mail;
- pipeline: every message id on the dev host's ``mail-ingest`` queue, drained by the registered
  queue function: fetched through msgraph-sdk, decoded, parsed, stored, booked (overrides, ticket
  propagation), committed.

Prints mails/second for both and their ratio (goal: the pipeline at least half the floor's rate),
and the pipeline's rate without the Graph fetch (the same MIME handed to ``ingest``), which shows
what the msgraph-sdk request costs, each with this process's CPU time per mail. The three run in
turn, ``--rounds`` times, each on emptied tables after a checkpoint, so that load on the machine
and the database's background work fall on all of them alike; the summary gives the medians.

    .venv/bin/python bench/ingest.py --processes 8 --max-connections 35 [--mails 2000]

Scale-out (issue 27): ``--processes`` worker processes, each an Azure instance with the deployed
pool (DATABASE_POOL_SIZE = batchSize + newBatchThreshold = 4 connections, as many threads), run the
queue function's work (``ingest_queued_message``) on the message ids against a PostgreSQL that
accepts ``--max-connections`` clients in all (Standard_B1ms: 35 user connections). A message whose
attempt raises goes back on the queue with its dequeue count raised, as the host does, up to
maxDequeueCount. Prints mails ingested, failures recorded, messages poisoned and the throughput
against the same run with one process.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MAIL_TABLES = "mail_objects, mail_contents, job_runs, mail_messages, ingestion_failures"
# The deployed pool: host.json's batchSize 3 + newBatchThreshold 1 (infra/main.bicep's arithmetic).
AZURE_POOL = 4
MAX_DEQUEUE_COUNT = 5


@dataclass(frozen=True)
class Sample:
    mime: bytes
    job_id: int
    values: dict[str, Any]  # the mail row
    objects: list[dict[str, Any]]


def main() -> None:
    options = _arguments()
    from shared_code.devdb import EmbeddedPostgres

    datadir = Path(tempfile.mkdtemp(prefix="bc-bench-ingest-")) / "pg"
    if options.processes:
        database = EmbeddedPostgres.with_connection_limit(datadir, options.max_connections)
    else:
        database = EmbeddedPostgres(datadir, keep_data=False)
    # Graph is another machine: its stand-in runs in a process of its own, not on this one's GIL.
    graph, graph_process = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(target=_serve_fake_graph, args=(graph_process,))
    server.start()
    os.environ.update(
        {
            "DATABASE_URL": database.ensure_database("bench_ingest"),
            "DATABASE_POOL_SIZE": str(AZURE_POOL if options.processes else options.workers + 1),
            "AUTH_MODE": "off",
            "LOG_LEVEL": "WARNING",
            **graph.recv(),
        }
    )
    try:
        (_scale_out if options.processes else _run)(options, graph)
    finally:
        graph.send(None)
        server.join(timeout=10)
        from shared_code.db.engine import reset_engine

        reset_engine()
        database.stop()


def _serve_fake_graph(connection: Connection) -> None:
    """The fake Graph's process: sends its settings, then stores each batch of MIME it is sent and
    answers the message ids, until it is sent None."""
    sys.path.insert(0, str(ROOT))
    from tests.support.fake_graph import FakeGraph

    fake = FakeGraph().start()  # the fakes serve once started
    connection.send(fake.env())
    while (batch := connection.recv()) is not None:
        connection.send([fake.add_message(mime) for mime in batch])
    fake.stop()


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mails", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--processes", type=int, default=0, help="scale-out run: worker processes (instances)"
    )
    parser.add_argument(
        "--max-connections", type=int, default=35, help="scale-out run: the server's max_connections"
    )
    return parser.parse_args()


@dataclass(frozen=True)
class Rate:
    mails_per_second: float
    cpu_ms_per_mail: float  # this process: the app's Python, pg8000 and msgraph-sdk, not PostgreSQL's

    def __str__(self) -> str:
        return f"{self.mails_per_second:6.0f} mails/s  ({self.cpu_ms_per_mail:5.1f} ms CPU per mail here)"


PHASES = (
    "floor (same rows inserted directly)",
    "pipeline (queue message to committed run)",
    "  the same without Graph (MIME to ingest)",
)


def _run(options: argparse.Namespace, graph: Connection) -> None:
    from shared_code.db.migrate import upgrade

    upgrade("head")
    samples = _samples(options.mails)
    graph.send([sample.mime for sample in samples])
    message_ids = graph.recv()
    print(f"mails: {len(samples)}, workers: {options.workers}, rounds: {options.rounds}")
    rounds = []
    for number in range(1, options.rounds + 1):
        floor, pipeline, without_graph = _round(samples, message_ids, options.workers)
        rounds.append((floor, pipeline, without_graph))
        print(
            f"round {number}: floor {floor.mails_per_second:.0f}, pipeline {pipeline.mails_per_second:.0f}, "
            f"without Graph {without_graph.mails_per_second:.0f} mails/s; pipeline / floor {_ratio(pipeline, floor):.2f}"
        )
    medians = [_median(list(rates)) for rates in zip(*rounds, strict=True)]
    for phase, rate in zip(PHASES, medians, strict=True):
        print(f"{phase + ':':44}{rate}")
    print(f"pipeline / floor: {_ratio(medians[1], medians[0]):.2f} (medians; goal: at least 0.50)")


def _ratio(rate: Rate, floor: Rate) -> float:
    return rate.mails_per_second / floor.mails_per_second


def _round(samples: list[Sample], message_ids: list[str], workers: int) -> tuple[Rate, Rate, Rate]:
    """The three phases of ``PHASES``, each on emptied tables."""
    _empty_mail_tables()
    floor = _rate(len(samples), workers, lambda w: [_insert_directly(s) for s in samples[w::workers]])
    _empty_mail_tables()
    pipeline = _rate(len(samples), workers, _queue_drainer(message_ids))
    _check(len(samples))
    _empty_mail_tables()
    without_graph = _rate(len(samples), workers, lambda w: [_ingest_directly(s) for s in samples[w::workers]])
    return floor, pipeline, without_graph


def _median(rates: list[Rate]) -> Rate:
    return Rate(
        statistics.median(r.mails_per_second for r in rates),
        statistics.median(r.cpu_ms_per_mail for r in rates),
    )


def _samples(count: int) -> list[Sample]:
    """``count`` reports of known jobs, with the rows the pipeline will write for each."""
    from shared_code.db.engine import unit_of_work
    from shared_code.db.models import Customer, Job
    from shared_code.parsers.mime import decode_mail
    from shared_code.parsers.registry import parse_mail
    from tests.mail.mails import CORPUS, mime

    reports = []
    for path in sorted(CORPUS.glob("*.eml")):
        outcome = parse_mail(path.read_bytes())
        if outcome.result is not None:
            reports.append(path.stem)
    jobs: dict[tuple[str, ...], int] = {}
    samples = []
    with unit_of_work() as session:
        customer = Customer(name="Bench customer")
        session.add(customer)
        for index in range(count):
            raw = mime(reports[index % len(reports)])
            decoded = decode_mail(raw)
            result = parse_mail(decoded).result
            assert result is not None
            identity = (decoded.from_address, result.software, result.backup_type, result.job_name)
            if identity not in jobs:
                job = Job(
                    customer=customer,
                    from_address=identity[0],
                    backup_software=identity[1],
                    backup_type=identity[2],
                    job_name=identity[3],
                )
                session.add(job)
                session.flush()
                jobs[identity] = job.id
            samples.append(_sample(raw, decoded, result, jobs[identity]))
    return samples


def _sample(raw: bytes, decoded: Any, result: Any, job_id: int) -> Sample:
    values = {
        "source": "graph",
        "internet_message_id": decoded.internet_message_id,
        "content_hash": hashlib.sha256(raw).hexdigest(),
        "from_address": decoded.from_address,
        "subject": decoded.subject,
        "text_body": decoded.text_body,
        "html_body": decoded.html_body,
        "received_at": decoded.received_at,
        "location": "processed",
        "job_id": job_id,
        "parse_status": "parsed",
        "parser_name": "bench",
        "backup_software": result.software,
        "backup_type": result.backup_type,
        "job_name": result.job_name,
        "parsed_status": result.status,
        "informational": result.informational,
    }
    objects = [
        {"position": i, "name": o.name, "status": o.status, "message": o.message}
        for i, o in enumerate(result.objects)
    ]
    return Sample(raw, job_id, values, objects)


def _insert_directly(sample: Sample) -> None:
    from sqlalchemy import insert

    from shared_code.db.engine import get_engine
    from shared_code.db.models import JobRun, MailContent, MailMessage, MailObject

    with get_engine().begin() as connection:
        mail_id = connection.scalar(insert(MailMessage).values(sample.values).returning(MailMessage.id))
        connection.execute(insert(MailContent).values(mail_id=mail_id, mime=sample.mime))
        if sample.objects:
            connection.execute(insert(MailObject).values([{**o, "mail_id": mail_id} for o in sample.objects]))
        status = sample.values["parsed_status"]
        connection.execute(
            insert(JobRun).values(
                job_id=sample.job_id,
                mail_id=mail_id,
                run_at=sample.values["received_at"],
                status=status,
                effective_status=status,
                missed=False,
            )
        )


def _ingest_directly(sample: Sample) -> None:
    """The pipeline after the fetch: decode, parse, store, book."""
    from shared_code.mail.ingest import ingest
    from shared_code.mail.sources import RawMail

    ingest(RawMail("directory", sample.values["internet_message_id"], sample.mime))


def _queue_drainer(message_ids: list[str]) -> Callable[[int], None]:
    """The ids on the dev host's queue; each worker runs the registered queue function until it is empty."""
    from shared_code.devhost import DevHost
    from shared_code.mail.queue import INGEST_QUEUE

    host = DevHost()
    for message_id in message_ids:
        host.enqueue(INGEST_QUEUE, message_id)

    def drain(worker: int) -> None:
        host.drain()
        if poisoned := host.poison(INGEST_QUEUE):
            raise RuntimeError(f"{len(poisoned)} messages failed, among them: {_failure_reasons()}")

    return drain


def _failure_reasons() -> list[str]:
    """The recorded failures' reasons (the bench's database is deleted when it ends)."""
    from shared_code.db.engine import unit_of_work
    from shared_code.mail.failures import FailureQuery, list_failures

    with unit_of_work() as session:
        failures = list_failures(session, FailureQuery(limit=5)).items
    return [f"{failure.message_ref}: {failure.last_error}" for failure in failures]


def _rate(count: int, workers: int, work: Callable[[int], None]) -> Rate:
    """Items per second when ``workers`` threads run ``work(worker_index)``; a worker's error is raised."""
    with ThreadPoolExecutor(workers) as pool:
        cpu_started, started = time.process_time(), time.perf_counter()
        for done in [pool.submit(work, worker) for worker in range(workers)]:
            done.result()
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    return Rate(count / seconds, cpu_seconds / count * 1000)


def _empty_mail_tables() -> None:
    from sqlalchemy import text

    from shared_code.db.engine import get_engine

    with get_engine().begin() as connection:
        connection.execute(text(f"TRUNCATE {MAIL_TABLES} RESTART IDENTITY CASCADE"))
    with get_engine().connect() as connection:  # a phase does not pay for the one before it
        connection.execute(text("CHECKPOINT"))


def _check(expected: int) -> None:
    from sqlalchemy import func, select

    from shared_code.db.engine import unit_of_work
    from shared_code.db.models import JobRun, MailMessage

    with unit_of_work() as session:
        mails = session.scalar(select(func.count()).select_from(MailMessage))
        runs = session.scalar(select(func.count()).select_from(JobRun))
    assert mails == runs == expected, f"{mails} mails and {runs} runs for {expected} messages"


# --- scale-out: worker processes against a server with the B1ms connection limit ------------------------


@dataclass(frozen=True)
class ScaleOutRun:
    processes: int
    seconds: float
    attempts_failed: int  # attempts that raised (the host would retry them)
    poisoned: int  # messages that failed maxDequeueCount times
    failures_recorded: int  # rows in ingestion_failures
    mails: int

    def rate(self) -> float:
        return self.mails / self.seconds


def _scale_out(options: argparse.Namespace, graph: Connection) -> None:
    from shared_code.db.engine import reset_engine
    from shared_code.db.migrate import upgrade

    upgrade("head")
    samples = _samples(options.mails)
    graph.send([sample.mime for sample in samples])
    message_ids = graph.recv()
    reset_engine()  # the coordinator holds no connection while the workers run
    print(
        f"mails: {len(message_ids)}, pool per process: {AZURE_POOL} (DATABASE_POOL_SIZE, no overflow), "
        f"max_connections: {options.max_connections} (superusers included, none reserved)"
    )
    runs = []
    for processes in (1, options.processes):
        _empty_mail_tables()
        reset_engine()
        run = _scale_out_round(message_ids, processes)
        runs.append(run)
        print(
            f"processes: {run.processes}, connections at most {run.processes * AZURE_POOL}: "
            f"{run.mails} mails ingested in {run.seconds:.1f} s ({run.rate():.0f} mails/s), "
            f"failed attempts {run.attempts_failed}, failures recorded {run.failures_recorded}, "
            f"poisoned {run.poisoned}"
        )
    print(f"throughput {options.processes} processes / 1 process: {runs[1].rate() / runs[0].rate():.2f}")
    if any(run.failures_recorded or run.poisoned or run.mails != len(message_ids) for run in runs):
        raise SystemExit("scale-out run recorded failures or lost mail")


def _scale_out_round(message_ids: list[str], processes: int) -> ScaleOutRun:
    from shared_code.db.engine import reset_engine

    context = multiprocessing.get_context("spawn")
    work: Any = context.Queue()
    for message_id in message_ids:
        work.put((message_id, 1))
    ready, start = context.Barrier(processes + 1), context.Event()
    results: Any = context.Queue()
    workers = [
        context.Process(target=_instance, args=(work, ready, start, results)) for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    ready.wait(timeout=300)  # every instance has imported the app and built its mailbox
    started = time.perf_counter()
    start.set()
    outcomes = [results.get(timeout=1800) for _ in workers]
    seconds = time.perf_counter() - started
    for worker in workers:
        worker.join(timeout=60)
    mails, failures = _mails_and_failures()
    reset_engine()
    return ScaleOutRun(
        processes,
        seconds,
        sum(failed for failed, _ in outcomes),
        sum(poisoned for _, poisoned in outcomes),
        failures,
        mails,
    )


def _instance(work: Any, ready: Any, start: Any, results: Any) -> None:
    """One instance: AZURE_POOL threads, each running the queue function on queued ids until none
    is left; a raising attempt is re-queued with its dequeue count raised, as the host does."""
    sys.path.insert(0, str(ROOT))
    import queue as queues

    from shared_code.mail.graph_client import default_mailbox
    from shared_code.mail.graph_ingest import ingest_queued_message

    default_mailbox()
    ready.wait(timeout=300)
    start.wait(timeout=300)
    failed, poisoned = 0, 0

    def drain() -> tuple[int, int]:
        failed = poisoned = 0
        while True:
            try:
                message_id, dequeue_count = work.get(timeout=2)
            except queues.Empty:
                return failed, poisoned
            try:
                ingest_queued_message(message_id, dequeue_count=dequeue_count)
            except Exception:
                failed += 1
                if dequeue_count >= MAX_DEQUEUE_COUNT:
                    poisoned += 1
                else:
                    work.put((message_id, dequeue_count + 1))

    with ThreadPoolExecutor(AZURE_POOL) as pool:
        for outcome in [pool.submit(drain) for _ in range(AZURE_POOL)]:
            thread_failed, thread_poisoned = outcome.result()
            failed, poisoned = failed + thread_failed, poisoned + thread_poisoned
    results.put((failed, poisoned))


def _mails_and_failures() -> tuple[int, int]:
    from sqlalchemy import func, select

    from shared_code.db.engine import unit_of_work
    from shared_code.db.models import IngestionFailure, MailMessage

    with unit_of_work() as session:
        mails = session.scalar(select(func.count()).select_from(MailMessage)) or 0
        failures = session.scalar(select(func.count()).select_from(IngestionFailure)) or 0
    return mails, failures


if __name__ == "__main__":
    main()
