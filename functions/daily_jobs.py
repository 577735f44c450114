"""Daily Jobs: one day's expected and actual runs of every active job."""

from __future__ import annotations

from datetime import UTC, datetime

import azure.functions as func

from functions.http import api_route
from shared_code.api.auth import Role
from shared_code.api.routing import Call
from shared_code.runs.daily_jobs import DailyJobsPage, DailyJobsQuery, daily_jobs
from shared_code.runs.missed_runs import grace_period

bp = func.Blueprint()


@api_route(
    bp, "GET", "daily-jobs", role=Role.VIEWER, tag="run-checks", query=DailyJobsQuery, response=DailyJobsPage
)
def daily_jobs_list(call: Call) -> DailyJobsPage:
    """Every active job for a day in the UI timezone: expected schedule and that day's runs, or missed."""
    return daily_jobs(call.db, call.query, now=datetime.now(UTC), grace=grace_period())
