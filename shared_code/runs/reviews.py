"""Mark runs reviewed or unreviewed, or snooze them ("known, wait for the next run") and take the
snooze back, in bulk.

All-or-nothing: an unknown (or deleted) run id answers 404 naming the ids, and nothing changes.
Idempotent and safe under concurrency: one conditional UPDATE changes only the runs not yet in
the asked state, so of twenty operators reviewing the same runs at once the first keeps the
reviewer and time, the others are told ``unchanged``, and each actual change is audited once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, and_, update
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
    reviewed = {"reviewed_at": now or datetime.now(UTC), "reviewed_by": actor}
    return _change_runs(session, selection, actor, "review", JobRun.reviewed_at.is_(None), reviewed)


def unreview(session: Session, selection: RunSelection, actor: str) -> ReviewResult:
    not_reviewed = {"reviewed_at": None, "reviewed_by": None}
    return _change_runs(session, selection, actor, "unreview", JobRun.reviewed_at.is_not(None), not_reviewed)


def snooze(session: Session, body: SnoozeBody, actor: str, *, now: datetime | None = None) -> ReviewResult:
    """Take unreviewed runs out of Run Checks with who and why; the job's next run is booked as usual.
    Reviewed or already snoozed runs are ``unchanged`` (the first snooze keeps its who and why)."""
    snoozed = {"snoozed_at": now or datetime.now(UTC), "snoozed_by": actor, "snooze_reason": body.reason}
    not_yet = and_(JobRun.snoozed_at.is_(None), JobRun.reviewed_at.is_(None))
    return _change_runs(session, body, actor, "snooze", not_yet, snoozed, lambda _: {"reason": body.reason})


def unsnooze(session: Session, selection: RunSelection, actor: str) -> ReviewResult:
    """A snooze taken back (a wrong run, or the trouble cannot wait after all): the run is back in
    Run Checks, unreviewed. Runs not snoozed are ``unchanged``; the audit keeps the reason withdrawn."""
    not_snoozed = {"snoozed_at": None, "snoozed_by": None, "snooze_reason": None}
    return _change_runs(
        session,
        selection,
        actor,
        "unsnooze",
        JobRun.snoozed_at.is_not(None),
        not_snoozed,
        lambda run: {"reason": run.snooze_reason},
    )


def _change_runs(
    session: Session,
    selection: RunSelection,
    actor: str,
    action: str,
    not_yet: ColumnElement[bool],
    values: Mapping[str, object],
    details: Callable[[JobRun], dict[str, object] | None] = lambda _: None,
) -> ReviewResult:
    """One conditional UPDATE over the selected runs not yet in the asked state, each change audited.
    A concurrent request holding a row's lock makes this wait, then re-check ``not_yet`` on the
    committed row: a run the other request changed first is not returned here."""
    runs = live_runs(session, selection.run_ids, missing=NotFound)
    audited = {run_id: details(run) for run_id, run in runs.items()}  # read before the update
    changed = sorted(
        session.scalars(
            update(JobRun)
            .where(JobRun.id.in_(runs.keys()), not_yet)
            .values(values)
            .returning(JobRun.id)
            .execution_options(synchronize_session=False)
        )
    )
    for run_id in changed:
        session.expire(runs[run_id])
        audit.record(session, actor, action, "run", run_id, audited[run_id])
    return ReviewResult(changed=changed, unchanged=sorted(runs.keys() - set(changed)))
