"""The PSA poll the Run Checks page starts after it has rendered (Phase 2.1–2.3), against the active PSA.

Read-only towards the PSA. For the tickets linked to the runs on screen (``tickets.external.poll_scope``):
1. the *active* ones are asked for by id, as many per query as the PSA takes (``max_ids_per_query``:
   Autotask's ``in`` limit of 500, ConnectWise's page of 1,000);
2. every ticket the active query did not return gets one single-ticket lookup: found and
   completed → its runs are resolved, origin ``psa``; found and active (it changed in between) →
   snapshot only; not found → its linkage is marked deleted in the PSA;
3. what was learnt is written in one transaction (``tickets.external`` records it).
The scope, the settings and the provider are read in a short transaction of their own that ends
before the first request: no row lock and no database connection is held while the PSA answers.
A failed request (outage, throttling, timeout) fails only the tickets it was about: they are
reported, never taken for deleted, and their runs keep their state. The whole poll answers within
its time budget; what did not finish by then is reported as failed. At most three requests run at
once (the PSA's per-integration thread limit)."""

from __future__ import annotations

import contextvars
import functools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from shared_code.app_settings import load_app_settings
from shared_code.db.engine import unit_of_work
from shared_code.db.models import AppSettings
from shared_code.psa import registry
from shared_code.psa.provider import PsaError, PsaProvider, ReferenceData, Ticket, about_run
from shared_code.schema.fields import Id
from shared_code.schema.models import RequestModel
from shared_code.tickets.external import (
    PollScope,
    mark_deleted_in_psa,
    poll_scope,
    record_snapshots,
    resolve_linked_runs,
)

log = logging.getLogger(__name__)

PARALLEL_REQUESTS = 3
DEFAULT_BUDGET_SECONDS = 10.0

Outcome = Literal["active", "completed", "deleted", "failed"]


class PollRequest(RequestModel):
    run_ids: list[Id] = Field(
        min_length=1,
        max_length=20_000,
        description="The runs on screen (a Run Checks page holds at most 20,000).",
    )


class PolledTicket(BaseModel):
    ticket_id: int
    outcome: Outcome = Field(
        description="active: snapshot refreshed; completed: runs resolved by PSA; deleted: linkage marked "
        "deleted in PSA; failed: not learnt this time (see error), nothing changed."
    )
    run_ids: list[int] = Field(description="The runs on screen linked to the ticket.")
    status_id: int | None = None
    status_label: str | None = None
    error: str | None = Field(None, description="Why the ticket could not be polled (failed only).")


class PollCounts(BaseModel):
    active: int = 0
    completed: int = 0
    deleted: int = 0
    failed: int = 0


class PollResult(BaseModel):
    polled: bool = Field(description="False when the poll did not ask the PSA at all (see reason).")
    reason: str | None = Field(None, description="Why nothing was polled (integration disabled, ...).")
    counts: PollCounts = Field(default_factory=PollCounts)
    changed: list[PolledTicket] = Field(
        default_factory=list, description="Tickets found completed or deleted: their runs changed state."
    )
    failed: list[PolledTicket] = Field(default_factory=list, description="Tickets that could not be polled.")
    active: list[PolledTicket] = Field(default_factory=list, description="Tickets still open: snapshot only.")
    resolved_run_ids: list[int] = Field(default_factory=list, description="Runs resolved by this poll.")
    deleted_run_ids: list[int] = Field(
        default_factory=list, description="Runs whose ticket was found deleted."
    )
    skipped_run_ids: list[int] = Field(
        default_factory=list,
        description="Runs on screen without a ticket to poll (none, resolved or deleted).",
    )
    unknown_run_ids: list[int] = Field(default_factory=list, description="Ids that are no (live) run.")
    requests: int = Field(0, description="Ticket requests sent to the PSA (all reads).")
    budget_exhausted: bool = Field(False, description="The time budget ran out; unfinished tickets failed.")
    elapsed_ms: int = 0


@dataclass(frozen=True)
class Observation:
    ticket_id: int
    outcome: Outcome
    ticket: Ticket | None = None
    error: str | None = None


def not_polled(reason: str) -> PollResult:
    return PollResult(polled=False, reason=reason)


def poll_reason_not_to(settings: AppSettings) -> str | None:
    if settings.psa_provider == "none":
        return "The PSA integration is disabled (none is active): nothing was polled."
    if settings.psa_closed_status_required and settings.psa_closed_status_id is None:
        label = registry.label(settings.psa_provider)
        return (
            f"No {label} 'completed' status is configured: active and completed tickets cannot be told apart."
        )
    return None


def poll_for_run_checks(session: Session, run_ids: Sequence[int]) -> PollResult:
    """``POST /api/run-checks/poll``: the stored settings and picklists, the active PSA as configured.
    ``session`` (the request's) is first used to write what was learnt."""
    with unit_of_work() as reads:
        settings = load_app_settings(reads)
        scope = poll_scope(reads, settings.psa_provider, run_ids)
        reference = registry.stored_reference_data(settings)
        opened: PsaProvider | PsaError | None = None
        if poll_reason_not_to(settings) is None and scope.ticket_ids:
            try:
                opened = registry.open_provider(reads)
            except PsaError as error:  # no provider at all (settings, secret): every ticket fails
                opened = error
    return _poll(session, settings, scope, lambda: _opened(opened), reference)


def _opened(opened: PsaProvider | PsaError | None) -> PsaProvider:
    if isinstance(opened, PsaError):
        raise opened
    assert opened is not None
    return opened


def poll_linked_tickets(
    session: Session,
    settings: AppSettings,
    open_provider: Callable[[], AbstractContextManager[PsaProvider]],
    reference: ReferenceData,
    run_ids: Sequence[int],
    *,
    budget_seconds: float = DEFAULT_BUDGET_SECONDS,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> PollResult:
    scope = poll_scope(session, settings.psa_provider, run_ids)
    return _poll(session, settings, scope, open_provider, reference, budget_seconds=budget_seconds, now=now)


def _poll(
    session: Session,
    settings: AppSettings,
    scope: PollScope,
    open_provider: Callable[[], AbstractContextManager[PsaProvider]],
    reference: ReferenceData,
    *,
    budget_seconds: float = DEFAULT_BUDGET_SECONDS,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> PollResult:
    started = time.monotonic()
    reason = poll_reason_not_to(settings)
    if reason:
        return not_polled(reason).model_copy(
            update={"skipped_run_ids": scope.skipped_run_ids, "unknown_run_ids": scope.unknown_run_ids}
        )
    completed_status = settings.psa_closed_status_id  # None: the PSA flags closed tickets itself
    requests, observations = None, []
    if scope.ticket_ids:
        try:
            # Closing the provider at the end also stops what is in flight after the budget ran out.
            with open_provider() as provider, _Requests(provider, started + budget_seconds) as requests:
                observations = _observe(requests, scope, completed_status)
        except PsaError as error:  # no provider at all (settings, secret): every ticket failed
            log.warning("psa poll: no connection to the PSA: %s", _why(error))
            observations = [Observation(t, "failed", error=_why(error)) for t in scope.ticket_ids]
    result = _apply(session, scope, observations, reference, at=now())
    return result.model_copy(
        update={
            "requests": requests.sent if requests else 0,
            "budget_exhausted": bool(requests and requests.exhausted),
            "elapsed_ms": round((time.monotonic() - started) * 1000),
        }
    )


class _Requests:
    """The poll's PSA reads: at most three at once, each in the request's logging context, all
    abandoned when the deadline passes (a late answer is dropped, its tickets reported failed)."""

    def __init__(self, provider: PsaProvider, deadline: float) -> None:
        self.provider, self.deadline = provider, deadline
        self.exhausted = False
        self.sent = 0  # calls started (the client's own retries of a call not counted)
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(PARALLEL_REQUESTS, thread_name_prefix="psa-poll")

    def __enter__(self) -> _Requests:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def run_all(self, calls: dict[Any, Callable[[], Any]]) -> dict[Any, Any]:
        """Each call's result, or the exception it raised, or TimeoutError when it did not finish."""
        futures: dict[Future[Any], Any] = {}
        for key, call in calls.items():
            context = contextvars.copy_context()  # the correlation id follows into the worker
            futures[self._pool.submit(context.run, self._before_deadline, call)] = key
        results: dict[Any, Any] = {}
        pending = set(futures)
        while pending:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                break
            done, pending = wait(pending, timeout=remaining, return_when=FIRST_COMPLETED)
            for future in done:
                error = future.exception()
                results[futures[future]] = error if error is not None else future.result()
        for future in pending:
            self.exhausted = True
            future.cancel()
            results[futures[future]] = TimeoutError("the poll's time budget ran out before the PSA answered")
        return results

    def _before_deadline(self, call: Callable[[], Any]) -> Any:
        if time.monotonic() >= self.deadline:
            raise TimeoutError("the poll's time budget ran out before the request was sent")
        with self._lock:
            self.sent += 1
        return call()


def _observe(requests: _Requests, scope: PollScope, completed_status: int | None) -> list[Observation]:
    size = requests.provider.max_ids_per_query
    batches = [scope.ticket_ids[i : i + size] for i in range(0, len(scope.ticket_ids), size)]
    answers = requests.run_all(
        {
            tuple(batch): _logged(
                scope,
                batch,
                "active tickets query",
                functools.partial(requests.provider.tickets_by_ids, batch, excluding_status=completed_status),
            )
            for batch in batches
        }
    )
    observations: list[Observation] = []
    missing: list[int] = []
    for batch, answer in answers.items():
        if isinstance(answer, BaseException):
            observations += [Observation(t, "failed", error=_why(answer)) for t in batch]
            continue
        returned = {ticket.id: ticket for ticket in answer}
        observations += [Observation(t, "active", ticket=returned[t]) for t in batch if t in returned]
        missing += [t for t in batch if t not in returned]
    lookups = requests.run_all(
        {
            ticket_id: _logged(
                scope,
                [ticket_id],
                "single-ticket lookup",
                functools.partial(requests.provider.get_ticket, ticket_id),
            )
            for ticket_id in missing
        }
    )
    for ticket_id, answer in lookups.items():
        observations.append(_observation(ticket_id, answer, completed_status))
    return observations


def _observation(ticket_id: int, answer: Any, completed_status: int | None) -> Observation:
    if isinstance(answer, BaseException):
        return Observation(ticket_id, "failed", error=_why(answer))
    if answer is None:
        return Observation(ticket_id, "deleted")
    closed = answer.closed if answer.closed is not None else answer.status_id == completed_status
    outcome: Outcome = "completed" if closed else "active"
    return Observation(ticket_id, outcome, ticket=answer)


def _logged(scope: PollScope, ticket_ids: list[int], what: str, call: Callable[[], Any]) -> Callable[[], Any]:
    """The call, logged with its ticket ids and the runs they are linked to (the correlation id is on
    every record of the request)."""
    run_ids = [run_id for ticket_id in ticket_ids for run_id in scope.runs_by_ticket[ticket_id]]

    def logged() -> Any:
        log.info("%s poll: %s for ticket ids %s (run ids %s)", scope.provider, what, ticket_ids, run_ids)
        with about_run(run_ids[0] if len(run_ids) == 1 else None):
            try:
                return call()
            except Exception as error:
                log.warning(
                    "%s poll: %s failed for ticket ids %s (run ids %s): %s",
                    scope.provider,
                    what,
                    ticket_ids,
                    run_ids,
                    _why(error),
                )
                raise

    return logged


def _why(error: BaseException) -> str:
    if isinstance(error, PsaError):
        return f"{error.code}: {error.message}"
    if isinstance(error, TimeoutError):
        return f"timeout: {error}"
    return f"{type(error).__name__}: {error}"


def _snapshot(ticket: Ticket, reference: ReferenceData, at: datetime) -> dict[str, Any]:
    return {
        "status_id": ticket.status_id,
        "status_label": reference.label("statuses", ticket.status_id),
        "last_activity_at": ticket.last_activity_at.isoformat() if ticket.last_activity_at else None,
        "completed_at": ticket.completed_at.isoformat() if ticket.completed_at else None,
        "polled_at": at.isoformat(),
    }


def _apply(
    session: Session,
    scope: PollScope,
    observations: list[Observation],
    reference: ReferenceData,
    *,
    at: datetime,
) -> PollResult:
    """One transaction (the caller commits): snapshots, PSA resolutions, deletions. A failed
    observation writes nothing."""
    provider, actor = scope.provider, f"{scope.provider}-poll"
    seen = {o.ticket_id: _snapshot(o.ticket, reference, at) for o in observations if o.ticket is not None}
    record_snapshots(session, provider, seen, at=at)
    completed = [o.ticket_id for o in observations if o.outcome == "completed"]
    resolutions = resolve_linked_runs(session, provider, completed, origin="psa", at=at, actor=actor)
    deleted = mark_deleted_in_psa(
        session, provider, [o.ticket_id for o in observations if o.outcome == "deleted"], at=at, actor=actor
    )
    for resolution in resolutions:
        log.info(
            "%s poll: ticket %s completed in the PSA; runs %s resolved",
            provider,
            resolution.ticket_id,
            resolution.run_ids,
        )
    for ticket_id, run_ids in deleted.items():
        log.warning("%s poll: ticket %s is deleted in the PSA; runs %s marked", provider, ticket_id, run_ids)
    reported: dict[Outcome, list[PolledTicket]] = {"active": [], "completed": [], "deleted": [], "failed": []}
    for o in sorted(observations, key=lambda o: o.ticket_id):
        status_id = o.ticket.status_id if o.ticket else None
        reported[o.outcome].append(
            PolledTicket(
                ticket_id=o.ticket_id,
                outcome=o.outcome,
                run_ids=scope.runs_by_ticket[o.ticket_id],
                status_id=status_id,
                status_label=reference.label("statuses", status_id),
                error=o.error,
            )
        )
    return PollResult(
        polled=True,
        counts=PollCounts(**{outcome: len(tickets) for outcome, tickets in reported.items()}),
        changed=sorted(reported["completed"] + reported["deleted"], key=lambda t: t.ticket_id),
        failed=reported["failed"],
        active=reported["active"],
        resolved_run_ids=sorted(run_id for r in resolutions for run_id in r.run_ids),
        deleted_run_ids=sorted(run_id for run_ids in deleted.values() for run_id in run_ids),
        skipped_run_ids=scope.skipped_run_ids,
        unknown_run_ids=scope.unknown_run_ids,
    )
