"""Hostile sizes: huge mails parse in bounded time and no pattern backtracks catastrophically."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from html import escape

import pytest

from shared_code.parsers import parse_mail
from shared_code.parsers.base import first_quoted
from shared_code.parsers.mime import decode_mail
from shared_code.parsers.synology import hosts_after_preposition
from shared_code.parsers.vocabulary import notice_status, status_in_text, status_of_word
from tests.parsers.mails import build_mail, field_lines, veeam_html

LIMIT_SECONDS = 1.0
# A huge mail costs what reading it costs (MIME decoding, HTML to text), times a small factor. Measured
# against that floor on the same machine, not in seconds: a slow CI machine takes longer for both.
FLOOR_FACTOR = 4
TRIES = 3  # the fewest of three: one run can be slowed by the machine's other work (caches, frequency)
VBR_FOOTER = "Veeam Backup & Replication 12.1.1.56"


def timed(action: Callable[[], object], *, tries: int = 1) -> tuple[object, float]:
    """The action's value and the fewest CPU seconds this thread spent on it in ``tries`` runs:
    backtracking shows up in CPU time, while a busy shared machine (which stretches wall time) does
    not. The garbage collector is held off while it runs: a full collection costs CPU in proportion
    to everything the test process holds, which is not this action's cost (a collection over a long
    test session's heap once made a 0.2 s parse take 0.55 s)."""
    fewest = float("inf")
    for _ in range(tries):
        gc.collect()
        gc.disable()
        try:
            started = time.thread_time()
            value = action()
            fewest = min(fewest, time.thread_time() - started)
        finally:
            gc.enable()
    return value, fewest


@pytest.fixture(autouse=True, scope="module")
def _parsers_loaded() -> None:
    """Parser modules load on the first parse; their import is not the parse this file times."""
    parse_mail(build_mail("Hello", text="nothing to parse"))


def reading_seconds(raw: bytes) -> float:
    """The floor every parse of ``raw`` pays: decoding it and turning its HTML into text."""
    return timed(lambda: decode_mail(raw).document, tries=TRIES)[1]


@pytest.mark.slow
def test_a_five_megabyte_html_mail_parses_in_about_the_time_it_takes_to_read() -> None:
    padding = (
        "<div><p>Processing <b>disk</b> 1 of 3&nbsp;&amp; more</p><span>lorem ipsum dolor</span></div>\n"
    )
    rows = [("VM1", "Success", ""), ("VM2", "Failed", "Error: timeout")]
    footer_row = f"<tr><td>{escape(VBR_FOOTER)}"
    html = veeam_html("Backup job: Daily", "Failed", rows, VBR_FOOTER).replace(
        footer_row, "<tr><td>" + padding * (5_000_000 // len(padding)) + "</td></tr>" + footer_row
    )
    raw = build_mail("[Failed] Daily (2 VMs)", html=html)
    assert len(raw) > 5_000_000

    floor = reading_seconds(raw)
    outcome, seconds = timed(lambda: parse_mail(raw), tries=TRIES)

    assert outcome.corpus_result()["status"] == "failed"  # type: ignore[union-attr]
    assert seconds < FLOOR_FACTOR * floor, f"{seconds:.2f} s to parse, {floor:.2f} s to read"


@pytest.mark.slow
def test_ten_thousand_object_rows_parse_in_about_the_time_it_takes_to_read() -> None:
    rows = [(f"VM-{index:05d}", "Warning" if index % 997 == 0 else "Success", "") for index in range(10_000)]
    raw = build_mail(
        "[Warning] Big (10000 VMs)", html=veeam_html("Backup job: Big", "Warning", rows, VBR_FOOTER)
    )

    floor = reading_seconds(raw)
    outcome, seconds = timed(lambda: parse_mail(raw), tries=TRIES)

    assert len(outcome.corpus_result()["objects"]) == 10_000  # type: ignore[arg-type]
    assert seconds < FLOOR_FACTOR * floor, f"{seconds:.2f} s to parse, {floor:.2f} s to read"


def hosts_named(text: str) -> list[tuple[str, int]]:
    return list(hosts_after_preposition(text))


SPACES = " " * 100_000
LABELS = "Task name: " * 10_000


@pytest.mark.parametrize(
    ("subject", "text"),
    [
        ("[Failed]" + SPACES + "Daily", "Backup job:" + SPACES + "Daily\n" + SPACES + "\n" + VBR_FOOTER),
        ("Hyper Backup " + "Backup task x " * 10_000, "The backup task " * 10_000 + "\n" + LABELS),
        ("Active Backup for Business" + " on NAS01" * 10_000, ("Task: T\n" + "Backup task T on " * 10_000)),
        ("[NAS01] IP address blocked" + " ip address" * 10_000, "Synology DSM update" + " on the" * 20_000),
        ('NAS01: [Hybrid Backup Sync] "' + '"' * 10_000, "Message: " + '"a' * 10_000),
        (
            "Backup failed" + " on" * 30_000,
            field_lines([("Plan name", "P" * 100_000), ("Device", "\t" * 100_000)]),
        ),
        ("NAKIVO " + "job " * 10_000, "Job name:" * 10_000 + "\nName\tStatus\n" + "x\tSuccess\n" * 10_000),
        ("x", ("Agent Backup job: " * 5_000) + "\n" + ("Veeam Agent for " * 5_000)),
    ],
    ids=[
        "spaces",
        "repeated-task",
        "repeated-on",
        "repeated-ip",
        "quotes",
        "acronis",
        "nakivo",
        "veeam-title",
    ],
)
def test_repeated_labels_and_long_whitespace_parse_quickly(subject: str, text: str) -> None:
    raw = build_mail(subject, text=text)

    _, seconds = timed(lambda: parse_mail(raw))

    assert seconds < LIMIT_SECONDS, f"{seconds:.2f} s"


@pytest.mark.parametrize(
    "function",
    [status_in_text, status_of_word, notice_status, first_quoted, hosts_named],
)
@pytest.mark.parametrize(
    "text",
    [
        " " * 100_000,
        "with " * 20_000,
        "completed " * 20_000 + "!",
        "out-of-" * 20_000,
        "firmware drive " * 10_000,
        '"' * 100_000,
        "on " * 50_000,
        "ip address " * 10_000,
    ],
    ids=["spaces", "with", "completed", "out-of", "firmware", "quotes", "on", "ip"],
)
def test_patterns_stay_linear(function: Callable[[str], object], text: str) -> None:
    _, seconds = timed(lambda: function(text))

    assert seconds < 0.2, f"{seconds:.3f} s"
