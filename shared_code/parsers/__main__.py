"""``python -m shared_code.parsers FILE.eml ...``: one JSON line per file.

Each line is ``{"file": ..., "result": ...}`` with the corpus's expected-result format
(``{"parsed": false}`` for mail no parser claims); an ``error`` key says why a file
could not be read or a parser failed. Exits 1 when a file could not be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from shared_code.parsers.registry import parse_mail


def main(argv: Sequence[str] | None = None) -> int:
    arguments = argparse.ArgumentParser(prog="python -m shared_code.parsers", description=__doc__)
    arguments.add_argument("files", nargs="+", metavar="FILE.eml")
    unreadable = 0
    for path in arguments.parse_args(argv).files:
        line: dict[str, object] = {"file": path}
        try:
            with open(path, "rb") as handle:
                outcome = parse_mail(handle.read())
        except OSError as exc:
            unreadable += 1
            line.update(result={"parsed": False}, error=f"cannot read: {exc.strerror or exc}")
        else:
            line["result"] = outcome.corpus_result()
            if outcome.error is not None:  # a parser failed on this mail: a result too, not a CLI failure
                line["error"] = outcome.error
        print(json.dumps(line, ensure_ascii=False))
    return 1 if unreadable else 0


if __name__ == "__main__":
    sys.exit(main())
