"""Mail ingestion from the queue, and the failed ingestions operators can see and retry."""

from __future__ import annotations

from typing import TYPE_CHECKING

import azure.functions as func

from functions.http import QUEUE_CONNECTION, api_route
from shared_code.api.auth import Role
from shared_code.api.routing import Call
from shared_code.mail.queue import INGEST_QUEUE

if TYPE_CHECKING:
    from shared_code.mail.failures import FailureItem, FailureList

bp = func.Blueprint()
FAILURES = "shared_code.mail.failures"


@bp.queue_trigger(arg_name="message", queue_name=INGEST_QUEUE, connection=QUEUE_CONNECTION)
def mail_ingest(message: func.QueueMessage) -> None:
    """One Graph message id: fetch, store, parse, book (raises on transient failures: the host retries)."""
    from shared_code.mail.graph_ingest import ingest_queued_message

    message_id = message.get_body().decode("utf-8", errors="replace")
    ingest_queued_message(message_id, dequeue_count=message.dequeue_count or 1)


@api_route(
    bp,
    "GET",
    "ingestion/failures",
    role=Role.VIEWER,
    tag="ingestion",
    query=f"{FAILURES}:FailureQuery",
    response=f"{FAILURES}:FailureList",
)
def list_ingestion_failures(call: Call) -> FailureList:
    """Mail that could not be ingested, with the reason and the number of attempts (unresolved by default)."""
    from shared_code.mail.failures import list_failures

    return list_failures(call.db, call.query)


@api_route(
    bp,
    "POST",
    "ingestion/failures/{failure_id:int}/retry",
    role=Role.OPERATOR,
    tag="ingestion",
    response=f"{FAILURES}:FailureItem",
    errors=(409,),
    queue_output=INGEST_QUEUE,
)
def retry_ingestion_failure(call: Call) -> FailureItem:
    """Put a failed Graph message back on the ingestion queue."""
    from shared_code.mail.failures import retry_failure

    return retry_failure(call.db, call.path["failure_id"], call.actor, call.outbox)
