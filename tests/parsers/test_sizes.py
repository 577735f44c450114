"""The size a report states for its run, per product family, read from corpus mails."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared_code.parsers import parse_mail
from shared_code.parsers.html_text import TextDocument, html_to_document, text_to_document
from shared_code.parsers.sizes import size_in_bytes, stated_size

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "mail"
GB, MB = 1024**3, 1024**2


def stated(case: str) -> int | None:
    outcome = parse_mail((CORPUS / f"{case}.eml").read_bytes())
    assert outcome.result is not None
    return outcome.result.size_bytes


@pytest.mark.parametrize(
    ("case", "size"),
    [
        ("veeam_backup_success_3vms", round(574.0 * GB)),  # "Total size", not the per-VM "Size"
        ("veeam_agent_windows_success", round(500.0 * GB)),
        ("vb365_exchange_success", round(6.9 * GB)),  # VB365 states "Transferred"
        ("proxmox_vzdump_success", round(1.139 * 1024 * GB)),  # "Total size: 1.139 TiB"
        ("proxmox_vzdump_storage_offline", 0),
        ("duplicati_backup_success", 96521547776),  # SizeOfExaminedFiles
        ("kopia_snapshot_failed", round(5.2 * MB) + round(112.4 * GB)),  # the sources' column, summed
        ("urbackup_image_full_success", round(48.2109 * GB)),
        ("bacula_backup_success", 421533914),  # "SD Bytes Written: 421,533,914 (421.5 MB)"
        ("bareos_backup_warning", 5219480117),
        ("nakivo_backup_success", round(29.8 * GB)),  # the job's "Data transferred", not a VM's
        ("acronis_backup_success", round(6.41 * GB)),
        ("acronis_backup_failed", 0),
        ("synology_abb_pc_success_en", round(3.2 * GB)),
        ("synology_abb_pc_success_nl", round(812.5 * MB)),  # "Overgedragen grootte"
        ("synology_hyperbackup_success_en", round(2.4 * GB)),  # "Increased target size"
    ],
)
def test_a_report_that_states_a_size_gives_it_in_bytes(case: str, size: int) -> None:
    assert stated(case) == size


@pytest.mark.parametrize(
    "case",
    [
        "qnap_hbs_success",
        "proxmox_pbs_gc_success",
        "kopia_maintenance_error",
        "synology_hyperbackup_failed_en",
    ],
)
def test_a_report_that_states_no_run_size_gives_none(case: str) -> None:
    # PBS garbage collection's "Removed garbage" is not a backup's size; QNAP's mail states none.
    assert stated(case) is None


def test_the_size_stays_out_of_the_corpus_format() -> None:
    outcome = parse_mail((CORPUS / "acronis_backup_success.eml").read_bytes())

    assert outcome.result is not None and outcome.result.size_bytes
    assert "size_bytes" not in outcome.corpus_result()


@pytest.mark.parametrize(
    ("document", "size"),
    [
        (html_to_document("<table><tr><td>TOTAL SIZE:</td><td>2 GB</td></tr></table>"), 2 * GB),
        (text_to_document("Name\tTotal size\na\t1 GB\nb\t2 GB"), 3 * GB),  # a column, summed
        (text_to_document("Job done\nTotal s\u0130ze: 3 GB"), 3 * GB),  # a line matches ignoring case
        (text_to_document("Transferred 5 MB"), 5 * MB),  # the second label
        (text_to_document("Job: size\nVM\t1 GB\ntotal\tsize\nTotal size\t7 GB\nTotal size: 9 GB"), 7 * GB),
    ],
)
def test_a_label_is_found_in_any_case_in_a_cell_a_column_or_a_line(document: TextDocument, size: int) -> None:
    assert stated_size("veeam", document) == size


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("0 B", 0),
        ("1,5 GB", round(1.5 * GB)),
        ("421,533,914 (421.5 MB)", 421533914),
        ("3 KiB", 3072),
        ("12 bytes", 12),
        ("48.3 GB (↑ 111.3 MB)", round(48.3 * GB)),
        ("n/a", None),
        ("9" * 400 + " PB", None),  # a hostile figure is no size, and no crash
        ("99999999 PB", None),  # more than the database can hold
        ("", None),
    ],
)
def test_size_values_as_products_write_them(text: str, size: int | None) -> None:
    assert size_in_bytes(text) == size
