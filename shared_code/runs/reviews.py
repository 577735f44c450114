"""Mark runs reviewed or unreviewed, or snooze them ("known, wait for the next run"), in bulk.

All-or-nothing: an unknown (or deleted) run id answers 404 naming the ids, and nothing changes.
Idempotent and safe under concurrency: one conditional UPDATE changes only the runs not yet in
the asked state, so of twenty operators reviewing the same runs at once the first keeps the
reviewer and time, the others are told ``unchanged``, and each actual change is audited once."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field
from sqlalchemy import update
from sqlalchemy.orm import Session

from shared_code import audit
from shared_code.db.live import live_runs
from shared_code.db.models import JobRun
from shared_code.errors import NotFound
from shared_code.schema.fields import IdList, Text
from shared_code.schema.models import RequestModel


class RunSelection(RequestModel):
    run_ids: IdList


class SnoozeBody(RunSelection):
    reason: Text = Field(description="Why the run can wait (kept on the run and in the audit log).")


class ReviewResult(BaseModel):
    changed: list[int] = Field(description="Runs whose review state this request changed.")
    unchanged: list[int] = Field(description="Runs already in the asked state.")


def review(
    session: Session, selection: RunSelection, actor: str, *, now: datetime | None = None
) -> ReviewResult:
    reviewed_at = now or datetime.now(UTC)
    return _set_review(session, selection, actor, reviewed=True, at=reviewed_at)


def unreview(session: Session, selection: RunSelection, actor: str) -> ReviewResult:
    return _set_review(session, selection, actor, reviewed=False, at=None)


def _set_review(
    session: Session, selection: RunSelection, actor: str, *, reviewed: bool, at: datetime | None
) -> ReviewResult:
    runs = live_runs(session, selection.run_ids, missing=NotFound)
    not_yet = JobRun.reviewed_at.is_(None) if reviewed else JobRun.reviewed_at.is_not(None)
    # A concurrent review holding a row's lock makes this wait, then re-check ``not_yet`` on the
    # committed row: a run the other request reviewed first is not returned here.
    changed = sorted(
        session.scalars(
            update(JobRun)
            .where(JobRun.id.in_(runs.keys()), not_yet)
            .values(reviewed_at=at, reviewed_by=actor if reviewed else None)
            .returning(JobRun.id)
            .execution_options(synchronize_session=False)
        )
    )
    for run_id in changed:
        session.expire(runs[run_id])
        audit.record(session, actor, "review" if reviewed else "unreview", "run", run_id)
    return ReviewResult(changed=changed, unchanged=sorted(runs.keys() - set(changed)))


def snooze(session: Session, body: SnoozeBody, actor: str, *, now: datetime | None = None) -> ReviewResult:
    """Take unreviewed runs out of Run Checks with who and why; the job's next run is booked as usual.
    Reviewed or already snoozed runs are ``unchanged`` (the first snooze keeps its who and why)."""
    runs = live_runs(session, body.run_ids, missing=NotFound)
    changed = sorted(
        session.scalars(
            update(JobRun)
            .where(JobRun.id.in_(runs.keys()), JobRun.snoozed_at.is_(None), JobRun.reviewed_at.is_(None))
            .values(snoozed_at=now or datetime.now(UTC), snoozed_by=actor, snooze_reason=body.reason)
            .returning(JobRun.id)
            .execution_options(synchronize_session=False)
        )
    )
    for run_id in changed:
        session.expire(runs[run_id])
        audit.record(session, actor, "snooze", "run", run_id, {"reason": body.reason})
    return ReviewResult(changed=changed, unchanged=sorted(runs.keys() - set(changed)))
