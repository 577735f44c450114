"""The one way a run comes into being, from a mail or as a missed run: overrides applied,
open tickets and remarks propagated.

The run, the PSA ticket it copies and its links to open notes are one statement
(``new_run``), built once: SQLAlchemy then reuses its compiled form, and every mail pays for it.
Ingestion puts the same CTEs into the statement that stores the mail (``mail.store``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import CTE, ColumnElement, FromClause, Select, bindparam, insert, select
from sqlalchemy.orm import Session, aliased

from shared_code.db.models import Job, JobRun, Override
from shared_code.runs.overrides import ObjectResult, effective_status, in_force, live_overrides
from shared_code.tickets.external import open_external_ticket
from shared_code.tickets.linking import links_to_open_notes

# The bind parameters of ``new_run`` (``run_parameters`` gives them values).
RUN_PARAMETERS = ("job_id", "run_at", "status", "effective_status", "override_id")


def create_run(
    session: Session,
    job: Job,
    *,
    run_at: datetime,
    status: str,
    objects: Sequence[ObjectResult] = (),
    mail_id: int | None = None,
    overrides: Iterable[Override] | None = None,
) -> JobRun:
    """Insert a run (``status`` as parsed, or ``missed`` without a mail), propagate the job's open
    tickets to it, and return it. ``overrides``: the live overrides, when a caller booking many
    runs has read them once; else they are read here."""
    live = overrides if overrides is not None else live_overrides(session)
    parameters = run_parameters(job, live, run_at=run_at, status=status, objects=objects)
    return session.scalars(_create_run(), {**parameters, "mail_id": mail_id, "missed": mail_id is None}).one()


def run_parameters(
    job: Job, overrides: Iterable[Override], *, run_at: datetime, status: str, objects: Sequence[ObjectResult]
) -> dict[str, Any]:
    """Values for ``new_run``'s parameters: the parsed status and, with the live overrides that
    may apply to the job's runs, the effective one."""
    shown, override = effective_status(in_force(overrides, job.customer_id, job.id, run_at), status, objects)
    return {
        "job_id": job.id,
        "run_at": run_at,
        "status": status,
        "effective_status": shown,
        "override_id": override.id if override is not None else None,
    }


def new_run(
    mail_id: ColumnElement[Any], missed: ColumnElement[bool], *sources: FromClause
) -> tuple[CTE, list[CTE]]:
    """CTEs that insert a run of the ``RUN_PARAMETERS`` with the job's open PSA ticket copied
    onto it (``new_run``, returning the run's columns) and link it to the job's open tickets and
    remarks. ``mail_id`` and ``missed`` may read ``sources``; with no row there, nothing is inserted."""
    table = JobRun.__table__
    given = [bindparam(name, type_=table.c[name].type) for name in RUN_PARAMETERS]
    values = select(
        *given, mail_id, missed, open_external_ticket(bindparam("job_id", type_=table.c.job_id.type))
    )
    if sources:
        values = values.select_from(*sources)
    columns = [*RUN_PARAMETERS, "mail_id", "missed", "external_ticket_id"]
    run = insert(table).from_select(columns, values).returning(*table.c).cte("new_run")
    return run, links_to_open_notes(run)


@functools.cache
def _create_run() -> Select[tuple[JobRun]]:
    table = JobRun.__table__
    run, links = new_run(
        bindparam("mail_id", type_=table.c.mail_id.type), bindparam("missed", type_=table.c.missed.type)
    )
    return select(aliased(JobRun, run)).add_cte(*links)
