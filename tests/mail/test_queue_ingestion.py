"""The queue function, run by the dev host as the Functions host would (retries, poison queue),
against the fake Graph through the real msgraph-sdk client."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared_code.config import get_settings
from shared_code.db.models import IngestionFailure, JobRun, MailContent, MailMessage, MailObject
from shared_code.mail.graph_client import GraphMailbox
from shared_code.mail.graph_ingest import ingest_graph_message, ingest_queued_message
from shared_code.mail.ingest import ingest
from shared_code.mail.queue import INGEST_QUEUE, MAX_DEQUEUE_COUNT
from shared_code.mail.sources import RawMail
from tests.mail.mails import NAKIVO, NEWSLETTER, VEEAM, expected, job_for, mime
from tests.mail.test_webhook import notification
from tests.support.fake_graph import CLIENT_SECRET, CLIENT_STATE


def deliver(host, *message_ids: str) -> None:
    """Graph notifies the webhook of the messages; the host runs the queue function."""
    response = host.request(
        "POST", "/api/graph/notifications", body={"value": [notification(m) for m in message_ids]}
    )
    assert response.status == 202
    host.drain()


def count(db: Session, model: type) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model)) or 0


def test_a_notified_mail_of_a_known_job_is_stored_parsed_and_booked_with_its_objects(
    db, graph, queues
) -> None:
    job = job_for(db, VEEAM)
    raw = mime(VEEAM)
    message_id = graph.add_message(raw)
    deliver(queues, message_id)
    mail = db.scalars(select(MailMessage)).one()
    assert (mail.source, mail.graph_message_id, mail.parse_status, mail.parser_name) == (
        "graph",
        message_id,
        "parsed",
        "veeam",
    )
    assert (mail.job_id, mail.location, mail.parsed_status) == (job.id, "processed", "warning")
    assert db.get(MailContent, mail.id).mime == raw
    objects = db.scalars(
        select(MailObject).where(MailObject.mail_id == mail.id).order_by(MailObject.position)
    )
    assert [(o.name, o.status) for o in objects] == [
        (o["name"], o["status"]) for o in expected(VEEAM)["objects"]
    ]
    run = db.scalars(select(JobRun)).one()
    assert (run.job_id, run.mail_id, run.status, run.effective_status, run.run_at) == (
        job.id,
        mail.id,
        "warning",
        "warning",
        mail.received_at,
    )


def test_unknown_jobs_and_unparsed_mail_wait_in_the_inbox(db, graph, queues) -> None:
    deliver(queues, graph.add_message(mime(NAKIVO)), graph.add_message(mime(NEWSLETTER)))
    mails = db.scalars(select(MailMessage).order_by(MailMessage.id)).all()
    assert [(m.parse_status, m.job_id, m.location) for m in mails] == [
        ("parsed", None, "inbox"),
        ("unparsed", None, "inbox"),
    ]
    assert count(db, JobRun) == 0


def test_duplicate_delivery_gives_one_mail_and_one_run(db, graph, queues) -> None:
    job_for(db, VEEAM)
    message_id = graph.add_message(mime(VEEAM))
    for _ in range(3):
        deliver(queues, message_id)
    queues.enqueue(INGEST_QUEUE, message_id)
    queues.drain()
    assert (count(db, MailMessage), count(db, JobRun)) == (1, 1)
    assert db.scalars(select(IngestionFailure)).all() == []


def test_a_stored_message_gone_from_the_folder_is_a_duplicate_not_a_failure(db, graph, queues) -> None:
    message_id = graph.add_message(mime(VEEAM))
    deliver(queues, message_id)
    graph.delete_message(message_id)  # moved or deleted after it was stored
    deliver(queues, message_id)  # Graph delivers the notification again
    assert count(db, MailMessage) == 1
    assert db.scalars(select(IngestionFailure)).all() == []


def test_concurrent_delivery_of_one_message_gives_one_mail_and_one_run(db, graph) -> None:
    job_for(db, VEEAM)
    message_id = graph.add_message(mime(VEEAM))
    start = threading.Barrier(8)

    def deliver_once(_: int) -> bool:
        start.wait()
        ingested = ingest_queued_message(message_id, dequeue_count=1)
        return ingested is not None and not ingested.duplicate

    with ThreadPoolExecutor(8) as pool:
        stored = list(pool.map(deliver_once, range(8)))
    assert stored.count(True) == 1
    assert (count(db, MailMessage), count(db, JobRun)) == (1, 1)


def test_concurrent_inserts_of_the_same_mail_rely_on_the_unique_keys(db) -> None:
    """No look-up first: every thread parses and inserts; the database lets one win."""
    job_for(db, VEEAM)
    raw = RawMail("graph", "AAMkAD-concurrent==", mime(VEEAM))
    start = threading.Barrier(8)

    def insert(_: int) -> bool:
        start.wait()
        return not ingest(raw).duplicate

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(insert, range(8))).count(True) == 1
    assert (count(db, MailMessage), count(db, JobRun), count(db, MailContent)) == (1, 1, 1)


def test_throttling_is_retried_after_the_retry_after_delay(db, graph, queues) -> None:
    message_id = graph.add_message(mime(VEEAM))
    graph.fail("GET", r"/\$value$", 429, headers={"Retry-After": "1"}, code="ApplicationThrottled")
    started = time.monotonic()
    deliver(queues, message_id)
    assert time.monotonic() - started >= 1
    assert graph.fetches(message_id) == 2
    assert count(db, MailMessage) == 1
    assert queues.poison(INGEST_QUEUE) == []


def test_a_message_gone_from_the_mailbox_is_a_permanent_failure_not_retried(db, graph, queues, api) -> None:
    deliver(queues, "AAMkAD-deleted-before-fetch==")
    assert graph.fetches("AAMkAD-deleted-before-fetch==") == 1  # not retried
    assert queues.poison(INGEST_QUEUE) == []
    failures = api.get("/api/ingestion/failures", role="Viewer").json()["items"]
    assert [(f["message_ref"], f["state"], f["attempts"]) for f in failures] == [
        ("AAMkAD-deleted-before-fetch==", "permanent", 1)
    ]
    assert "404" in failures[0]["last_error"]


def test_transient_failures_are_retried_then_poisoned_and_every_attempt_is_recorded(
    db, graph, queues
) -> None:
    message_id = graph.add_message(mime(VEEAM))
    graph.fail("GET", r"/\$value$", 500, times=MAX_DEQUEUE_COUNT, code="generalException")
    deliver(queues, message_id)
    assert graph.fetches(message_id) == MAX_DEQUEUE_COUNT
    assert queues.poison(INGEST_QUEUE) == [message_id]
    failure = db.scalars(select(IngestionFailure)).one()
    assert (failure.state, failure.attempts) == ("poisoned", MAX_DEQUEUE_COUNT)
    assert "500" in failure.last_error
    assert CLIENT_SECRET not in failure.last_error and CLIENT_STATE not in failure.last_error
    assert count(db, MailMessage) == 0


def test_a_later_success_resolves_the_failure(db, graph, queues) -> None:
    message_id = graph.add_message(mime(VEEAM))
    graph.fail("GET", r"/\$value$", 503, times=1, headers={"Retry-After": "1"})
    graph.fail("GET", r"/\$value$", 500, times=1)
    deliver(queues, message_id)  # 503 retried by the SDK, then 500 fails the attempt, then the queue retries
    failure = db.scalars(select(IngestionFailure)).one()
    assert (failure.state, failure.attempts, failure.resolved_at is not None) == ("resolved", 1, True)
    assert count(db, MailMessage) == 1


def test_a_message_that_is_no_graph_id_is_a_permanent_failure(db, queues) -> None:
    queues.enqueue(INGEST_QUEUE, "not a message id\n<script>")
    queues.drain()
    failure = db.scalars(select(IngestionFailure)).one()
    assert (failure.state, failure.attempts) == ("permanent", 1)
    assert queues.poison(INGEST_QUEUE) == []


def test_max_dequeue_count_agrees_with_host_json(host) -> None:
    assert host.settings.max_dequeue_count == MAX_DEQUEUE_COUNT


def test_processed_mail_is_moved_when_a_folder_is_configured(db, graph) -> None:
    settings = get_settings().model_copy(update={"graph_processed_folder": "processed"})
    mailbox = GraphMailbox(settings)
    message_id = graph.add_message(mime(VEEAM))
    assert not ingest_graph_message(mailbox, message_id).duplicate
    assert graph.folder_ids("inbox") == [] and len(graph.folder_ids("processed")) == 1
    assert ingest_graph_message(mailbox, message_id).duplicate  # a late duplicate: gone, but stored
    assert count(db, MailMessage) == 1
