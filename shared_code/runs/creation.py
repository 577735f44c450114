"""The one way a run comes into being, from a mail or as a missed run: overrides applied,
open tickets and remarks propagated."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from shared_code.db.models import Job, JobRun, MailMessage
from shared_code.runs.overrides import ObjectResult, active_overrides, effective_status
from shared_code.tickets.linking import link_open_tickets_to_run


def create_run(
    session: Session,
    job: Job,
    *,
    run_at: datetime,
    status: str,
    objects: Sequence[ObjectResult] = (),
    mail: MailMessage | None = None,
) -> JobRun:
    """Add a run (``status`` as parsed, or ``missed`` without a mail) and flush it."""
    shown, override = effective_status(active_overrides(session, job, run_at), status, objects)
    run = JobRun(
        job_id=job.id,
        mail_id=mail.id if mail is not None else None,
        run_at=run_at,
        status=status,
        effective_status=shown,
        override_id=override.id if override is not None else None,
        missed=mail is None,
    )
    session.add(run)
    session.flush()
    link_open_tickets_to_run(session, run)
    return run
