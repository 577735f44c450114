"""Run Checks: the unreviewed runs, grouped by customer and job, with every indicator of SPEC §7.

A fixed number of set-based statements whatever the data size (a test counts them):
1. the settings row (the active PSA, for ``can_resolve``);
2. the page of jobs that have unreviewed runs, in customer/job name order, with their open
   ticket and remark counts;
3. the newest unreviewed runs of those jobs (a lateral join, ``runs_per_job`` each) with
   each job's unreviewed total;
4. to 6. why the failed, warning and missed runs are so, and drift in the successful ones
   (``reasons``: object counts, failing objects, subjects of reports without them, drift).
Read-only: missed runs are made by a timer, and PSA polling is a separate call."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field
from sqlalchemy import Integer, Select, func, literal, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from shared_code.app_settings import load_app_settings
from shared_code.db.models import AppSettings, Customer, Job, JobRun, natural_key
from shared_code.runs.reasons import RunDrift, RunReason, drift_for, reasons_for
from shared_code.runs.views import (
    RUN_COLUMNS,
    RUNS_FROM,
    JobHeading,
    JobIndicators,
    RunRow,
    Status,
    fields_of,
    run_row,
)
from shared_code.schema.fields import Id, Search, comma_separated
from shared_code.schema.paging import PageInfo, PageQuery, page_of, paginated
from shared_code.tickets.kinds import REMARKS, TICKETS


class RunChecksQuery(PageQuery):
    """``limit`` counts jobs per page."""

    customer_id: Id | None = Field(None, description="Only this customer's jobs.")
    status: Annotated[list[Status], BeforeValidator(comma_separated), Field(min_length=1)] | None = Field(
        None,
        description="Only runs with one of these effective statuses (comma-separated, e.g. failed,warning).",
    )
    software: Search | None = Field(None, description="Only jobs of this backup software (any case).")
    informational: bool | None = Field(
        None, description="Only informational jobs (true), none of them (false), or both (left out)."
    )
    runs_per_job: int = Field(20, ge=1, le=100, description="Newest unreviewed runs shown per job.")


class CheckedRun(RunRow):
    reason: RunReason | None = Field(
        description="Why a failed, warning or missed run is one (parsed status)."
    )
    drift: RunDrift | None = Field(description="A successful run that lacks what its job's recent runs had.")


class JobGroup(JobHeading, JobIndicators):
    job_id: int
    unreviewed_runs: int = Field(description="All unreviewed runs of the job matching the filters.")
    runs: list[CheckedRun] = Field(description="The newest of them first, at most runs_per_job.")


class CustomerGroup(BaseModel):
    customer_id: int
    customer_name: str
    jobs: list[JobGroup]


class RunChecksPage(BaseModel):
    customers: list[CustomerGroup]
    page: PageInfo


def run_checks(session: Session, query: RunChecksQuery) -> RunChecksPage:
    settings = load_app_settings(session)
    jobs, page = page_of(list(session.execute(_jobs_page(query)).all()), query)
    runs = _newest_unreviewed_runs(session, [job.id for job in jobs], query)
    reasons, drift = reasons_for(session, runs), drift_for(session, runs)
    checked = [_checked(settings, run, reasons, drift) for run in runs]
    return RunChecksPage(customers=_grouped(jobs, runs, checked), page=page)


def _checked(
    settings: AppSettings, run: Any, reasons: dict[int, RunReason], drift: dict[int, RunDrift]
) -> CheckedRun:
    # the row is validated already: extended without a second validation of its fields (500 rows)
    return CheckedRun.model_construct(
        **dict(run_row(settings, run)), reason=reasons.get(run.id), drift=drift.get(run.id)
    )


def _unreviewed(query: RunChecksQuery) -> list[Any]:
    conditions = [JobRun.reviewed_at.is_(None), JobRun.snoozed_at.is_(None)]
    if query.status is not None:
        conditions.append(JobRun.effective_status.in_(query.status))
    return conditions


def _jobs_page(query: RunChecksQuery) -> Select[Any]:
    has_unreviewed = select(JobRun.id).where(JobRun.job_id == Job.id, *_unreviewed(query)).exists()
    statement = (
        select(
            Job.id,
            Job.job_name,
            Job.backup_software,
            Job.backup_type,
            Job.informational,
            Customer.id.label("customer_id"),
            Customer.name.label("customer_name"),
            TICKETS.open_count_for_job(Job.id).label("open_tickets"),
            REMARKS.open_count_for_job(Job.id).label("open_remarks"),
        )
        .join(Customer, Customer.id == Job.customer_id)
        .where(
            Job.live,
            Job.active,
            Customer.live,
            Customer.active,
            has_unreviewed,
        )
        .order_by(natural_key(Customer.name), Customer.id, natural_key(Job.job_name), Job.id)
    )
    if query.customer_id is not None:
        statement = statement.where(Job.customer_id == query.customer_id)
    if query.informational is not None:
        statement = statement.where(Job.informational.is_(query.informational))
    if query.software:
        statement = statement.where(func.lower(Job.backup_software) == query.software.lower())
    return paginated(statement, query)


def _newest_unreviewed_runs(session: Session, job_ids: list[int], query: RunChecksQuery) -> Sequence[Any]:
    if not job_ids:
        return []
    page = func.unnest(literal(job_ids, ARRAY(Integer))).table_valued("job_id").render_derived("page")
    newest = (
        select(*RUN_COLUMNS, func.count().over().label("unreviewed_runs"))
        .select_from(RUNS_FROM)
        .where(JobRun.job_id == page.c.job_id, *_unreviewed(query))
        .order_by(JobRun.run_at.desc(), JobRun.id.desc())
        .limit(query.runs_per_job)
        .lateral("newest")
    )
    return session.execute(select(newest).select_from(page).join(newest, true())).all()


def _grouped(jobs: Sequence[Any], runs: Sequence[Any], checked: list[CheckedRun]) -> list[CustomerGroup]:
    runs_of: dict[int, list[tuple[Any, CheckedRun]]] = defaultdict(list)
    for run, shown in zip(runs, checked, strict=True):
        runs_of[run.job_id].append((run, shown))
    customers: list[CustomerGroup] = []
    for job in jobs:
        if not customers or customers[-1].customer_id != job.customer_id:
            customers.append(
                CustomerGroup(customer_id=job.customer_id, customer_name=job.customer_name, jobs=[])
            )
        own = sorted(runs_of[job.id], key=lambda pair: (pair[0].run_at, pair[0].id), reverse=True)
        customers[-1].jobs.append(
            JobGroup(
                **fields_of(JobHeading, job),
                **fields_of(JobIndicators, job),
                job_id=job.id,
                unreviewed_runs=own[0][0].unreviewed_runs if own else 0,
                runs=[shown for _, shown in own],
            )
        )
    return customers
