"""Run Checks: the operators' morning list of unreviewed runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import azure.functions as func

from functions.http import api_route
from shared_code.api.auth import Role
from shared_code.api.routing import Call

if TYPE_CHECKING:
    from shared_code.psa.polling import PollResult
    from shared_code.runs.run_checks import RunChecksPage

bp = func.Blueprint()


@api_route(
    bp,
    "GET",
    "run-checks",
    role=Role.VIEWER,
    tag="run-checks",
    query="shared_code.runs.run_checks:RunChecksQuery",
    response="shared_code.runs.run_checks:RunChecksPage",
)
def list_run_checks(call: Call) -> RunChecksPage:
    """Unreviewed runs grouped by customer and job, newest first, with their indicators."""
    from shared_code.runs.run_checks import run_checks

    return run_checks(call.db, call.query)


@api_route(
    bp,
    "POST",
    "run-checks/poll",
    role=Role.OPERATOR,
    tag="run-checks",
    body="shared_code.psa.polling:PollRequest",
    response="shared_code.psa.polling:PollResult",
)
def poll_run_checks(call: Call) -> PollResult:
    """Ask the active PSA about the tickets of the runs on screen (the page calls it after rendering).
    Read-only towards the PSA; per-ticket failures are reported in the answer, never as an error."""
    from shared_code.psa.polling import poll_for_run_checks

    return poll_for_run_checks(call.db, call.body.run_ids)
