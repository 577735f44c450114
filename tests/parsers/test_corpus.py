"""Every corpus mail parses to exactly its expected JSON (same keys, same order, same values).

``fixtures/mail`` is the shared corpus; ``fixtures/mail_extra`` adds synthetic variants the
products are known to send (German and Dutch wording, text-only mails, older versions,
Account Protection and QNAP firmware notices). A real mail that differs from a fixture is
added to ``mail_extra`` as a new NAME.eml + NAME.json pair.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared_code.parsers import parse_mail
from shared_code.parsers.__main__ import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CORPUS = FIXTURES / "mail"
CASES = sorted(path.stem for path in CORPUS.glob("*.eml"))
ALL_CASES = sorted(path.relative_to(FIXTURES).with_suffix("") for path in FIXTURES.glob("mail*/*.eml"))


def test_corpus_is_complete() -> None:
    # The folder is the corpus: every mail has its expected result and every result its mail.
    assert CASES
    for folder in {FIXTURES / case.parent for case in ALL_CASES}:
        assert {path.stem for path in folder.glob("*.json")} == {path.stem for path in folder.glob("*.eml")}


@pytest.mark.parametrize("case", ALL_CASES, ids=str)
def test_case_parses_to_its_expected_result(case: Path) -> None:
    expected_text = (FIXTURES / case).with_suffix(".json").read_text(encoding="utf-8")
    outcome = parse_mail((FIXTURES / case).with_suffix(".eml").read_bytes())

    result = outcome.corpus_result()

    assert outcome.error is None
    assert json.dumps(result, ensure_ascii=False) == json.dumps(json.loads(expected_text), ensure_ascii=False)
    assert outcome.kind == ("unparsed" if result == {"parsed": False} else "parsed")


def test_command_line_prints_one_json_line_per_file(capsys: pytest.CaptureFixture[str]) -> None:
    files = [str(CORPUS / "veeam_backup_failed.eml"), str(CORPUS / "noise_newsletter.eml")]

    exit_code = main(files)

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert exit_code == 0
    assert [line["file"] for line in lines] == files
    assert lines[0]["result"] == json.loads((CORPUS / "veeam_backup_failed.json").read_text(encoding="utf-8"))
    assert lines[1] == {"file": files[1], "result": {"parsed": False}}


def test_command_line_reports_an_unreadable_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.eml")

    exit_code = main([missing])

    line = json.loads(capsys.readouterr().out)
    assert exit_code == 1
    assert line["result"] == {"parsed": False}
    assert line["error"].startswith("cannot read")


def test_command_line_shows_a_parser_error_and_carries_on(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    broken = tmp_path / "no_status.eml"
    broken.write_bytes(
        b"Subject: Nightly report\r\nContent-Type: text/plain\r\n\r\n"
        b"Backup job: Daily\r\n\r\nVeeam Backup & Replication 12.1.1.56\r\n"
    )

    exit_code = main([str(broken), str(CORPUS / "noise_newsletter.eml")])

    first, second = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert exit_code == 0
    assert first["result"] == {"parsed": False}
    assert "no run status" in first["error"]
    assert second == {"file": str(CORPUS / "noise_newsletter.eml"), "result": {"parsed": False}}
