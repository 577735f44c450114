"""The timer's catch-up (SPEC §4.3): keep the subscription alive, then ingest every mail the delta
query says arrived, so that mail whose notification was lost still comes in, exactly once.

The link to resume from (a next link mid-round, the delta link at its end, always the whole link as
Graph gave it) is saved after every page whose messages are all settled: ingested, stored
already, or recorded as failed for good. A page with a message that failed for now is not moved
past, so the next run repeats it (the stored ones are skipped) until that message is ingested or
has used up its attempts. A delta token Graph no longer knows (410 ``syncStateNotFound``) starts a
full resync; upserts make the repeated items harmless.

One maintenance run at a time (a PostgreSQL advisory lock): the timer and the lifecycle events
would otherwise create two subscriptions or page the same window twice.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select

from shared_code.db.engine import get_engine, unit_of_work
from shared_code.db.models import IngestionFailure, MailSyncState, PipelineEvent
from shared_code.mail.failures import record_failure_or_log
from shared_code.mail.graph_client import (
    MAX_CONCURRENT_REQUESTS,
    GraphError,
    GraphForbidden,
    GraphMailbox,
)
from shared_code.mail.graph_ingest import failure_state, ingest_graph_message, known_message_ids
from shared_code.mail.subscription import ensure_subscription, renew, replace

log = logging.getLogger(__name__)

MAINTENANCE_LOCK = 0x4D61696C43617463  # "MailCatc": one catch-up or lifecycle action at a time
EVENTS_KEPT = timedelta(days=30)
SETTLED = {"ingested", "duplicate", "permanent", "poisoned"}


class MaintenanceBusy(Exception):
    """Another catch-up or lifecycle action is running; the queue retries this one later."""


@dataclass
class SyncReport:
    outcomes: Counter[str] = field(default_factory=Counter)
    pages: int = 0
    full_resync: bool = False


def run_catch_up(mailbox: GraphMailbox) -> SyncReport | None:
    """Subscription upkeep, then the delta sync; None when another run holds the lock."""
    with maintenance_lock() as acquired:
        if not acquired:
            log.info("mail catch-up skipped: another one is running")
            return None
        _keep_subscription(mailbox)
        try:
            report = sync_folder(mailbox)
        except Exception as error:
            detail: dict[str, object] = {"error": f"{type(error).__name__}: {error}"[:1000]}
            if isinstance(error, GraphForbidden):
                detail["missing_permission"] = error.permission
            _remember_catch_up("failed", detail)
            raise
    _remember_catch_up(
        "ok", {"pages": report.pages, "outcomes": dict(report.outcomes), "full_resync": report.full_resync}
    )
    log.info(
        "mail catch-up: %d page(s), %s%s",
        report.pages,
        dict(report.outcomes) or "nothing new",
        " (full resync)" if report.full_resync else "",
    )
    return report


def handle_lifecycle_event(mailbox: GraphMailbox, message: str) -> None:
    """A queued lifecycle notification: renew, recreate, or catch up now."""
    event = json.loads(message)
    kind, subscription_id = event.get("event"), event.get("subscription_id")
    _remember_lifecycle_event(str(kind), subscription_id)
    with maintenance_lock() as acquired:
        if not acquired:
            raise MaintenanceBusy(f"lifecycle event {kind} waits for the running catch-up")
        if kind == "missed":
            sync_folder(mailbox)
        elif kind == "reauthorizationRequired" and subscription_id:
            with unit_of_work() as session:
                renew(session, mailbox, subscription_id)
        elif kind == "subscriptionRemoved":
            with unit_of_work() as session:
                replace(session, mailbox, subscription_id)
        else:
            log.warning("lifecycle event ignored: %r", event)


def _remember_catch_up(outcome: str, detail: dict[str, object]) -> None:
    """For GET /api/status: the catch-up's outcome (those older than a month are forgotten)."""
    with unit_of_work() as session:
        session.add(PipelineEvent(kind="catch_up", outcome=outcome, detail=detail))
        session.execute(
            delete(PipelineEvent).where(
                PipelineEvent.kind == "catch_up", PipelineEvent.at < datetime.now(UTC) - EVENTS_KEPT
            )
        )


def _remember_lifecycle_event(event: str, subscription_id: str | None) -> None:
    """For GET /api/status; recorded once per delivery (a redelivered event counts again)."""
    with unit_of_work() as session:
        session.add(
            PipelineEvent(kind="lifecycle", outcome=event, detail={"subscription_id": subscription_id})
        )


@contextmanager
def maintenance_lock() -> Iterator[bool]:
    """A session-level advisory lock on a connection of its own, outside any transaction."""
    with get_engine().connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        acquired = bool(connection.scalar(select(func.pg_try_advisory_lock(MAINTENANCE_LOCK))))
        try:
            yield acquired
        finally:
            if acquired:
                connection.scalar(select(func.pg_advisory_unlock(MAINTENANCE_LOCK)))


def sync_folder(mailbox: GraphMailbox) -> SyncReport:
    """Page through the folder's changes since the saved link and ingest what is new."""
    report = SyncReport()
    link = _saved_link(mailbox.sync_key)
    report.full_resync = link is None
    settled_so_far = True
    while True:
        try:
            page = mailbox.delta_page(link)
        except GraphError as error:
            if not (error.needs_resync and link is not None and not report.full_resync):
                raise
            log.warning("delta token no longer valid (%s): full resync of %s", error, mailbox.sync_key)
            link, report.full_resync, settled_so_far = None, True, True
            continue
        report.pages += 1
        page_outcomes = _ingest_all(mailbox, page.message_ids)
        report.outcomes.update(page_outcomes)
        settled_so_far = settled_so_far and not (set(page_outcomes) - SETTLED)
        if settled_so_far:
            _save_link(
                mailbox.sync_key,
                page.next_link or page.delta_link,
                finished=page.next_link is None,
                full=report.full_resync,
            )
        if page.next_link is None:
            return report
        link = page.next_link


def _keep_subscription(mailbox: GraphMailbox) -> None:
    """Subscription trouble must not stop the delta sync, which alone brings the mail in."""
    try:
        with unit_of_work() as session:
            ensure_subscription(session, mailbox)
    except Exception:
        log.exception("subscription upkeep failed; the delta sync runs anyway")


def _ingest_all(mailbox: GraphMailbox, message_ids: list[str]) -> Counter[str]:
    unique = list(dict.fromkeys(message_ids))
    known = known_message_ids(unique) if unique else set()
    outcomes: Counter[str] = Counter(duplicate=len(known))
    todo = [message_id for message_id in unique if message_id not in known]
    with ThreadPoolExecutor(MAX_CONCURRENT_REQUESTS, thread_name_prefix="catch-up") as pool:
        outcomes.update(pool.map(lambda message_id: _ingest_one(mailbox, message_id), todo))
    return +outcomes


def _ingest_one(mailbox: GraphMailbox, message_id: str) -> str:
    try:
        return "duplicate" if ingest_graph_message(mailbox, message_id).duplicate else "ingested"
    except Exception as error:
        state = failure_state(error, attempt=_attempts(message_id) + 1)
        record_failure_or_log("graph", message_id, state, error)
        return state


def _attempts(message_id: str) -> int:
    with unit_of_work() as session:
        found = session.scalar(
            select(IngestionFailure.attempts).where(IngestionFailure.message_ref == message_id)
        )
        return found or 0


def _saved_link(key: str) -> str | None:
    with unit_of_work() as session:
        state = session.get(MailSyncState, key)
        return state.delta_link if state is not None else None


def _save_link(key: str, link: str | None, *, finished: bool, full: bool) -> None:
    now = datetime.now(UTC)
    with unit_of_work() as session:
        state = session.get(MailSyncState, key) or MailSyncState(folder=key)
        session.add(state)
        state.delta_link = link
        if finished:
            state.last_synced_at = now
            if full:
                state.last_full_sync_at = now
