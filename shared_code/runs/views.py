"""How a run is shown in lists (Run Checks, job details): its statuses, badges and PSA ticket state."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from shared_code.db.models import AppSettings, JobRun
from shared_code.tickets.external import (
    RUNS_WITH_TICKETS,
    TICKET_COLUMNS,
    LinkFields,
    TicketState,
    ticket_state,
)

Status = Literal["success", "warning", "failed", "missed"]

# The columns a run row needs, so list queries select exactly these (no ORM objects per run), from
# ``RUNS_FROM`` (the run and its PSA ticket's link).
RUNS_FROM = RUNS_WITH_TICKETS
RUN_COLUMNS = (
    JobRun.id,
    JobRun.job_id,
    JobRun.mail_id,
    JobRun.run_at,
    JobRun.status,
    JobRun.effective_status,
    JobRun.missed,
    JobRun.override_id,
    JobRun.reviewed_at,
    JobRun.reviewed_by,
    JobRun.snoozed_at,
    JobRun.snoozed_by,
    JobRun.snooze_reason,
    *TICKET_COLUMNS,
)


class JobHeading(BaseModel):
    """How a job is named wherever it is listed."""

    job_name: str
    backup_software: str
    backup_type: str
    informational: bool = Field(description="Update notices and the like: no schedule, no missed runs.")
    customer_id: int
    customer_name: str


class JobIndicators(BaseModel):
    open_tickets: int = Field(description="Unresolved tickets scoped to the job (🎫 indicator).")
    open_remarks: int = Field(description="Unresolved remarks scoped to the job.")


def fields_of(model: type[BaseModel], source: Any, *, but: tuple[str, ...] = ()) -> dict[str, Any]:
    """The model's fields (``but`` some) read from an object or row with attributes of those names."""
    return {name: getattr(source, name) for name in model.model_fields if name not in but}


class RunRow(BaseModel):
    id: int
    job_id: int
    mail_id: int | None
    run_at: datetime
    status: Status = Field(description="As parsed (or 'missed'); kept when an override applies.")
    effective_status: Status = Field(description="After overrides: what badges and filters use.")
    overridden: bool = Field(description="An override set the effective status (blue badge).")
    override_id: int | None
    missed: bool
    reviewed: bool
    reviewed_at: datetime | None
    reviewed_by: str | None
    snoozed_at: datetime | None = Field(description="Snoozed: out of Run Checks, waiting for the next run.")
    snoozed_by: str | None
    snooze_reason: str | None
    psa_ticket: TicketState = Field(description="The run's PSA ticket, if any.")


def run_row(settings: AppSettings, run: Any, link: LinkFields | None = None) -> RunRow:
    """From a row with ``RUN_COLUMNS``, or a JobRun and its ticket's ``link``."""
    return RunRow(
        id=run.id,
        job_id=run.job_id,
        mail_id=run.mail_id,
        run_at=run.run_at,
        status=run.status,
        effective_status=run.effective_status,
        overridden=run.override_id is not None,
        override_id=run.override_id,
        missed=run.missed,
        reviewed=run.reviewed_at is not None,
        reviewed_at=run.reviewed_at,
        reviewed_by=run.reviewed_by,
        snoozed_at=run.snoozed_at,
        snoozed_by=run.snoozed_by,
        snooze_reason=run.snooze_reason,
        psa_ticket=ticket_state(settings, link if link is not None else LinkFields.of_row(run)),
    )
