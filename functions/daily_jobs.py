"""Daily Jobs: one day's expected and actual runs of every active job."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import azure.functions as func

from functions.http import api_route
from shared_code.api.auth import Role
from shared_code.api.routing import Call

if TYPE_CHECKING:
    from shared_code.runs.daily_jobs import DailyJobsPage

bp = func.Blueprint()


@api_route(
    bp,
    "GET",
    "daily-jobs",
    role=Role.VIEWER,
    tag="run-checks",
    query="shared_code.runs.daily_jobs:DailyJobsQuery",
    response="shared_code.runs.daily_jobs:DailyJobsPage",
)
def daily_jobs_list(call: Call) -> DailyJobsPage:
    """Every active job for a day in the UI timezone: expected schedule and that day's runs, or missed."""
    from shared_code.runs.daily_jobs import daily_jobs
    from shared_code.runs.missed_runs import grace_period

    return daily_jobs(call.db, call.query, now=datetime.now(UTC), grace=grace_period())
