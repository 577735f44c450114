"""Ticket propagation to new runs, strategy 2 (technical notes, "Ticket Propagation to New Runs"):
the job's open Autotask ticket is copied onto every new run, open meaning the most recent one on
the job that is not deleted in the PSA and not resolved (in the PSA or internally).

A part of the statement that inserts the run (``runs.creation``), like strategy 1."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CTE, ColumnElement, exists, select

from shared_code.db.models import JobRun, Ticket

COPIED_AUTOTASK_COLUMNS = (
    "autotask_ticket_id",
    "autotask_ticket_number",
    "autotask_ticket_url",
    "autotask_ticket_created_at",
    "autotask_ticket_created_by",
)


def open_autotask_ticket(job_id: ColumnElement[Any]) -> CTE:
    """Strategy 2: the job's most recent Autotask ticket that is neither deleted in the PSA nor
    resolved (at most one row, with the columns a new run copies)."""
    resolved_internally = exists().where(
        Ticket.autotask_ticket_id == JobRun.autotask_ticket_id, Ticket.resolved_at.is_not(None)
    )
    return (
        select(*(JobRun.__table__.c[name] for name in COPIED_AUTOTASK_COLUMNS))
        .where(
            JobRun.job_id == job_id,
            JobRun.autotask_ticket_id.is_not(None),
            JobRun.autotask_ticket_deleted_at.is_(None),
            JobRun.ticket_resolved_at.is_(None),
            ~resolved_internally,
        )
        .order_by(JobRun.autotask_ticket_created_at.desc().nulls_last(), JobRun.id.desc())
        .limit(1)
        .cte("open_autotask_ticket")
    )
