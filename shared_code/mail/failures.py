"""Failed ingestions: every failed attempt recorded, visible through the API, retryable.

One row per message reference (Graph message id, or file path for directory imports):
- ``failing``: an attempt failed; the queue (or the next catch-up) tries again;
- ``poisoned``: the last attempt failed; the host moved the message to the poison queue;
- ``permanent``: it cannot succeed as it is (the message is gone); not retried by itself;
- ``retrying``: an operator re-queued it;
- ``resolved``: a later attempt stored the mail, or found it stored already.
Errors are kept as a short description with every configured secret masked.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import Insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from shared_code import audit
from shared_code.config import get_settings
from shared_code.db.engine import unit_of_work
from shared_code.db.models import FailureState, IngestionFailure
from shared_code.errors import Conflict, NotFound
from shared_code.schema.models import ResponseModel
from shared_code.schema.paging import PageInfo, PageQuery, page_of, paginated

log = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 1000
MAX_REF_LENGTH = 1000
MASK = "***"


# what a failed attempt makes of a mail: fixed, or decided by the attempt's number (1 = the first)
StateOfAttempt = FailureState | Callable[[int], FailureState]


def record_failure(source: str, ref: str, state: StateOfAttempt, error: BaseException) -> FailureState:
    """Count a failed attempt, in a transaction of its own (the attempt's was rolled back); the
    attempt's number is read in that transaction when the state depends on it."""
    description = describe(error)
    with unit_of_work() as session:
        if callable(state):
            state = state(_attempts_so_far(session, ref) + 1)
        session.execute(_count_attempt(source, ref, state, description))
    log.warning("ingestion of %s %s failed (%s): %s", source, ref[:200], state, description)
    return state


def record_failure_or_log(source: str, ref: str, state: StateOfAttempt, error: BaseException) -> FailureState:
    """As ``record_failure``; when even that fails (database down) the log keeps the trace and the
    attempt counts as ``failing``, to be tried again."""
    try:
        return record_failure(source, ref, state, error)
    except Exception as recording_error:
        log.error(
            "could not record the failed ingestion of %s %s (%s): %s; recording failed with %s",
            source,
            ref[:200],
            state if isinstance(state, str) else "state not known",
            describe(error),
            describe(recording_error),
        )
        return state if isinstance(state, str) else "failing"


def _attempts_so_far(session: Session, ref: str) -> int:
    recorded = session.scalar(
        select(IngestionFailure.attempts).where(IngestionFailure.message_ref == failure_ref(ref))
    )
    return recorded or 0


def _count_attempt(source: str, ref: str, state: FailureState, description: str) -> Insert:
    table = IngestionFailure.__table__
    statement = pg_insert(IngestionFailure).values(
        source=source, message_ref=failure_ref(ref), state=state, attempts=1, last_error=description
    )
    return statement.on_conflict_do_update(
        index_elements=[table.c.message_ref],
        set_={
            "state": state,
            "attempts": table.c.attempts + 1,
            "last_error": description,
            "last_failed_at": func.now(),
            "resolved_at": None,
        },
    )


def failure_ref(ref: str) -> str:
    """The reference a failure is recorded under (a file path may be longer than we keep)."""
    return ref[:MAX_REF_LENGTH]


# Marking a failure record resolved: the one statement, run by resolve_failure and, in the same
# round trip as the new mail, as a CTE of mail.store's insert. Written out: SQLAlchemy would add a
# SET for every parameter of that insert named like a column of this table (the mail's ``source``).
RESOLVE_FAILURE = text(
    "UPDATE ingestion_failures SET state = 'resolved', resolved_at = now() "
    "WHERE message_ref = :failure_ref AND state <> 'resolved'"
)


def resolve_failure(session: Session, ref: str) -> None:
    """The mail is stored now: its failure record, if any, is resolved."""
    session.execute(RESOLVE_FAILURE, {"failure_ref": failure_ref(ref)})


def describe(error: BaseException) -> str:
    """``Type: message``, short, with every configured secret masked."""
    text = f"{type(error).__name__}: {error}"
    for secret in _secrets():
        text = text.replace(secret, MASK)
    return text[:MAX_ERROR_LENGTH]


def _secrets() -> list[str]:
    settings = get_settings()
    values = [settings.graph_client_secret, settings.graph_client_state, settings.storage_connection_string]
    secrets = [value.get_secret_value() for value in values if value is not None]
    # a connection string's account key also travels on its own
    for connection in secrets[:]:
        for part in connection.split(";"):
            name, _, value = part.partition("=")
            if name.strip().lower() in {"accountkey", "sharedaccesssignature"} and value:
                secrets.append(value)
    return [secret for secret in secrets if len(secret) >= 4]


# --- API ----------------------------------------------------------------------------------------------


class FailureQuery(PageQuery):
    state: FailureState | None = Field(None, description="Only this state; default: every unresolved one.")


class FailureItem(ResponseModel):
    id: int
    source: Literal["graph", "directory"]
    message_ref: str = Field(description="The Graph message id, or the file path of a directory import.")
    state: FailureState
    attempts: int
    last_error: str
    first_failed_at: datetime
    last_failed_at: datetime
    resolved_at: datetime | None


class FailureList(BaseModel):
    items: list[FailureItem]
    page: PageInfo


def list_failures(session: Session, query: FailureQuery) -> FailureList:
    """Most recently failed first."""
    condition = (
        IngestionFailure.state == query.state
        if query.state is not None
        else IngestionFailure.state != "resolved"
    )
    rows = session.scalars(
        paginated(
            select(IngestionFailure)
            .where(condition)
            .order_by(IngestionFailure.last_failed_at.desc(), IngestionFailure.id.desc()),
            query,
        )
    )
    items, page = page_of([FailureItem.model_validate(row) for row in rows], query)
    return FailureList(items=items, page=page)


def retry_failure(session: Session, failure_id: int, actor: str, ingest_queue: list[str]) -> FailureItem:
    """Put a failed Graph message back on the ingestion queue and mark it retrying. The message goes
    out through the route's queue output binding (``ingest_queue``), written by the host once
    the transaction has committed: in Azure to Storage, locally to the dev host's queue."""
    failure = session.get(IngestionFailure, failure_id, with_for_update=True)
    if failure is None:
        raise NotFound(f"no such failed ingestion: {failure_id}")
    if failure.state == "resolved":
        raise Conflict("this ingestion has succeeded since; there is nothing to retry")
    if failure.source != "graph":
        raise Conflict(
            "a directory import is retried by importing its file again (python -m shared_code import-mail)"
        )
    ingest_queue.append(failure.message_ref)
    failure.state = "retrying"
    audit.record(
        session, actor, "retry", "ingestion_failure", failure.id, {"message_ref": failure.message_ref}
    )
    session.flush()
    return FailureItem.model_validate(failure)
