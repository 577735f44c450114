"""Fuzzing: no bytes, however mangled, make the decoder or a parser raise.

``parse_mail`` never lets an exception escape: it turns one into an ``error`` outcome. So the
check reads that channel too: the only error a mangled mail may give is a ``ParseError`` (a
report missing a part every report has); any other exception is a crash the pipeline caught.

Bounded for CI. The longer run, documented in the closing report:

    FUZZ_EXAMPLES=20000 .venv/bin/pytest tests/parsers/test_fuzz.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared_code.parsers import ParseOutcome, parse_mail
from shared_code.parsers.base import ParseError
from shared_code.parsers.mime import decode_mail
from shared_code.parsers.veeam import VeeamParser

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
# The 400 kB corpus mail makes every mutation slow to shrink; the others cover its layout.
SEEDS = sorted(
    (path.read_bytes() for path in FIXTURES.glob("mail*/*.eml") if path.stat().st_size < 100_000),
    key=len,
)
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=EXAMPLES <= 150,  # CI runs the same examples every time; long runs explore
)
RESULT_KEYS = ["software", "backup_type", "job_name", "status", "informational", "objects"]
STATUSES = {"success", "warning", "failed"}

# Fragments that steer mutations towards the decoder's and parsers' edge cases.
TOKENS = [
    b"\r\n",
    b"\n\n",
    b"=?utf-8?B?",
    b"=?iso-8859-1?Q?=E9",
    b"?=",
    b"=\n",
    b"=3D",
    b"=ZZ",
    b"--",
    b'Content-Type: multipart/mixed; boundary="x"\r\n',
    b"Content-Type: message/rfc822\r\n",
    b"Content-Transfer-Encoding: base64\r\n",
    b'charset="x-unknown"',
    b"charset=utf-16",
    b"\x00",
    b"\xff\xfe",
    b"\xc3",
    b"<table><tr><td>",
    b"</td></tr></table>",
    b"<br>",
    b"<!--",
    b"&amp;&#xFFFFFF;&nbsp;",
    b"Backup job: ",
    b"Task name: ",
    b" on NAS01 ",
    b"\tStatus\t",
    b'"',
    b"Veeam Backup & Replication 12",
    b"FW: ",
    b" " * 500,
    # Proxmox VE, Proxmox Backup Server and Duplicati
    b"vzdump backup status (",
    b"<tr><td>101</td><td>VM 101</td><td>todo</td></tr>",
    b"101: 2025-01-01 01:00:00 ERROR: Backup of VM 101 failed - ",
    b"Datastore: ",
    b"Synchronization failed: ",
    b"ParsedResult: Fatal\n",
    b"LimitedWarnings: [\n    ",
    b",\n...\n]",
    b"Failed: ",
]


@st.composite
def mutated_mail(draw: st.DrawFn) -> bytes:
    mail = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        at = draw(st.integers(min_value=0, max_value=len(mail)))
        action = draw(st.sampled_from(["flip", "insert", "token", "delete", "truncate", "repeat"]))
        if action == "flip" and at < len(mail):
            mail[at] ^= draw(st.integers(min_value=1, max_value=255))
        elif action == "insert":
            mail[at:at] = draw(st.binary(min_size=1, max_size=40))
        elif action == "token":
            mail[at:at] = draw(st.sampled_from(TOKENS)) * draw(st.integers(min_value=1, max_value=50))
        elif action == "delete":
            del mail[at : at + draw(st.integers(min_value=1, max_value=400))]
        elif action == "truncate":
            del mail[at:]
        else:
            mail[at:at] = mail[at : at + draw(st.integers(min_value=1, max_value=200))] * 20
    return bytes(mail)


def check(outcome: ParseOutcome) -> None:
    assert isinstance(outcome, ParseOutcome)
    if outcome.kind == "error":
        assert outcome.error is not None and outcome.error.startswith(f"{ParseError.__name__}: "), (
            f"{outcome.parser_name or 'the decoder'} raised: {outcome.error}"
        )
    assert (outcome.kind == "parsed") == (outcome.result is not None)
    assert (outcome.kind == "error") == (outcome.error is not None)
    result = outcome.corpus_result()
    if outcome.result is not None:
        assert list(result) == RESULT_KEYS
        assert result["status"] in STATUSES
        assert all(item["status"] in STATUSES and item["name"] for item in result["objects"])  # type: ignore[union-attr]


@pytest.mark.slow
@FUZZ
@given(mutated_mail())
def test_mutated_corpus_mails_never_crash_the_pipeline(raw: bytes) -> None:
    decode_mail(raw)  # the decoder alone never raises either
    check(parse_mail(raw))


@pytest.mark.slow
@FUZZ
@given(st.binary(max_size=20_000))
def test_random_bytes_never_crash_the_pipeline(raw: bytes) -> None:
    check(parse_mail(raw))


@pytest.mark.slow
@FUZZ
@given(st.sampled_from(SEEDS), st.text(max_size=2000))
def test_random_text_as_a_body_never_crashes_the_pipeline(seed: bytes, text: str) -> None:
    head, _, _ = seed.partition(b"\n\n")
    check(parse_mail(head + b"\n\n" + text.encode("utf-8", "surrogatepass")))


def test_the_check_fails_when_a_parser_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(self: VeeamParser, mail: object) -> None:
        raise IndexError("list index out of range")

    monkeypatch.setattr(VeeamParser, "parse", explode)
    outcome = parse_mail((FIXTURES / "mail" / "veeam_backup_failed.eml").read_bytes())

    with pytest.raises(AssertionError, match="veeam raised: IndexError: list index out of range"):
        check(outcome)
