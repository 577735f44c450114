"""Duplicati reports: the serialised result's status and lists, as the report serializer prints them."""

from __future__ import annotations

from typing import Any

import pytest

from shared_code.parsers import parse_mail
from tests.parsers.mails import build_mail

SENDER = "No Reply - Backup report <no-reply@example.com>"
SUBJECT = "Duplicati Backup report for Docs"


def report(
    parsed_result: str, *, warnings: str = "LimitedWarnings: []", errors: str = "LimitedErrors: []"
) -> str:
    return "\n".join(
        [
            "DeletedFiles: 0",
            "MainOperation: Backup",
            f"ParsedResult: {parsed_result}",
            "Version: 2.0.8.1 (2.0.8.1_beta_2024-05-07)",
            "EndTime: 14.06.2024 21:41:18 (1718394078)",
            "LimitedMessages: []",
            warnings,
            errors,
        ]
    )


def parse(body: str, subject: str = SUBJECT) -> dict[str, Any]:
    outcome = parse_mail(build_mail(subject, text=body, sender=SENDER))
    assert outcome.error is None
    return outcome.corpus_result()


def only_object(result: dict[str, Any]) -> tuple[str, str, str | None]:
    (item,) = result["objects"]
    return item["name"], item["status"], item["message"]


@pytest.mark.parametrize(
    ("parsed_result", "status"),
    [("Success", "success"), ("Warning", "warning"), ("Error", "failed"), ("Fatal", "failed")],
)
def test_parsed_result_is_the_run_status_and_the_backup_is_the_one_object(
    parsed_result: str, status: str
) -> None:
    result = parse(report(parsed_result))

    assert (result["software"], result["backup_type"], result["job_name"]) == ("Duplicati", "Backup", "Docs")
    assert only_object(result) == ("Docs", status, None)


def test_list_entries_lose_their_separator_comma_but_keep_their_own_last_comma() -> None:
    warnings = "LimitedWarnings: [\n    2024-06-14 21:30:09 +02 - [Warning-X]: first,\n    2024-06-14 21:30:10 +02 - [Warning-Y]: a, b,\n]"

    result = parse(report("Warning", warnings=warnings))

    assert (
        only_object(result)[2]
        == "2024-06-14 21:30:09 +02 - [Warning-X]: first 2024-06-14 21:30:10 +02 - [Warning-Y]: a, b,"
    )


def test_a_cut_list_drops_the_comma_before_its_ellipsis() -> None:
    entries = ",\n".join(
        f"    2024-06-14 21:30:{second:02d} +02 - [Error-X]: e{second}" for second in range(10)
    )
    errors = f"LimitedErrors: [\n{entries},\n...\n]"

    result = parse(report("Error", errors=errors))

    message = only_object(result)[2]
    assert message is not None
    assert message.endswith("[Error-X]: e9")
    assert message.count("[Error-X]") == 10


def test_an_entry_keeps_its_exception_line() -> None:
    errors = "LimitedErrors: [\n    2024-06-14 21:30:09 +02 - [Error-X]: upload failed\nWebException: 503,\n    second\n]"

    result = parse(report("Error", errors=errors))

    assert (
        only_object(result)[2]
        == "2024-06-14 21:30:09 +02 - [Error-X]: upload failed WebException: 503 second"
    )


def test_a_report_that_opens_with_failed_fails_with_that_text() -> None:
    body = "Failed: The remote server returned an error: (401) Unauthorized.\nDetails: System.Net.WebException: ...\n"

    result = parse(body)

    assert only_object(result) == (
        "Docs",
        "failed",
        "The remote server returned an error: (401) Unauthorized.",
    )


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Duplicati Restore report for Docs", report("Success")),
        (SUBJECT, report("Success").replace("MainOperation: Backup", "MainOperation: Compact")),
        (SUBJECT, report("Unknown")),
        (SUBJECT, "The backup ran.\n"),
        ("Backup report for Docs", report("Success")),
    ],
)
def test_reports_of_other_operations_or_without_a_result_are_not_parsed(subject: str, body: str) -> None:
    assert parse(body, subject) == {"parsed": False}
