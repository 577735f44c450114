"""Jobs: list by customer, details with run history, changes, soft delete."""

from __future__ import annotations

import azure.functions as func

from functions.http import api_route
from shared_code.api.auth import Role
from shared_code.api.routing import Call
from shared_code.jobs import (
    JobChange,
    JobDetail,
    JobList,
    JobListQuery,
    change_job,
    delete_job,
    job_detail,
    list_jobs,
)
from shared_code.schema.paging import PageQuery

bp = func.Blueprint()


@api_route(
    bp, "GET", "jobs", role=Role.VIEWER, tag="jobs", query=JobListQuery, response=JobList, errors=(404,)
)
def jobs_list(call: Call) -> JobList:
    """Jobs by customer and name; jobs of inactive customers only when asked (or filtered on)."""
    return list_jobs(call.db, call.query)


@api_route(bp, "GET", "jobs/{job_id:int}", role=Role.VIEWER, tag="jobs", query=PageQuery, response=JobDetail)
def jobs_get(call: Call) -> JobDetail:
    """A job with its schedule, indicators and run history (offset/limit page the runs)."""
    return job_detail(call.db, call.path["job_id"], call.query)


@api_route(
    bp,
    "PATCH",
    "jobs/{job_id:int}",
    role=Role.OPERATOR,
    tag="jobs",
    body=JobChange,
    response=JobDetail,
)
def jobs_change(call: Call) -> JobDetail:
    """Activate/deactivate a job, mark it informational, or move it to another customer."""
    return change_job(call.db, call.path["job_id"], call.body, call.actor)


@api_route(bp, "DELETE", "jobs/{job_id:int}", role=Role.ADMIN, tag="jobs")
def jobs_delete(call: Call) -> None:
    """Soft-delete a job and its mails (an admin purge removes them for good)."""
    delete_job(call.db, call.path["job_id"], call.actor)
