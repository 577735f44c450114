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
from functools import partial

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from shared_code.db.engine import get_engine, unit_of_work
from shared_code.db.models import MailSyncState, PipelineEvent
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

    def detail(self) -> dict[str, object]:
        return {"pages": self.pages, "outcomes": dict(self.outcomes), "full_resync": self.full_resync}


def run_catch_up(mailbox: GraphMailbox) -> SyncReport | None:
    """The timer's entry point: subscription upkeep, then the delta sync; None when another run holds
    the lock. Its units of work: the upkeep (its failure must not stop the sync, which alone brings
    the mail in), those of ``sync_folder``, and the outcome for GET /api/status."""
    with maintenance_lock() as acquired:
        if not acquired:
            log.info("mail catch-up skipped: another one is running")
            return None
        try:
            with unit_of_work() as session:
                ensure_subscription(session, mailbox)
        except Exception:
            log.exception("subscription upkeep failed; the delta sync runs anyway")
        try:
            report = sync_folder(mailbox)
        except Exception as error:
            with unit_of_work() as session:
                _remember_catch_up(session, "failed", _failure_detail(error))
            raise
    with unit_of_work() as session:
        _remember_catch_up(session, "ok", report.detail())
    log.info(
        "mail catch-up: %d page(s), %s%s",
        report.pages,
        dict(report.outcomes) or "nothing new",
        " (full resync)" if report.full_resync else "",
    )
    return report


def handle_lifecycle_event(mailbox: GraphMailbox, message: str) -> None:
    """The lifecycle queue's entry point: renew, recreate, or catch up now. The event is recorded
    in a unit of work of its own first, so a redelivery after a failed renewal counts again."""
    event = json.loads(message)
    kind, subscription_id = event.get("event"), event.get("subscription_id")
    with unit_of_work() as session:
        _remember_lifecycle_event(session, str(kind), subscription_id)
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
    """Page through the folder's changes since the saved link and ingest what is new (the timer's
    catch-up and a "missed" lifecycle event). Its units of work: reading the saved link, and saving
    it after each settled page, so that a failure later in the round keeps the progress made; each
    mail is ingested in its own (``mail.ingest``)."""
    report = SyncReport()
    with unit_of_work() as session:
        link = _saved_link(session, mailbox.sync_key)
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
            with unit_of_work() as session:
                _save_link(
                    session,
                    mailbox.sync_key,
                    page.next_link or page.delta_link,
                    finished=page.next_link is None,
                    full=report.full_resync,
                )
        if page.next_link is None:
            return report
        link = page.next_link


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
        # the attempt's number is the next after those recorded (the queue's is its dequeue count)
        return record_failure_or_log("graph", message_id, partial(failure_state, error), error)


def _failure_detail(error: Exception) -> dict[str, object]:
    detail: dict[str, object] = {"error": f"{type(error).__name__}: {error}"[:1000]}
    if isinstance(error, GraphForbidden):
        detail["missing_permission"] = error.permission
    return detail


def _remember_catch_up(session: Session, outcome: str, detail: dict[str, object]) -> None:
    """For GET /api/status: the catch-up's outcome (those older than a month are forgotten)."""
    session.add(PipelineEvent(kind="catch_up", outcome=outcome, detail=detail))
    session.execute(
        delete(PipelineEvent).where(
            PipelineEvent.kind == "catch_up", PipelineEvent.at < datetime.now(UTC) - EVENTS_KEPT
        )
    )


def _remember_lifecycle_event(session: Session, event: str, subscription_id: str | None) -> None:
    session.add(PipelineEvent(kind="lifecycle", outcome=event, detail={"subscription_id": subscription_id}))


def _saved_link(session: Session, key: str) -> str | None:
    state = session.get(MailSyncState, key)
    return state.delta_link if state is not None else None


def _save_link(session: Session, key: str, link: str | None, *, finished: bool, full: bool) -> None:
    now = datetime.now(UTC)
    state = session.get(MailSyncState, key) or MailSyncState(folder=key)
    session.add(state)
    state.delta_link = link
    if finished:
        state.last_synced_at = now
        if full:
            state.last_full_sync_at = now
