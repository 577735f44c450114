"""Bareos, Bacula, Kopia and UrBackup: the variants the corpus names but holds no mail of.

Each test takes a corpus mail and changes only what the variant changes, so the rest of the
layout stays the products' own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shared_code.parsers import parse_mail

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "mail"


def parse_variant(case: str, *replacements: tuple[str, str]) -> dict[str, Any]:
    raw = (CORPUS / f"{case}.eml").read_bytes()
    for old, new in replacements:
        assert old.encode() in raw, old
        raw = raw.replace(old.encode(), new.encode())
    outcome = parse_mail(raw)
    assert outcome.error is None
    return outcome.corpus_result()


@pytest.mark.parametrize(
    ("termination", "backup_type", "status"),
    [
        ("Backup OK", "Backup", "success"),
        ("Backup OK -- with warnings", "Backup", "warning"),
        ("Restore OK -- warning file count mismatch", "Restore", "warning"),
        ("Verify Differences", "Verify", "warning"),
        ("Copying OK", "Copy", "success"),
        ("Migration -- no files to migrate", "Migrate", "success"),
        ("*** Copying Error ***", "Copy", "failed"),
        ("Backup Canceled", "Backup", "failed"),
        ("Backup failed -- incomplete", "Backup", "failed"),
    ],
)
def test_the_termination_line_decides_type_and_status(
    termination: str, backup_type: str, status: str
) -> None:
    result = parse_variant(
        "bareos_backup_success", ("Termination:            Backup OK", f"Termination: {termination}")
    )

    assert (result["backup_type"], result["status"], result["objects"][0]["status"]) == (
        backup_type,
        status,
        status,
    )


def test_a_bacula_subject_that_says_ok_does_not_beat_the_report() -> None:
    # Bacula 5.2 mails a job with non-fatal errors as "Backup OK" in the subject.
    result = parse_variant(
        "bacula_backup_success",
        ("Termination:            Backup OK", "Termination:            Backup OK -- with warnings"),
    )

    assert result["status"] == "warning"


def test_a_custom_bareos_subject_and_sender_change_nothing() -> None:
    expected = parse_variant("bareos_backup_warning")

    result = parse_variant(
        "bareos_backup_warning",
        (
            "Subject: Bareos: Backup OK -- with warnings of fs01-fd Incremental",
            "Subject: [backup01] nightly job report",
        ),
        ("From: (Bareos) <backup-reports@msp.example>", "From: director@backup01.example.test"),
    )

    assert result == expected


def test_a_report_without_a_client_line_has_no_objects() -> None:
    result = parse_variant(
        "bareos_backup_success",
        ('  Client:                 "srv01-fd"', '  Clients:                "srv01-fd"'),
    )

    assert result["objects"] == [] and result["status"] == "success"


@pytest.mark.parametrize(
    ("code", "status"),
    [("ok", "success"), ("error", "warning"), ("warnings", "warning"), ("incomplete", "warning")],
)
def test_kopia_status_codes_of_both_generations(code: str, status: str) -> None:
    result = parse_variant(
        "kopia_snapshot_success", ('class="snapshotstatus-success"', f'class="snapshotstatus-{code}"')
    )

    assert result["status"] == status and result["objects"][0]["status"] == status


def test_kopia_018_subject_without_a_status_word_names_the_host() -> None:
    result = parse_variant(
        "kopia_snapshot_success",
        (
            "Subject: Successfully created a snapshot of /srv/data on srv01",
            "Subject: Kopia created 1 snapshot(s) on srv01",
        ),
    )

    assert (result["job_name"], result["status"]) == ("srv01", "success")


def test_a_kopia_error_outside_maintenance_is_an_error_notification() -> None:
    result = parse_variant(
        "kopia_maintenance_error", ("error during Maintenance on", "error during Snapshot Create on")
    )

    assert (result["backup_type"], result["status"]) == ("Error Notification", "failed")


def test_urbackup_success_with_counted_warnings_is_a_warning() -> None:
    result = parse_variant(
        "urbackup_file_incremental_success",
        ("( 12 infos, 0 warnings, 0 errors)", "( 12 infos, 1 warning, 0 errors)"),
        ("21:02:19(info): Writing new file list...", "21:02:19(warning): Error getting file patterns"),
    )

    assert result["status"] == "warning"
    assert result["objects"] == [
        {"name": "PC-ACC01", "status": "warning", "message": "Error getting file patterns"}
    ]


def test_urbackup_alert_mails_are_not_runs() -> None:
    result = parse_variant(
        "urbackup_file_incremental_success",
        (
            'Subject: UrBackup: Incremental file backup of "PC-ACC01"\n - success',
            "Subject: [UrBackup] PC-ACC01: No recent file backup",
        ),
    )

    assert result == {"parsed": False}


KOPIA_TEXT_REPORT = """Path: /srv/app

  Status:      fatal
  Start:       Thu, 12 Jun 2025 23:30:03 +0200
  Duration:    17m48.9s
  Size:        112.4 GB (+97.5 MB)
  Files:       402117 (+155)
  Directories: 9884 (+4)
  Error:       Found 1 fatal error(s) while snapshotting backup@srv02:/srv/app.

  Failed Entries:

  - data/db/store.db: unable to open file: permission denied

Path: /etc

  Status:      warnings
  Start:       Thu, 12 Jun 2025 23:30:01 +0200
  Duration:    2.4s
  Size:        5.2 MB (+2.4 KB)
  Files:       2118
  Directories: 271

Generated at Thu, 12 Jun 2025 23:47:52 +0200 by Kopia 0.21.1.

https://kopia.io/"""


def test_kopia_text_format_snapshot_report() -> None:
    from tests.parsers.mails import build_mail

    raw = build_mail(
        "Failed to create 1 of 2 snapshots on srv02", text=KOPIA_TEXT_REPORT, sender="kopia@srv02.example"
    )

    result = parse_mail(raw).corpus_result()

    assert (result["job_name"], result["status"]) == ("srv02", "failed")
    assert result["objects"] == [
        {
            "name": "/srv/app",
            "status": "failed",
            "message": "Found 1 fatal error(s) while snapshotting backup@srv02:/srv/app. "
            "data/db/store.db: unable to open file: permission denied",
        },
        {"name": "/etc", "status": "warning", "message": None},
    ]


def test_kopia_text_format_error_notification_takes_the_first_line_of_the_details() -> None:
    from tests.parsers.mails import build_mail

    text = (
        "Operation: Snapshot Create\nStarted:   Thu, 12 Jun 2025 23:30:00 +0200\n"
        "Finished:  Thu, 12 Jun 2025 23:30:01 +0200 (1s)\n\n"
        "unable to open repository: repository not connected\nsecond line\n\n"
        "Generated at Thu, 12 Jun 2025 23:30:01 +0200 by Kopia 0.21.1.\n\nhttps://kopia.io/"
    )
    raw = build_mail(
        "Kopia has encountered an error during Snapshot Create on srv03", text=text, sender="k@srv03.example"
    )

    result = parse_mail(raw).corpus_result()

    assert (result["backup_type"], result["status"]) == ("Error Notification", "failed")
    assert result["objects"] == [
        {
            "name": "srv03",
            "status": "failed",
            "message": "unable to open repository: repository not connected",
        }
    ]


def test_a_bareos_admin_report_has_its_own_first_line_and_no_client() -> None:
    from tests.parsers.mails import build_mail

    text = (
        "12-Jun 21:00 bareos-dir JobId 4900: Start Admin JobId 4900, Job=catalog-cleanup.2025-06-12_21.00.00_40\n"
        "12-Jun 21:00 bareos-dir JobId 4900: BAREOS 24.0.3 (19May25): 12-Jun-2025 21:00:01\n"
        "  JobId:                  4900\n"
        "  Job:                    catalog-cleanup.2025-06-12_21.00.00_40\n"
        "  Scheduled time:         12-Jun-2025 21:00:00\n"
        "  Start time:             12-Jun-2025 21:00:01\n"
        "  End time:               12-Jun-2025 21:00:01\n"
        "  Bareos binary info:     Bareos community build (UNSUPPORTED)\n"
        "  Job triggered by:       Scheduler\n"
        "  Termination:            Admin OK\n\n"
    )
    raw = build_mail(
        "Bareos: Admin OK of bareos-fd Full", text=text, sender="(Bareos) <bareos@backup01.example>"
    )

    result = parse_mail(raw).corpus_result()

    assert result == {
        "software": "Bareos",
        "backup_type": "Admin",
        "job_name": "catalog-cleanup",
        "status": "success",
        "informational": False,
        "objects": [],
    }
