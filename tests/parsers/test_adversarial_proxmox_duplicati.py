"""Hostile sizes for the Proxmox VE, Proxmox Backup Server and Duplicati parsers: linear in the mail."""

from __future__ import annotations

from typing import Any

import pytest

from shared_code.parsers import ParseOutcome, parse_mail
from tests.parsers.mails import build_mail
from tests.parsers.test_adversarial import FLOOR_FACTOR, LIMIT_SECONDS, reading_seconds, timed

VZDUMP_SUBJECT = "vzdump backup status (pve1.example.com): backup failed"


def assert_parses_in_about_the_reading_time(raw: bytes) -> dict[str, Any]:
    """Best of three for both figures: one run on a busy machine can be slowed by anything."""
    floor = min(reading_seconds(raw) for _ in range(3))
    runs = [timed(lambda: parse_mail(raw)) for _ in range(3)]
    seconds = min(seconds for _, seconds in runs)
    assert seconds < FLOOR_FACTOR * floor, f"{seconds:.2f} s to parse, {floor:.2f} s to read"
    outcome = runs[0][0]
    assert isinstance(outcome, ParseOutcome)
    return outcome.corpus_result()


@pytest.mark.slow
def test_ten_thousand_guests_with_their_error_lines() -> None:
    rows = "".join(
        f"<tr><td>{vmid}</td><td>guest{vmid}</td><td>{'err' if vmid % 1000 == 0 else 'ok'}</td>"
        f"<td>1s</td><td>1 GiB</td><td>vm/{vmid}/x</td></tr>"
        for vmid in range(100, 10_100)
    )
    logs = "".join(
        f"{vmid}: 2025-01-01 01:00:00 {'ERROR: Backup of VM' if vmid % 1000 == 0 else 'INFO: Finished'} "
        f"{vmid} failed - disk {vmid} gone\n"
        for vmid in range(100, 10_100)
    )
    html = (
        "<html><body><h1>Details</h1><table><tr><th>VMID</th><th>Name</th><th>Status</th><th>Time</th>"
        f"<th>Size</th><th>Filename</th></tr>{rows}</table><pre>{logs}</pre></body></html>"
    )

    result = assert_parses_in_about_the_reading_time(build_mail(VZDUMP_SUBJECT, html=html))

    failed = [item for item in result["objects"] if item["status"] == "failed"]
    assert len(result["objects"]) == 10_000
    assert [item["message"] for item in failed] == [f"disk {vmid} gone" for vmid in range(1000, 10_100, 1000)]


@pytest.mark.slow
def test_a_verify_failure_listing_a_hundred_thousand_snapshots() -> None:
    snapshots = "".join(f"    vm/{index}/2025-01-01T00:00:00Z\n" for index in range(100_000))
    text = f"Job ID: v-1\nDatastore: store1\n\nVerification failed on these snapshots/groups:\n\n{snapshots}"

    result = assert_parses_in_about_the_reading_time(
        build_mail("Verify Datastore 'store1' failed", text=text)
    )

    assert result["status"] == "failed"


@pytest.mark.slow
def test_a_duplicati_list_that_never_closes() -> None:
    entries = ",\n".join(
        f"    2025-01-01 01:00:00 +01 - [Warning-X]: file {index}" for index in range(200_000)
    )
    body = f"MainOperation: Backup\nParsedResult: Warning\nLimitedWarnings: [\n{entries}"

    result = assert_parses_in_about_the_reading_time(
        build_mail("Duplicati Backup report for Docs", text=body)
    )

    assert result["status"] == "warning"


@pytest.mark.parametrize(
    ("subject", "text"),
    [
        ("vzdump backup status (" + "(" * 100_000 + "): backup failed", "Details\n" * 10_000),
        ("vzdump backup status (pve1): backup failed: " + "x " * 50_000, "1: " + "a " * 100_000 + "ERROR:"),
        ("Sync remote '" + "'" * 100_000 + " datastore 'x' failed", "Synchronization failed: " * 10_000),
        ("Tape Backup " + "'x' " * 30_000 + "datastore 'x' failed", "Datastore: x\n" * 10_000),
        (
            "Duplicati Backup report for " + "x " * 50_000,
            "ParsedResult: " * 20_000 + "\n" + "Failed: " * 20_000,
        ),
    ],
    ids=["vzdump-parentheses", "vzdump-error", "pbs-quotes", "pbs-tape-names", "duplicati-labels"],
)
def test_pathological_subjects_and_bodies_parse_quickly(subject: str, text: str) -> None:
    raw = build_mail(subject, text=text)

    _, seconds = timed(lambda: parse_mail(raw))

    assert seconds < LIMIT_SECONDS, f"{seconds:.2f} s"
