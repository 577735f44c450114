"""A parsing rule's worst pattern against a long line: RE2 (what rules run on) against Python's re.

    .venv/bin/python bench/rule_patterns.py [--pattern '(a+)+$'] [--python-up-to 26]

``(a+)+$`` on ``a`` * n + ``b`` backtracks exponentially in a backtracking engine (Python's ``re``
doubles its time with each ``a``), while RE2 is linear in n. Prints seconds per search for growing
n; Python's ``re`` only up to a small n, as it would never finish beyond. Not a test.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shared_code.parsers.rule_engine import compiled  # noqa: E402


def seconds(search: object, text: str) -> float:
    started = time.perf_counter()
    search(text)  # type: ignore[operator]
    return time.perf_counter() - started


def main() -> int:
    arguments = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    arguments.add_argument("--pattern", default="(a+)+$")
    arguments.add_argument("--python-up-to", type=int, default=24, help="largest n tried with Python's re")
    options = arguments.parse_args()

    rule_pattern = compiled(options.pattern)
    print(f"pattern {options.pattern!r} on 'a' * n + 'b' (no match: the worst case)")
    print("RE2 (parsing rules):")
    for n in (1_000, 10_000, 100_000, 1_000_000, 10_000_000):
        print(f"  n = {n:>10,}: {seconds(rule_pattern.search, 'a' * n + 'b'):9.6f} s")
    backtracking = re.compile(options.pattern)
    print("Python re (backtracking), for comparison:")
    for n in range(options.python_up_to - 6, options.python_up_to + 1, 2):
        print(f"  n = {n:>10,}: {seconds(backtracking.search, 'a' * n + 'b'):9.6f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
