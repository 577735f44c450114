"""The registry: its documentation, its cheap import, and the pipeline's outcomes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from shared_code.parsers import ParseOutcome, ParserDoc, parse_mail, parser_docs
from shared_code.parsers.mime import decode_mail
from shared_code.parsers.veeam import VeeamParser
from tests.parsers.mails import build_mail, veeam_html

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "fixtures" / "mail"
# Customer-like names of the corpus: examples in the documentation stay generic.
CORPUS_COMPANIES = ("contoso", "fabrikam", "northwind", "tailspin", "woodgrove", "adatum", "litware")


def test_every_parser_is_documented_once() -> None:
    docs = parser_docs()

    assert all(isinstance(doc, ParserDoc) for doc in docs)
    assert len({doc.name for doc in docs}) == len(docs)
    assert all(doc.products and doc.sample_subject and doc.description for doc in docs)
    assert {doc.name for doc in docs if doc.informational} == {"qnap_firmware", "synology_notices"}


def test_documentation_uses_no_customer_names() -> None:
    text = " ".join(doc.model_dump_json() for doc in parser_docs()).casefold()

    assert not [name for name in CORPUS_COMPANIES if name in text]


def test_docs_load_without_the_html_parser_or_any_parser_module() -> None:
    probe = (
        "import sys; from shared_code.parsers.registry import parser_docs; parser_docs(); "
        "loaded = [m for m in sys.modules if m.startswith('selectolax') or m.startswith('shared_code.parsers.')"
        " and m.rsplit('.', 1)[1] in ('veeam', 'synology', 'nakivo', 'qnap', 'acronis', 'proxmox_ve', 'proxmox_backup_server', 'duplicati', 'kopia', 'urbackup', 'bareos_bacula')]; "
        "print(loaded)"
    )

    completed = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    )

    assert completed.stdout.strip() == "[]"


def test_parse_accepts_raw_bytes_and_decoded_mail() -> None:
    raw = (CORPUS / "veeam_backup_failed.eml").read_bytes()

    assert parse_mail(raw) == parse_mail(decode_mail(raw))
    assert parse_mail(raw).parser_name == "veeam"


def test_a_raising_parser_gives_an_error_outcome(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(self: VeeamParser, mail: object) -> None:
        raise RuntimeError("unexpected layout")

    monkeypatch.setattr(VeeamParser, "parse", explode)

    outcome = parse_mail((CORPUS / "veeam_backup_failed.eml").read_bytes())

    assert outcome == ParseOutcome(kind="error", parser_name="veeam", error="RuntimeError: unexpected layout")
    assert outcome.corpus_result() == {"parsed": False}


def test_a_report_without_any_status_is_an_error_with_the_reason() -> None:
    html = veeam_html("Backup job: Daily", "", [], "Veeam Backup & Replication 12.1.1.56")

    outcome = parse_mail(build_mail("Nightly report", html=html))

    assert outcome.kind == "error"
    assert outcome.parser_name == "veeam"
    assert outcome.error is not None and "no run status" in outcome.error


def test_unclaimed_mail_is_unparsed() -> None:
    outcome = parse_mail(build_mail("Lunch on Friday?", text="Pizza or sushi?"))

    assert (outcome.kind, outcome.result, outcome.error) == ("unparsed", None, None)
    assert outcome.reason is not None and outcome.reason.startswith("no parser recognised it (from ")
    assert "subject 'Lunch on Friday?'" in outcome.reason


@pytest.mark.parametrize(
    ("subject", "headers"),
    [
        ("Automatic reply: [Failed] Daily (2 VMs)", {}),
        ("Automatisch antwoord: [Failed] Daily (2 VMs)", {}),
        ("Abwesenheitsnotiz: [Failed] Daily (2 VMs)", {}),
        ("Out of Office: [Failed] Daily (2 VMs)", {}),
        ("[Failed] Daily (2 VMs)", {"Auto-Submitted": "auto-replied"}),
        ("FW: [Failed] Daily (2 VMs)", {}),
        ("Fwd: [Failed] Daily (2 VMs)", {}),
        ("RE: [Failed] Daily (2 VMs)", {}),
        ("WG: [Failed] Daily (2 VMs)", {}),
        ("AW: [Failed] Daily (2 VMs)", {}),
        ("Doorst: [Failed] Daily (2 VMs)", {}),
        ("[EXTERNAL] Fw: [Failed] Daily (2 VMs)", {}),
    ],
)
def test_peoples_mail_is_never_a_run(subject: str, headers: dict[str, str]) -> None:
    html = veeam_html(
        "Backup job: Daily", "Failed", [("VM1", "Failed", "")], "Veeam Backup & Replication 12.1.1.56"
    )

    outcome = parse_mail(build_mail(subject, html=html, headers=headers))

    assert (outcome.kind, outcome.result, outcome.error) == ("unparsed", None, None)
    assert outcome.reason is not None and outcome.reason.startswith("not a backup report: ")


def test_auto_generated_reports_are_still_parsed() -> None:
    html = veeam_html(
        "Backup job: Daily", "Failed", [("VM1", "Failed", "")], "Veeam Backup & Replication 12.1.1.56"
    )

    outcome = parse_mail(
        build_mail("[Failed] Daily", html=html, headers={"Auto-Submitted": "auto-generated"})
    )

    assert outcome.kind == "parsed"


def test_a_parse_over_its_cpu_budget_is_stored_unparsed_with_the_reason() -> None:
    raw = build_mail("[Success] Daily (1 VM)", html="<div>x</div>" * 1000)

    outcome = parse_mail(raw, budget_seconds=0.0)  # any work at all uses more than no CPU

    assert outcome.kind == "unparsed"
    assert outcome.reason is not None and outcome.reason.startswith("parse took too long")


def test_a_parse_within_its_budget_is_unchanged() -> None:
    raw = build_mail("[Success] Daily (1 VM)", html="<div>x</div>")

    assert parse_mail(raw, budget_seconds=60.0) == parse_mail(raw)


def with_tiny_parts(report: bytes, count: int) -> bytes:
    """The report's decoded HTML as the first part of a multipart mail, followed by ``count`` tiny parts."""
    mail = decode_mail(report)
    head = f'From: {mail.from_address}\r\nSubject: {mail.subject}\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
    first = f"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{mail.html_body}\r\n"
    tiny = "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n" * count
    return f"{head}{first}{tiny}--b--\r\n".encode()


def test_a_report_followed_by_many_tiny_parts_is_parsed_from_its_first_parts() -> None:
    report = (CORPUS / "veeam_backup_failed.eml").read_bytes()

    outcome = parse_mail(with_tiny_parts(report, 20_000))

    assert outcome.result == parse_mail(report).result
    assert outcome.result is not None


def test_an_unrecognised_mail_says_how_many_parts_were_not_read() -> None:
    raw = with_tiny_parts(build_mail("Hello", html="<p>nothing to see</p>"), 5000)

    outcome = parse_mail(raw)

    assert outcome.kind == "unparsed"
    assert outcome.reason is not None and "4001 MIME parts after the first 1000 not read" in outcome.reason
