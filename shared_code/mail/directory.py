"""Importing a folder of ``.eml`` files through the pipeline (local runs, backfilling an archive).

Mail already stored is recognised by its Internet message id, else by its content hash, so an
import can be repeated or resumed. A file that cannot be read is recorded as a failed ingestion.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from shared_code.mail.failures import record_failure_or_log
from shared_code.mail.ingest import ingest
from shared_code.mail.sources import DirectorySource

Progress = Callable[[int, int, str], None]  # (done, total, file)


@dataclass
class ImportSummary:
    counts: Counter[str] = field(default_factory=Counter)

    def line(self) -> str:
        return ", ".join(
            f"{self.counts[kind]} {kind}" for kind in ("parsed", "unparsed", "errors", "duplicates")
        )


def import_directory(root: Path, progress: Progress | None = None) -> ImportSummary:
    """Ingest every ``.eml`` below ``root``; the summary counts parsed, unparsed, errors, duplicates."""
    source = DirectorySource(root)
    refs = list(source.refs())
    summary = ImportSummary()
    for done, ref in enumerate(refs, start=1):
        summary.counts[_import_one(source, ref)] += 1
        if progress is not None:
            progress(done, len(refs), ref)
    return summary


def _import_one(source: DirectorySource, ref: str) -> str:
    try:
        ingested = ingest(source.fetch(ref))
    except OSError as error:
        record_failure_or_log(source.kind, ref, "permanent", error)
        return "errors"
    if ingested.duplicate:
        return "duplicates"
    return "errors" if ingested.parse_status == "error" else str(ingested.parse_status)
