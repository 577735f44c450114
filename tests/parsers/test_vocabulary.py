"""The status vocabulary of the corpus README, in the three languages the products ship."""

from __future__ import annotations

import pytest

from shared_code.parsers.vocabulary import notice_status, status_in_text, status_of_word, worst

SUCCESS_WORDS = [
    "Success", "Successful", "Succeeded", "Completed", "completed successfully", "has completed",
    "Information", "Voltooid", "voltooid", "is voltooid", "Erfolgreich", "erfolgreich abgeschlossen",
]  # fmt: skip
WARNING_WORDS = [
    "Warning", "Warnings", "completed with warnings", "Succeeded with warnings", "partially completed",
    "Partially completed", "Waarschuwing", "gedeeltelijk voltooid", "Gedeeltelijk voltooid", "Warnung",
    "Warnungen", "mit WARNUNGEN abgeschlossen", "Erfolgreich mit Warnungen", "teilweise abgeschlossen",
]  # fmt: skip
FAILED_WORDS = [
    "Failed", "failed", "Error", "Stopped", "was stopped", "canceled", "cancelled", "Mislukt", "mislukt",
    "geannuleerd", "gestopt", "Fehlgeschlagen", "fehlgeschlagen", "abgebrochen",
]  # fmt: skip


@pytest.mark.parametrize("word", SUCCESS_WORDS)
def test_success_words(word: str) -> None:
    assert status_of_word(word) == "success"


@pytest.mark.parametrize("word", WARNING_WORDS)
def test_warning_words(word: str) -> None:
    assert status_of_word(word) == "warning"


@pytest.mark.parametrize("word", FAILED_WORDS)
def test_failed_words(word: str) -> None:
    assert status_of_word(word) == "failed"


@pytest.mark.parametrize("word", ["", None, "Pending", "In progress", "3 of 3 VMs processed"])
def test_no_status(word: str | None) -> None:
    assert status_of_word(word) is None


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("The backup task Offsite on NAS01 has completed successfully.", "success"),
        ("Back-uptaak Hyper-V op NAS02 gedeeltelijk voltooid.", "warning"),
        ("Die Sicherungsaufgabe USB auf NAS05 ist fehlgeschlagen.", "failed"),
        ("Die Sicherungsaufgabe USB auf NAS05 wurde erfolgreich abgeschlossen.", "success"),
        ("Backup job completed with warnings.", "warning"),
        # Cell-only words do not count in a sentence: "0 errors" states nothing.
        ("Processed with 0 errors, information follows", None),
    ],
)
def test_sentences(sentence: str, expected: str | None) -> None:
    assert status_in_text(sentence) == expected


@pytest.mark.parametrize(
    ("notice", "expected"),
    [
        ("The automatic DSM update on NAS01 has been cancelled", "warning"),
        ("De automatische DSM-update op NAS01 is geannuleerd", "warning"),
        ("Das automatische DSM-Update auf NAS01 wurde abgebrochen", "warning"),
        ("Packages on NAS01 are out-of-date", "warning"),
        ("Pakketten op NAS01 zijn verouderd", "warning"),
        ("Pakete auf NAS01 sind veraltet", "warning"),
        ("A new firmware version is available", "success"),
        ("Er is een nieuwe versie beschikbaar", "success"),
        ("Eine neue Version ist verfügbar", "success"),
        ("DSM 7.2.2 has been installed", "success"),
        ("DSM 7.2.2 is geïnstalleerd", "success"),
        ("The update could not be installed", "failed"),
        ("Update cancelled and packages out-of-date; firmware available", "warning"),
        ("Dear user,", None),
    ],
)
def test_notice_words(notice: str, expected: str | None) -> None:
    assert notice_status(notice) == expected


def test_worst() -> None:
    assert worst([]) is None
    assert worst(["success", "failed", "warning"]) == "failed"
    assert worst(["success", "warning"]) == "warning"
