"""Ingestion's transactions are opened where docs/architecture.md says and nowhere else: every
other function of ``shared_code.mail`` works in its caller's ``Session``."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAIL = ROOT / "shared_code" / "mail"
SECTION = "### Who opens a unit of work in ingestion"


def functions_that_open_a_unit_of_work() -> set[str]:
    owners = set()
    for module in MAIL.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(
                isinstance(call, ast.Call) and getattr(call.func, "id", None) == "unit_of_work"
                for call in ast.walk(node)
            ):
                owners.add(f"mail.{module.stem}.{node.name}")
    return owners


def owners_named_in_the_architecture() -> set[str]:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split(SECTION, 1)[1].split("\n#", 1)[0]
    return set(re.findall(r"^\| `([\w.]+)`", section, flags=re.MULTILINE))


def test_only_the_owners_the_architecture_names_open_a_unit_of_work_in_ingestion() -> None:
    named = owners_named_in_the_architecture()
    assert "mail.catch_up.run_catch_up" in named  # the table was read
    assert functions_that_open_a_unit_of_work() == named
