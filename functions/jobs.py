"""Jobs: list by customer, details with run history, changes, soft delete."""

from __future__ import annotations

from typing import TYPE_CHECKING

import azure.functions as func

from functions.http import api_route
from shared_code.api.auth import Role
from shared_code.api.routing import Call
from shared_code.schema.paging import PageQuery

if TYPE_CHECKING:
    from shared_code.jobs import JobDetail, JobList

bp = func.Blueprint()
JOBS = "shared_code.jobs"


@api_route(
    bp,
    "GET",
    "jobs",
    role=Role.VIEWER,
    tag="jobs",
    query=f"{JOBS}:JobListQuery",
    response=f"{JOBS}:JobList",
    errors=(404,),
)
def jobs_list(call: Call) -> JobList:
    """Jobs by customer and name; jobs of inactive customers only when asked (or filtered on)."""
    from shared_code.jobs import list_jobs

    return list_jobs(call.db, call.query)


@api_route(bp, "GET", "jobs/{job_id:int}", role=Role.VIEWER, tag="jobs", query=PageQuery, response=f"{JOBS}:JobDetail")
def jobs_get(call: Call) -> JobDetail:
    """A job with its schedule, indicators and run history (offset/limit page the runs)."""
    from shared_code.jobs import job_detail

    return job_detail(call.db, call.path["job_id"], call.query)


@api_route(
    bp,
    "PATCH",
    "jobs/{job_id:int}",
    role=Role.OPERATOR,
    tag="jobs",
    body=f"{JOBS}:JobChange",
    response=f"{JOBS}:JobDetail",
)
def jobs_change(call: Call) -> JobDetail:
    """Activate/deactivate a job, mark it informational, or move it to another customer."""
    from shared_code.jobs import change_job

    return change_job(call.db, call.path["job_id"], call.body, call.actor)


@api_route(bp, "DELETE", "jobs/{job_id:int}", role=Role.ADMIN, tag="jobs")
def jobs_delete(call: Call) -> None:
    """Soft-delete a job and its mails (an admin purge removes them for good)."""
    from shared_code.jobs import delete_job

    delete_job(call.db, call.path["job_id"], call.actor)
