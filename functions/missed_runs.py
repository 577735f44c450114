"""Missed runs: the hourly timer, and the same pass on demand for an admin."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import azure.functions as func

from functions.http import api_route
from shared_code.api.auth import Role
from shared_code.api.routing import Call

if TYPE_CHECKING:
    from shared_code.runs.missed_runs import MissedRunsResult

bp = func.Blueprint()
log = logging.getLogger(__name__)


@bp.function_name("missed_runs")
@bp.timer_trigger(arg_name="timer", schedule="0 5 * * * *", run_on_startup=False)
def missed_runs_timer(timer: func.TimerRequest) -> None:
    from shared_code.db.engine import unit_of_work
    from shared_code.runs.missed_runs import generate_missed_runs

    with unit_of_work() as session:
        result = generate_missed_runs(session)
    log.info(
        "missed runs: %d booked, %d schedules learned", result.missed_runs_created, result.schedules_learned
    )


@api_route(
    bp,
    "POST",
    "missed-runs/generate",
    role=Role.ADMIN,
    tag="runs",
    response="shared_code.runs.missed_runs:MissedRunsResult",
)
def missed_runs_generate(call: Call) -> MissedRunsResult:
    """Learn schedules and book due missed runs now (what the hourly timer does)."""
    from shared_code.runs.missed_runs import generate_missed_runs

    return generate_missed_runs(call.db, actor=call.actor)
