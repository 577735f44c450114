"""Parse throughput over the mail corpus, against the floor of decoding alone.

    .venv/bin/python bench/parse.py [--parses 10000] [FOLDER ...]

The floor is what every parse must pay anyway: MIME-decoding the same mails and
turning their HTML into text (``decode_mail(raw).document``). The full parse adds
noise detection, the parsers' claims and parsing, and the pydantic results.
Goal: the full parse stays within 1.3x of the floor.

The worst-case section parses hostile shapes a sender could craft (deeply nested elements, a
10,000-row table, a 5 MB text body, 100k tiny MIME parts) with the production budget and prints
each one's time per MB against the corpus's time per MB: each shape is parsed right after a round
of the corpus, nine times, and the median of the nine ratios is printed with their range.
Goal: each within 3x, and the 200k-element mail parsed (or stopped by the budget) in under 2 s.
Prints its figures; not a test.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shared_code.config import Settings  # noqa: E402
from shared_code.parsers.mime import decode_mail  # noqa: E402
from shared_code.parsers.registry import parse_mail  # noqa: E402

BUDGET = Settings.model_fields["parse_budget_seconds"].default
PAIRS = 9
HEADERS = "From: reports@example.test\r\nSubject: {subject}\r\nMessage-ID: <{name}@example.test>\r\n"


def html_mail(name: str, subject: str, body: str) -> bytes:
    head = HEADERS.format(subject=subject, name=name)
    return f"{head}Content-Type: text/html; charset=utf-8\r\n\r\n<html><body>{body}</body></html>".encode()


def nested(tag: str, count: int) -> str:
    return f"<{tag}>x" * count + f"</{tag}>" * count


def big_table(rows: int) -> str:
    cells = "".join(f"<tr><td>VM-{n:05}</td><td>Success</td><td></td></tr>" for n in range(rows))
    return (
        "<table><tr><td>Backup job: Hostile</td><td>Success</td></tr></table>"
        f"<table><tr><th>Name</th><th>Status</th><th>Details</th></tr>{cells}</table>"
        "<p>Veeam Backup &amp; Replication 12.1</p>"
    )


def text_mail(megabytes: float) -> bytes:
    line = "Backup of object {n:07} finished with state: Success, 1.2 GB read, 0.4 GB transferred\r\n"
    lines = "".join(line.format(n=n) for n in range(int(megabytes * 1e6 / len(line))))
    head = HEADERS.format(subject="Backup report", name="text")
    return f"{head}Content-Type: text/plain; charset=utf-8\r\n\r\n{lines}".encode()


def many_parts(count: int) -> bytes:
    part = "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n"
    head = HEADERS.format(subject="Backup report", name="parts")
    return f'{head}Content-Type: multipart/mixed; boundary="b"\r\n\r\n{part * count}--b--\r\n'.encode()


def hostile_mails() -> dict[str, bytes]:
    return {
        "200k nested <div>": html_mail("div", "Report", nested("div", 200_000)),
        "100k nested <div><span><table>": html_mail(
            "mixed", "Report", "<div><span><table><tr><td>" * 33_334 + "x"
        ),
        "10,000-row table": html_mail("table", "[Success] Hostile (10000 VMs)", big_table(10_000)),
        "5 MB text body": text_mail(5),
        "100k tiny MIME parts": many_parts(100_000),
    }


def worst_cases(mails: list[bytes]) -> None:
    """Each shape against a round of the corpus parsed just before it, pair by pair, so that the two
    times of a ratio share the machine's load of that moment; the median of the pairs is printed."""
    corpus_megabytes = sum(map(len, mails)) / 1e6
    print(f"\nworst cases (budget {BUDGET:g} s CPU; median of {PAIRS} pairs with a corpus round each):")
    for name, raw in hostile_mails().items():
        megabytes = len(raw) / 1e6
        corpus, shape = [], []
        for _ in range(PAIRS):
            corpus.append(seconds_for(lambda mail: parse_mail(mail, BUDGET), mails) / corpus_megabytes)
            shape.append(seconds_for(lambda mail: parse_mail(mail, BUDGET), [raw]) / megabytes)
        ratios = sorted(s / c for s, c in zip(shape, corpus, strict=True))
        outcome = parse_mail(raw, BUDGET)
        print(
            f"  {name:32} {megabytes:5.2f} MB {statistics.median(shape) * megabytes:6.3f} s "
            f"{statistics.median(shape) * 1000:7.1f} ms/MB vs corpus {statistics.median(corpus) * 1000:5.1f} "
            f"{statistics.median(ratios):5.2f}x ({ratios[0]:.2f}-{ratios[-1]:.2f}; goal 3x)  "
            f"{outcome.kind}: {outcome.parser_name or outcome.reason or ''}"[:170]
        )


def decode_and_convert(raw: bytes) -> object:
    return decode_mail(raw).document


def seconds_for(action: Callable[[bytes], object], mails: list[bytes]) -> float:
    started = time.perf_counter()
    for raw in mails:
        action(raw)
    return time.perf_counter() - started


def main() -> int:
    arguments = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    arguments.add_argument("folders", nargs="*", type=Path, default=[ROOT / "tests" / "fixtures" / "mail"])
    arguments.add_argument(
        "--parses", type=int, default=10_000, help="at least this many parses per measurement"
    )
    options = arguments.parse_args()

    mails = [path.read_bytes() for folder in options.folders for path in sorted(folder.glob("*.eml"))]
    if not mails:
        print("no .eml files found", file=sys.stderr)
        return 1
    rounds = math.ceil(options.parses / len(mails))
    for raw in mails:  # warm up: imports, regex compilation, caches
        parse_mail(raw)

    # Alternate the two measurements round by round, so that load on the machine hits both alike.
    floor_seconds = full_seconds = 0.0
    for _ in range(rounds):
        floor_seconds += seconds_for(decode_and_convert, mails)
        full_seconds += seconds_for(parse_mail, mails)
    parses = rounds * len(mails)
    floor, full = parses / floor_seconds, parses / full_seconds

    megabytes = sum(map(len, mails)) / 1e6
    print(f"corpus: {len(mails)} mails, {megabytes:.2f} MB; {rounds} rounds = {parses} parses each")
    print(f"floor (decode + HTML to text): {floor:8.0f} mails/s")
    print(f"full parse:                    {full:8.0f} mails/s")
    print(f"full parse / floor time:       {floor / full:8.2f}x (goal: within 1.3x)")
    worst_cases(mails)
    return 0


if __name__ == "__main__":
    sys.exit(main())
