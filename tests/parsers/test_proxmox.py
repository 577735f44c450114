"""Proxmox VE vzdump and Proxmox Backup Server mails: the rules behind the corpus cases, one at a time."""

from __future__ import annotations

from typing import Any

import pytest

from shared_code.parsers import parse_mail
from shared_code.parsers.tables import rows_below
from tests.parsers.mails import build_mail

PVE = "vzdump backup tool <root@pve1.example.com>"
PBS = "Proxmox Backup Server - pbs1 <root@pbs1.example.com>"
HEADER = "<tr><th>VMID</th><th>Name</th><th>Status</th><th>Time</th><th>Size</th><th>Filename</th></tr>"


def vzdump_html(rows: list[tuple[str, str, str]], *, above: str = "", logs: str = "") -> str:
    cells = "".join(
        f"<tr><td>{vmid}</td><td>{name}</td><td>{status}</td><td>1s</td><td>1 GiB</td><td>x</td></tr>"
        for vmid, name, status in rows
    )
    return (
        f"<html><body>{above}<h1>Details</h1><table>{HEADER}{cells}</table>"
        f"Total running time: 1s<br/><h1>Logs</h1><pre>{logs}</pre></body></html>"
    )


def parse(
    subject: str, html: str | None = None, *, text: str | None = None, sender: str = PVE
) -> dict[str, Any]:
    outcome = parse_mail(build_mail(subject, text=text, html=html, sender=sender))
    assert outcome.error is None
    return outcome.corpus_result()


def objects(result: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    return [(item["name"], item["status"], item["message"]) for item in result["objects"]]


def test_guest_rows_map_every_status_word_vzdump_writes() -> None:
    rows = [("100", "dc01", "ok"), ("101", "VM 101", "err"), ("102", "VM 102", "todo"), ("103", "web", "OK")]

    result = parse("vzdump backup status (pve1.example.com): backup failed", vzdump_html(rows))

    assert [(name, status) for name, status, _ in objects(result)] == [
        ("dc01", "success"),
        ("VM 101", "failed"),
        ("VM 102", "failed"),
        ("web", "success"),
    ]
    assert result["status"] == "failed"
    assert result["job_name"] == "pve1.example.com"


def test_a_failed_guest_takes_the_error_of_its_own_backup_failed_line() -> None:
    logs = (
        "101: 2024-05-01 01:00:00 ERROR: VM 101 qmp command 'backup' failed - got timeout\n"
        "101: 2024-05-01 01:00:09 ERROR: Backup of VM 101 failed - VM 101 qmp command failed\n"
        "102: Jun 14 01:00:02 ERROR: Backup of VM 102 failed - no such volume\n"
        "100: 2024-05-01 01:00:11 WARN: Backup of VM 100 failed - not an error line\n"
    )
    rows = [("100", "a", "ok"), ("101", "b", "err"), ("102", "c", "err")]

    result = parse("vzdump backup status (pve1.example.com): backup failed", vzdump_html(rows, logs=logs))

    assert objects(result) == [
        ("a", "success", None),
        ("b", "failed", "VM 101 qmp command failed"),
        ("c", "failed", "no such volume"),
    ]


def test_the_legacy_table_gives_the_merged_cell_when_the_log_has_no_line() -> None:
    html = (
        "<html><body><table border=1><tr><td>VMID<td>NAME<td>STATUS<td>TIME<td>SIZE<td>FILENAME</tr>"
        "<tr><td>100<td>a-very-long-guest-name-kept<td>OK<td>00:01:00<td>1GB<td>/dump/x.vma</tr>"
        "<tr><td>101<td>VM 101<td><font color=red>FAILED<td>00:00:00<td colspan=2>aborted</tr>"
        "<tr><td colspan=3>TOTAL<td>00:01:00<td>1GB<td></tr></table></body></html>"
    )

    result = parse("vzdump backup status (pve1.example.com) : backup failed", html)

    assert objects(result) == [
        ("a-very-long-guest-name-kept", "success", None),
        ("VM 101", "failed", "aborted"),
    ]


@pytest.mark.parametrize(
    ("subject", "above", "expected"),
    [
        ("vzdump backup status (pve1.example.com): backup successful", "", "success"),
        ("vzdump backup status (pve1.example.com): backup failed: hook failed", "", "failed"),
        (
            "vzdump backup status (pve1.example.com): backup failed",
            "<p>job-end failed<br>job-abort failed</p>",
            "failed",
        ),
    ],
)
def test_a_job_error_fails_a_run_whose_guests_are_all_ok(subject: str, above: str, expected: str) -> None:
    result = parse(subject, vzdump_html([("100", "a", "ok")], above=above))

    assert result["status"] == expected
    assert objects(result) == [("a", "success", None)]


def test_a_job_that_failed_before_any_guest_has_no_objects_and_fails_by_its_subject() -> None:
    result = parse("vzdump backup status (pve1.example.com): backup failed: storage offline", vzdump_html([]))

    assert (result["status"], result["objects"]) == ("failed", [])


@pytest.mark.parametrize(
    "subject",
    [
        "Test notification",
        "New software packages available (pve1.example.com)",
        "Replication Job: '100-0' failed",
        "vzdump backup status report for pve1",
        "FW: vzdump backup status (pve1.example.com): backup failed",
    ],
)
def test_proxmox_mails_that_are_not_backup_runs_are_not_parsed(subject: str) -> None:
    assert parse(subject, vzdump_html([("100", "a", "err")])) == {"parsed": False}


def pbs_text(*lines: str) -> str:
    return "\n".join(
        (*lines, "", "", "Please visit the web interface for further details:", "", "<https://pbs1:8007/>")
    )


@pytest.mark.parametrize(
    ("subject", "sentence", "backup_type", "status", "message"),
    [
        ("Sync remote 'r1' datastore 'remote-store' failed", "Synchronization failed: connection refused",
         "Sync Job", "failed", "connection refused"),
        ("Sync local datastore 'src' successful", "Synchronization successful.", "Sync Job", "success", None),
        ("Verify Datastore 'store1' successful", "Verification successful.", "Verify Job", "success", None),
        ("Pruning datastore 'store1' failed", "Pruning failed: offline maintenance mode: disk swap",
         "Prune Job", "failed", "offline maintenance mode: disk swap"),
        ("Garbage Collect Datastore 'store1' failed", "Garbage collection failed: already running",
         "Garbage Collection", "failed", "already running"),
        ("Tape Backup 'weekly' datastore 'store1' failed", "Tape Backup failed: drive busy",
         "Tape Backup Job", "failed", "drive busy"),
    ],
)  # fmt: skip
def test_every_pbs_job_kind_states_its_result_in_the_closing_sentence(
    subject: str, sentence: str, backup_type: str, status: str, message: str | None
) -> None:
    text = pbs_text("Job ID:    job-1", "Datastore: store1", "", sentence)

    result = parse(subject, text=text, sender=PBS)

    assert (result["backup_type"], result["job_name"], result["status"]) == (backup_type, "job-1", status)
    assert objects(result) == [("store1", status, message)]


def test_a_pbs_error_over_several_lines_is_one_message_and_a_job_without_id_is_named_by_its_store() -> None:
    text = pbs_text(
        "Datastore: store1", "", "Garbage collection failed: unable to read chunk", "  (os error 5)"
    )

    result = parse("Garbage Collect Datastore 'store1' failed", text=text, sender=PBS)

    assert result["job_name"] == "store1"
    assert objects(result) == [("store1", "failed", "unable to read chunk (os error 5)")]


def test_a_pbs_mail_without_its_datastore_or_closing_sentence_is_not_parsed() -> None:
    no_store = pbs_text("Job ID: v-1", "", "Verification successful.")
    no_sentence = pbs_text("Job ID: v-1", "Datastore: store1")

    for text in (no_store, no_sentence):
        assert parse("Verify Datastore 'store1' successful", text=text, sender=PBS) == {"parsed": False}


def test_rows_below_reads_every_row_under_a_header_that_starts_with_the_labels() -> None:
    rows = [("Intro",), ("VMID", "Name", "Status"), ("100", "a", "ok"), ("TOTAL", "1s")]

    assert rows_below(rows, "vmid", "name", "status") == [("100", "a", "ok"), ("TOTAL", "1s")]
    assert rows_below(rows, "name", "status") == []
