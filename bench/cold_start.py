"""Cold start: import time of ``function_app`` against the floor of its unavoidable libraries.

    .venv/bin/python bench/cold_start.py [--runs 7]

Runs ``python -X importtime`` in fresh processes and sums the cumulative time of the top-level
imports (what ``-X importtime`` reports for everything the statement pulls in). Prints the
median of each (measured in turns) and their ratio (goal: within 1.3x), and whether msgraph was imported.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = "import function_app"
FLOOR = "import azure.functions, sqlalchemy.orm, pg8000, httpx, pydantic"
# Settings the import validates; nothing is contacted at import time.
ENV = {"DATABASE_URL": "postgresql://app@db.example.test/backupchecks", "AUTH_MODE": "off"}


def import_time_us(statement: str) -> int:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement],
        cwd=ROOT,
        env={**os.environ, **ENV},
        capture_output=True,
        text=True,
        check=True,
    )
    total = 0
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = (part for part in line.removeprefix("import time:").split("|"))
        if cumulative.strip().isdigit() and not name.startswith("  "):  # top level: one leading space
            total += int(cumulative)
    return total


def imports_msgraph() -> bool:
    code = f"{APP}; import sys; print(any(m.startswith('msgraph') for m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, **ENV},
                            capture_output=True, text=True, check=True)
    return result.stdout.strip() == "True"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    # In turns, so that a change in the machine's load weighs on both alike.
    pairs = [(import_time_us(APP), import_time_us(FLOOR)) for _ in range(runs)]
    app = statistics.median(app for app, _ in pairs)
    floor = statistics.median(floor for _, floor in pairs)
    print(f"function_app import: {app / 1000:.1f} ms (median of {runs})")
    print(f"floor ({FLOOR.removeprefix('import ')}): {floor / 1000:.1f} ms")
    print(f"ratio: {app / floor:.2f}x (goal <= 1.30x)")
    print(f"msgraph imported: {imports_msgraph()}")


if __name__ == "__main__":
    main()
