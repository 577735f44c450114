"""A report as a file: CSV (one row per job, the JSON's figures) or PDF (``reports.pdf``)."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import Any

from shared_code.reports.report import CustomerReport

CSV_COLUMNS = (
    "customer",
    "from",
    "to",
    "job_id",
    "job_name",
    "backup_software",
    "backup_type",
    "informational",
    "success",
    "warning",
    "failed",
    "missed",
    "expected_runs",
    "successful_runs",
    "success_rate",
    "longest_failing_streak_days",
    "longest_failing_streak_from",
    "longest_failing_streak_to",
    "tickets_opened",
    "overrides_in_force",
    "snoozed_runs",
)


def csv_rows(report: CustomerReport) -> list[dict[str, Any]]:
    rows = []
    for job in report.jobs:
        streak = job.longest_failing_streak
        rows.append(
            {
                "customer": report.customer.name,
                "from": report.period.first_day.isoformat(),
                "to": report.period.last_day.isoformat(),
                "job_id": job.job_id,
                "job_name": job.job_name,
                "backup_software": job.backup_software,
                "backup_type": job.backup_type,
                "informational": str(job.informational).lower(),
                **job.runs.model_dump(),
                "expected_runs": job.expected_runs,
                "successful_runs": job.successful_runs,
                "success_rate": "" if job.success_rate is None else f"{job.success_rate:.4f}",
                "longest_failing_streak_days": streak.days if streak else 0,
                "longest_failing_streak_from": streak.first_day.isoformat() if streak else "",
                "longest_failing_streak_to": streak.last_day.isoformat() if streak else "",
                "tickets_opened": sum(job.job_name in t.jobs for t in report.tickets),
                "overrides_in_force": sum(
                    o.scope != "job" or o.job_name == job.job_name for o in report.overrides
                ),
                "snoozed_runs": sum(s.job_name == job.job_name for s in report.snoozes),
            }
        )
    return rows


def to_csv(report: CustomerReport) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in csv_rows(report):
        writer.writerow({key: _spreadsheet_safe(value) for key, value in row.items()})
    return out.getvalue()


def _spreadsheet_safe(value: Any) -> Any:
    """Job and customer names come from mail: a leading =, +, - or @ would be a formula in Excel."""
    if isinstance(value, str) and value[:1] in {"=", "+", "-", "@", "\t", "\r"}:
        return "'" + value
    return value


def file_name(report: CustomerReport, extension: str) -> str:
    slug = (
        re.sub(r"[^A-Za-z0-9]+", "-", report.customer.name).strip("-")[:60]
        or f"customer-{report.customer.id}"
    )
    return f"report-{slug}-{report.period.first_day.isoformat()}-{report.period.last_day.isoformat()}.{extension}"


@dataclass(frozen=True)
class ExportedFile:
    body: bytes
    content_type: str
    file_name: str

    @property
    def disposition(self) -> str:
        return f'attachment; filename="{self.file_name}"'


def exported(report: CustomerReport, kind: str) -> ExportedFile:
    if kind == "csv":  # the BOM makes Excel read UTF-8
        return ExportedFile(to_csv(report).encode("utf-8-sig"), "text/csv", file_name(report, kind))
    from shared_code.reports.pdf import render_pdf  # reportlab loads on the first PDF only

    return ExportedFile(render_pdf(report), "application/pdf", file_name(report, kind))
