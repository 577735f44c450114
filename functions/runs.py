"""Runs: details, and marking them reviewed or unreviewed in bulk."""

from __future__ import annotations

from typing import TYPE_CHECKING

import azure.functions as func

from functions.http import api_route
from shared_code.api.auth import Role
from shared_code.api.routing import Call

if TYPE_CHECKING:
    from shared_code.psa.autotask_routes import ResolveResult
    from shared_code.runs.details import RunDetail
    from shared_code.runs.reviews import ReviewResult

bp = func.Blueprint()
REVIEWS = "shared_code.runs.reviews"


@api_route(
    bp,
    "GET",
    "runs/{run_id:int}",
    role=Role.VIEWER,
    tag="runs",
    query="shared_code.runs.details:RunDetailQuery",
    response="shared_code.runs.details:RunDetail",
)
def get_run(call: Call) -> RunDetail:
    """A run's objects (a page), mail, tickets and remarks (linked or open on its job), and its PSA
    ticket's state."""
    from shared_code.runs.details import run_detail

    return run_detail(call.db, call.path["run_id"], call.query)


@api_route(
    bp,
    "POST",
    "runs/review",
    role=Role.OPERATOR,
    tag="runs",
    body=f"{REVIEWS}:RunSelection",
    response=f"{REVIEWS}:ReviewResult",
    errors=(404,),
)
def review_runs(call: Call) -> ReviewResult:
    """Mark runs reviewed (idempotent; unknown ids: 404 naming them, nothing changed)."""
    from shared_code.runs.reviews import review

    return review(call.db, call.body, call.actor)


@api_route(
    bp,
    "POST",
    "runs/unreview",
    role=Role.OPERATOR,
    tag="runs",
    body=f"{REVIEWS}:RunSelection",
    response=f"{REVIEWS}:ReviewResult",
    errors=(404,),
)
def unreview_runs(call: Call) -> ReviewResult:
    """Mark runs unreviewed again (idempotent; unknown ids: 404 naming them, nothing changed)."""
    from shared_code.runs.reviews import unreview

    return unreview(call.db, call.body, call.actor)


@api_route(
    bp,
    "POST",
    "runs/snooze",
    role=Role.OPERATOR,
    tag="runs",
    body=f"{REVIEWS}:SnoozeBody",
    response=f"{REVIEWS}:ReviewResult",
    errors=(404,),
)
def snooze_runs(call: Call) -> ReviewResult:
    """Snooze runs: known trouble, waiting for the next run. They leave Run Checks unreviewed, with
    who and why (audited, listed on the job's page); the job's next run comes in as usual."""
    from shared_code.runs.reviews import snooze

    return snooze(call.db, call.body, call.actor)


@api_route(
    bp,
    "POST",
    "runs/unsnooze",
    role=Role.OPERATOR,
    tag="runs",
    body=f"{REVIEWS}:RunSelection",
    response=f"{REVIEWS}:ReviewResult",
    errors=(404,),
)
def unsnooze_runs(call: Call) -> ReviewResult:
    """Take snoozes back: the runs return to Run Checks unreviewed (audited with the reason withdrawn;
    runs not snoozed are unchanged; unknown ids: 404 naming them, nothing changed)."""
    from shared_code.runs.reviews import unsnooze

    return unsnooze(call.db, call.body, call.actor)


@api_route(
    bp,
    "POST",
    "runs/{run_id:int}/autotask-ticket/resolve",
    role=Role.OPERATOR,
    tag="runs",
    response="shared_code.psa.autotask_routes:ResolveResult",
    errors=(404, 409, 502, 503),
)
def resolve_run_autotask_ticket(call: Call) -> ResolveResult:
    """Resolve the run's Autotask ticket (Phase 2.4): completed in Autotask when it has no time entries
    (internal note A, status verified, every linked run resolved), else internal note B and left open.
    409 naming why when Resolve is not available; 502 when Autotask did not take the status."""
    from shared_code.psa.autotask_routes import resolve_run_ticket

    return resolve_run_ticket(call.db, call.path["run_id"], call.actor)
