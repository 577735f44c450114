"""Parse throughput over the mail corpus, against the floor of decoding alone.

    .venv/bin/python bench/parse.py [--parses 10000] [FOLDER ...]

The floor is what every parse must pay anyway: MIME-decoding the same mails and
turning their HTML into text (``decode_mail(raw).document``). The full parse adds
noise detection, the parsers' claims and parsing, and the pydantic results.
Goal: the full parse stays within 1.3x of the floor. Prints its figures; not a test.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shared_code.parsers.mime import decode_mail  # noqa: E402
from shared_code.parsers.registry import parse_mail  # noqa: E402


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
    return 0


if __name__ == "__main__":
    sys.exit(main())
