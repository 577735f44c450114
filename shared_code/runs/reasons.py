"""Why a run needs a look, in words: its failing objects in short ("3 of 36 objects failed:
VM-SQL01 — Changed block tracking reset"), the cause it shares with other runs (its error text
with numbers, names, dates and ids masked), and drift inside a successful run (an object every
run of the job had in the last 14 days is missing, or the size the report states is zero or under
a tenth of the job's median of the last 14 days).

A fixed number of set-based statements for a whole page of runs, so Run Checks stays one fast read."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import BigInteger, DateTime, Integer, Interval, bindparam, case, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from shared_code.db.models import MailMessage, MailObject

FAILING_LISTED = 5
DRIFT_WINDOW = timedelta(days=14)
DRIFT_MIN_RUNS = 3  # fewer earlier runs say nothing about what "every run" had, or the usual size
SIZE_DRIFT_SHARE = 0.1  # a success that backs up under a tenth of its usual size is suspect
CAUSE_LENGTH = 160


class FailingObject(BaseModel):
    name: str
    status: str
    message: str | None


class RunReason(BaseModel):
    """Why a failed, warning or missed run is one (the parsed status, before overrides)."""

    summary: str = Field(
        description="One line for the run's row, e.g. '3 of 36 objects failed: VM-SQL01 — …'."
    )
    object_count: int
    failing_count: int = Field(description="Objects that failed or warned.")
    failing: list[FailingObject] = Field(description=f"The first {FAILING_LISTED}, failed before warning.")
    cause: str = Field(
        description="The error text with numbers, names, dates and ids masked: runs with the same cause share it."
    )


class RunDrift(BaseModel):
    """A successful run that differs from its job's recent runs ("success, but …")."""

    summary: str
    missing_objects: list[str] = Field(
        default=[], description="Objects every run of the last 14 days had, absent here."
    )
    size_bytes: int | None = Field(
        default=None, description="The size the report states, when it is zero or under 10% of the usual."
    )
    usual_size_bytes: int | None = Field(
        default=None, description="The median size of the job's earlier runs of the last 14 days."
    )


# --- normalising error text into a cause --------------------------------------------------------------

_MASKS = [
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I), "<id>"),
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), "<address>"),
    (re.compile(r"\b\d{4}[-/.]\d{1,2}[-/.]\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2})?)?\b"), "<date>"),
    (re.compile(r"\b\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}\b"), "<date>"),
    (re.compile(r"\b\d{1,2}:\d{2}(:\d{2})?\b"), "<time>"),
    (re.compile(r"(?:[A-Za-z]:\\|\\\\|/)[^\s'\"]+"), "<path>"),
    (re.compile(r"[\"'“‘]([^\"'”’]{1,120})[\"'”’]"), "<name>"),
    (re.compile(r"\b0x[0-9a-f]+\b", re.I), "<n>"),
    (re.compile(r"\b[0-9a-f]{12,}\b", re.I), "<id>"),
    (re.compile(r"\b\w*\d[\w-]*\b"), "<n>"),
]
_SPACES = re.compile(r"\s+")


def cause_of(message: str | None, names: Sequence[str] = ()) -> str:
    """The message with what differs from run to run masked: object names, then dates, times,
    paths, quoted names, ids and anything carrying a digit; case and spacing folded."""
    masked = message or ""
    for name in sorted({n for n in names if len(n) > 1}, key=len, reverse=True):
        masked = re.sub(re.escape(name), "<name>", masked, flags=re.I)
    for pattern, mask in _MASKS:
        masked = pattern.sub(mask, masked)
    return _SPACES.sub(" ", masked).strip().casefold()[:CAUSE_LENGTH]


# --- reasons for a page of runs ----------------------------------------------------------------------

_SEVERITY = case((MailObject.status == "failed", 0), else_=1)


def reasons_for(session: Session, runs: Sequence[Any]) -> dict[int, RunReason]:
    """The reason of each run whose parsed status is not success (two statements for them all)."""
    wanted = [run for run in runs if run.status != "success"]
    mail_ids = [run.mail_id for run in wanted if run.mail_id is not None]
    counts, failing = _object_counts(session, mail_ids), _failing_objects(session, mail_ids)
    subjects = _subjects(
        session, [run.mail_id for run in wanted if run.mail_id is not None and not failing.get(run.mail_id)]
    )
    return {
        run.id: _reason(
            run, counts.get(run.mail_id, (0, 0)), failing.get(run.mail_id, []), subjects.get(run.mail_id)
        )
        for run in wanted
    }


def _object_counts(session: Session, mail_ids: list[int]) -> dict[int, tuple[int, int]]:
    if not mail_ids:
        return {}
    rows = session.execute(
        select(MailObject.mail_id, func.count(), func.count().filter(MailObject.status != "success"))
        .where(MailObject.mail_id.in_(mail_ids))
        .group_by(MailObject.mail_id)
    )
    return {mail_id: (total, failing) for mail_id, total, failing in rows}


def _failing_objects(session: Session, mail_ids: list[int]) -> dict[int, list[FailingObject]]:
    if not mail_ids:
        return {}
    ranked = (
        select(
            MailObject.mail_id,
            MailObject.name,
            MailObject.status,
            MailObject.message,
            func.row_number()
            .over(partition_by=MailObject.mail_id, order_by=(_SEVERITY, MailObject.position))
            .label("rank"),
        )
        .where(MailObject.mail_id.in_(mail_ids), MailObject.status != "success")
        .subquery()
    )
    found: dict[int, list[FailingObject]] = defaultdict(list)
    for row in session.execute(
        select(ranked).where(ranked.c.rank <= FAILING_LISTED).order_by(ranked.c.mail_id, ranked.c.rank)
    ):
        found[row.mail_id].append(FailingObject(name=row.name, status=row.status, message=row.message))
    return found


def _subjects(session: Session, mail_ids: list[int]) -> dict[int, str | None]:
    """A report that lists no failing object says why only in its subject."""
    if not mail_ids:
        return {}
    rows = session.execute(select(MailMessage.id, MailMessage.subject).where(MailMessage.id.in_(mail_ids)))
    return {mail_id: subject for mail_id, subject in rows}


def _reason(
    run: Any, counts: tuple[int, int], failing: list[FailingObject], subject: str | None
) -> RunReason:
    total, failing_count = counts
    if run.missed:
        summary = "No report arrived when the job's schedule expected one."
        cause = "missed: no report arrived"
    elif failing:
        first = failing[0]
        verb = "failed" if all(o.status == "failed" for o in failing) else "failed or warned"
        detail = f"{first.name} — {first.message}" if first.message else first.name
        summary = f"{failing_count} of {total} objects {verb}: {detail}"
        cause = f"{first.status}: {cause_of(first.message, [o.name for o in failing]) or 'no message'}"
    else:
        summary = f"The report says {run.status} without naming an object" + (
            f": {subject}" if subject else "."
        )
        cause = f"{run.status}: {cause_of(subject) or 'no message'}"
    return RunReason(
        summary=summary, object_count=total, failing_count=failing_count, failing=failing, cause=cause
    )


# --- drift in successful runs ---------------------------------------------------------------------------

# The page's successful runs, as arrays, and the window: what both drift statements read.
_PAGE_OF_RUNS = (
    bindparam("ids", type_=ARRAY(BigInteger)),
    bindparam("jobs", type_=ARRAY(Integer)),
    bindparam("ats", type_=ARRAY(DateTime(timezone=True))),
    bindparam("mails", type_=ARRAY(BigInteger)),
    bindparam("window", type_=Interval()),
)

_DRIFT = text(
    """
    WITH target AS (
        SELECT t.id, t.job_id, t.run_at, t.mail_id
        FROM unnest(:ids, :jobs, :ats, :mails) AS t(id, job_id, run_at, mail_id)
    ), earlier AS (
        SELECT t.id AS target_id, r.mail_id
        FROM target t
        JOIN job_runs r ON r.job_id = t.job_id AND r.mail_id IS NOT NULL
             AND r.run_at >= t.run_at - :window AND r.run_at < t.run_at
    ), enough AS (
        SELECT target_id, count(*) AS runs FROM earlier GROUP BY target_id HAVING count(*) >= :min_runs
    ), everywhere AS (
        SELECT e.target_id, o.name
        FROM earlier e JOIN enough n ON n.target_id = e.target_id
        JOIN mail_objects o ON o.mail_id = e.mail_id
        GROUP BY e.target_id, o.name, n.runs
        HAVING count(DISTINCT e.mail_id) = n.runs
    )
    SELECT w.target_id, w.name
    FROM everywhere w JOIN target t ON t.id = w.target_id
    WHERE NOT EXISTS (SELECT 1 FROM mail_objects o WHERE o.mail_id = t.mail_id AND o.name = w.name)
    ORDER BY w.target_id, w.name
    """
).bindparams(*_PAGE_OF_RUNS)


_SIZE_DRIFT = text(
    """
    WITH target AS (
        SELECT t.id, t.job_id, t.run_at, m.parsed_size_bytes AS size
        FROM unnest(:ids, :jobs, :ats, :mails) AS t(id, job_id, run_at, mail_id)
        JOIN mail_messages m ON m.id = t.mail_id AND m.parsed_size_bytes IS NOT NULL
    ), usual AS (
        SELECT t.id, percentile_cont(0.5) WITHIN GROUP (ORDER BY m.parsed_size_bytes) AS median
        FROM target t
        JOIN job_runs r ON r.job_id = t.job_id AND r.status <> 'failed'
             AND r.run_at >= t.run_at - :window AND r.run_at < t.run_at
        JOIN mail_messages m ON m.id = r.mail_id AND m.parsed_size_bytes IS NOT NULL
        GROUP BY t.id HAVING count(*) >= :min_runs
    )
    SELECT t.id, t.size, round(u.median)::bigint AS median
    FROM target t LEFT JOIN usual u ON u.id = t.id
    WHERE (t.size = 0 AND (u.median IS NULL OR u.median > 0)) OR t.size < :share * u.median
    """
).bindparams(*_PAGE_OF_RUNS)


def drift_for(session: Session, runs: Sequence[Any]) -> dict[int, RunDrift]:
    """Successful runs (after overrides) missing an object every run of the job had in the 14 days
    before (at least three of them), or stating a size of zero (unless zero is the job's usual) or
    under a tenth of the median of the job's earlier runs of those 14 days that did not fail:
    two statements for the page."""
    wanted = [run for run in runs if run.effective_status == "success" and run.mail_id is not None]
    if not wanted:
        return {}
    parameters = {
        "ids": [r.id for r in wanted],
        "jobs": [r.job_id for r in wanted],
        "ats": [r.run_at for r in wanted],
        "mails": [r.mail_id for r in wanted],
        "window": DRIFT_WINDOW,
        "min_runs": DRIFT_MIN_RUNS,
    }
    missing: dict[int, list[str]] = defaultdict(list)
    for target_id, name in session.execute(_DRIFT, parameters):
        missing[target_id].append(name)
    sizes = {
        run_id: (size, median)
        for run_id, size, median in session.execute(_SIZE_DRIFT, {**parameters, "share": SIZE_DRIFT_SHARE})
    }
    return {
        run_id: _drift(missing.get(run_id, []), *sizes.get(run_id, (None, None)))
        for run_id in missing.keys() | sizes.keys()
    }


def _drift(names: list[str], size: int | None, usual: int | None) -> RunDrift:
    changes = []
    if names:
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        changes.append(
            f"{shown} {'is' if len(names) == 1 else 'are'} missing: "
            f"every run of the last 14 days had {'it' if len(names) == 1 else 'them'}"
        )
    if size is not None:
        changes.append(
            f"backed up {readable_size(size)}"
            + (f", {size * 100 // usual}% of the usual {readable_size(usual)}" if usual else "")
        )
    return RunDrift(
        summary=f"Success, but {'; '.join(changes)}.",
        missing_objects=names,
        size_bytes=size,
        usual_size_bytes=usual,
    )


def readable_size(size: int) -> str:
    """Bytes as the reports write them: "0 B", "812 MB", "1.2 GB" (binary units)."""
    value, unit = float(size), "B"
    for bigger in ("KB", "MB", "GB", "TB", "PB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{value:.1f} {unit}" if unit != "B" and value < 10 else f"{value:.0f} {unit}"
