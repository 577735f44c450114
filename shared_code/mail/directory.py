"""Importing a folder of ``.eml`` files through the pipeline (local runs, backfilling an archive).

Mail already stored is recognised by its Message-ID with a digest of what it says (so an export
that added a header is the same mail), else by its content hash, so an import can be repeated or
resumed; a different mail reusing a Message-ID is stored and marked as a collision. A file that cannot be read is recorded as a failed ingestion.
An archive can be booked as history: the runs it creates are marked reviewed by ``import``
(audited as any review), so a year of old mail does not flood Run Checks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from shared_code.db.engine import unit_of_work
from shared_code.mail.failures import record_failure_or_log
from shared_code.mail.ingest import ingest
from shared_code.mail.sources import DirectorySource
from shared_code.runs.reviews import RunSelection, review

HISTORY_REVIEWER = "import"
REVIEW_BATCH = 500  # runs marked reviewed per transaction

Progress = Callable[[int, int, str], None]  # (done, total, file)


@dataclass
class ImportSummary:
    counts: Counter[str] = field(default_factory=Counter)

    def line(self) -> str:
        """Every file seen, once: the mail files by what became of them, and the others skipped."""
        return ", ".join(
            f"{self.counts[kind]} {kind}"
            for kind in ("parsed", "unparsed", "errors", "duplicates", "skipped")
        )


def import_directory(
    root: Path, progress: Progress | None = None, *, as_reviewed: bool = False
) -> ImportSummary:
    """Ingest every ``.eml`` (any case) below ``root``; the summary counts parsed, unparsed, errors,
    duplicates and the other files skipped.
    ``as_reviewed``: the runs booked are marked reviewed by ``import`` (history, not work)."""
    source = DirectorySource(root)
    refs = list(source.refs())
    summary = ImportSummary()
    summary.counts["skipped"] = source.others()
    booked: list[int] = []
    for done, ref in enumerate(refs, start=1):
        kind, run_id = _import_one(source, ref)
        summary.counts[kind] += 1
        if as_reviewed and run_id is not None:
            booked.append(run_id)
            if len(booked) >= REVIEW_BATCH:
                _mark_reviewed(booked)
        if progress is not None:
            progress(done, len(refs), ref)
    if booked:
        _mark_reviewed(booked)
    return summary


def _import_one(source: DirectorySource, ref: str) -> tuple[str, int | None]:
    try:
        ingested = ingest(source.fetch(ref))
    except OSError as error:
        record_failure_or_log(source.kind, ref, "permanent", error)
        return "errors", None
    if ingested.duplicate:
        return "duplicates", None
    return ("errors" if ingested.parse_status == "error" else str(ingested.parse_status)), ingested.run_id


def _mark_reviewed(run_ids: list[int]) -> None:
    """Review the batch as ``import`` and empty it."""
    with unit_of_work() as session:
        review(session, RunSelection(run_ids=run_ids), HISTORY_REVIEWER)
    run_ids.clear()
