"""A Graph message id, from the ingestion queue or the catch-up's delta query, into the pipeline.

Correctness rests on ``ingest``'s insert-or-nothing, not on a look-up first: a message delivered
twice is fetched twice (rare: the catch-up leaves out what is stored before it fetches) and stored
once. A gone message (404) is a permanent failure, unless it is stored already (moved to the
processed folder, say); anything else raises, so the queue retries it, and the attempt the host
will not repeat is recorded as poisoned.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from sqlalchemy import select

from shared_code.db.engine import unit_of_work
from shared_code.db.models import FailureState, MailMessage
from shared_code.mail.failures import record_failure_or_log, resolve_failure
from shared_code.mail.graph_client import GraphMailbox, GraphNotFound, default_mailbox
from shared_code.mail.ingest import DUPLICATE, Ingested, ingest
from shared_code.mail.queue import MAX_DEQUEUE_COUNT
from shared_code.mail.sources import GraphSource

log = logging.getLogger(__name__)

_MESSAGE_ID = re.compile(r"[A-Za-z0-9+/=_.:-]{1,512}")


class InvalidMessageId(ValueError):
    """A queue message that cannot be a Graph message id."""


def ingest_graph_message(mailbox: GraphMailbox, message_id: str) -> Ingested:
    """Fetch, store, parse and book one message; move it when configured."""
    if not _MESSAGE_ID.fullmatch(message_id):
        raise InvalidMessageId(f"not a Graph message id: {message_id[:80]!r}")
    try:
        raw = GraphSource(mailbox).fetch(message_id)
    except GraphNotFound:
        if not known_message_ids([message_id]):
            raise
        with unit_of_work() as session:
            resolve_failure(session, message_id)
        return DUPLICATE
    ingested = ingest(raw)
    if not ingested.duplicate:
        _move_when_configured(mailbox, message_id)
    return ingested


def ingest_queued_message(
    message_id: str, *, dequeue_count: int, mailbox: Callable[[], GraphMailbox] = default_mailbox
) -> Ingested | None:
    """The queue function's work: permanent failures are recorded and end here; others are recorded
    and raised, for the host to retry (or, at the last attempt, to move to the poison queue).
    The mailbox is built inside: a configuration fault (GRAPH_MAILBOX unset) is recorded too, so
    no message reaches the poison queue without its reason."""
    message_id = message_id.strip()
    try:
        return ingest_graph_message(mailbox(), message_id)
    except Exception as error:
        state = failure_state(error, attempt=dequeue_count)
        record_failure_or_log("graph", message_id, state, error)
        if state == "permanent":
            return None
        raise


def failure_state(error: Exception, attempt: int) -> FailureState:
    """What a failed attempt to ingest a Graph message makes of it, wherever it was tried (queue or
    catch-up): permanent when retrying cannot help (the message is gone, or its id is invalid),
    poisoned when the last allowed attempt failed, else failing (to be retried)."""
    if isinstance(error, GraphNotFound | InvalidMessageId):
        return "permanent"
    return "poisoned" if attempt >= MAX_DEQUEUE_COUNT else "failing"


def known_message_ids(message_ids: list[str]) -> set[str]:
    with unit_of_work() as session:
        found = session.scalars(
            select(MailMessage.graph_message_id).where(MailMessage.graph_message_id.in_(message_ids))
        )
        return {message_id for message_id in found if message_id is not None}


def _move_when_configured(mailbox: GraphMailbox, message_id: str) -> None:
    """Best effort: the mail is stored; a failed move only leaves it in the watched folder."""
    folder = mailbox.settings.graph_processed_folder
    if not folder:
        return
    try:
        mailbox.move(message_id, folder)
    except Exception as error:
        log.warning("stored message %s could not be moved to %s: %s", message_id, folder, error)
