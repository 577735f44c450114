"""Mark runs reviewed or unreviewed, in bulk.

All-or-nothing: an unknown (or deleted) run id answers 404 naming the ids, and nothing changes.
Idempotent: a run already in the asked state is left as it is (its reviewer and time kept) and
reported as unchanged. Every change is audited per run."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from shared_code import audit
from shared_code.db.live import live_runs
from shared_code.errors import NotFound
from shared_code.schema.fields import IdList
from shared_code.schema.models import RequestModel


class RunSelection(RequestModel):
    run_ids: IdList


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
    changed = sorted(run_id for run_id, run in runs.items() if (run.reviewed_at is not None) != reviewed)
    for run_id in changed:
        runs[run_id].reviewed_at, runs[run_id].reviewed_by = at, actor if reviewed else None
        audit.record(session, actor, "review" if reviewed else "unreview", "run", run_id)
    return ReviewResult(changed=changed, unchanged=sorted(runs.keys() - set(changed)))
