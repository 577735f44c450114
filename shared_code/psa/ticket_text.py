"""The title and description of a run's PSA ticket (Phase 4 payload rules).

Title at most 255 characters, description at most 8,000: a longer description is shortened with
a visible marker, keeping the header (customer, job, status, the link to the job's page and the
reference that identifies the run) and as many failing objects as fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

TITLE_MAX = 255
DESCRIPTION_MAX = 8000
SHORTENED = "\n[… shortened by Backupchecks: {count} more failing objects; see the job page for all of them]"


@dataclass(frozen=True)
class FailingObject:
    name: str
    status: str
    message: str | None


@dataclass(frozen=True)
class RunFacts:
    run_id: int
    job_id: int
    customer: str
    job_name: str
    backup_software: str
    backup_type: str
    status: str  # effective status
    run_at: datetime
    missed: bool
    objects: tuple[FailingObject, ...]


def reference(run_id: int) -> str:
    """The text that identifies the run's ticket in the PSA (found again after a lost answer)."""
    return f"Backupchecks run {run_id}"


def job_page_url(base_url: str | None, job_id: int, run_id: int) -> str | None:
    """The job's stable page (SPEC §11)."""
    return f"{base_url.rstrip('/')}/#/jobs/{job_id}?run={run_id}" if base_url else None


def ticket_title(facts: RunFacts) -> str:
    title = f"Backup {facts.status}: {facts.customer} / {facts.job_name}"
    return title if len(title) <= TITLE_MAX else title[: TITLE_MAX - 1] + "…"


def ticket_description(facts: RunFacts, base_url: str | None) -> str:
    header = [
        f"Backupchecks reports a {facts.status} backup.",
        f"Customer: {facts.customer}",
        f"Job: {facts.job_name} ({facts.backup_software} {facts.backup_type})",
        f"Run: {facts.run_at:%Y-%m-%d %H:%M} UTC, status {facts.status}",
    ]
    if link := job_page_url(base_url, facts.job_id, facts.run_id):
        header.append(f"Job page: {link}")
    header.append(reference(facts.run_id))
    text = "\n".join(header)
    if facts.missed:
        return text + "\n\nNo backup report arrived for the expected run."
    if not facts.objects:
        return text + "\n\nThe report names no failing objects."
    text += "\n\nFailing objects:"
    lines = [_object_line(obj) for obj in facts.objects]
    for index, line in enumerate(lines):
        last = index == len(lines) - 1
        marker = "" if last else SHORTENED.format(count=len(lines) - index - 1)
        if len(text) + 1 + len(line) + len(marker) <= DESCRIPTION_MAX:
            text += "\n" + line
            continue
        marker = SHORTENED.format(count=len(lines) - index)
        room = DESCRIPTION_MAX - len(text) - len(marker) - 1
        if room > 80:  # a useful part of this object still fits
            text += "\n" + line[: room - 1] + "…"
        return text + marker
    return text


def _object_line(obj: FailingObject) -> str:
    message = " ".join((obj.message or "").split())
    return f"- {obj.name} [{obj.status}]" + (f": {message}" if message else "")
