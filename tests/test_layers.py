"""Services never import azure.functions (import-linter cannot name part of an external package)."""

from __future__ import annotations

import ast
from pathlib import Path

SHARED_CODE = Path(__file__).resolve().parents[1] / "shared_code"
HOST_ADAPTERS = {"devhost.py"}  # the local Functions host is one, by its nature


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_only_the_dev_host_in_shared_code_imports_azure_functions() -> None:
    importers = {
        str(path.relative_to(SHARED_CODE))
        for path in SHARED_CODE.rglob("*.py")
        if any(name == "azure.functions" or name.startswith("azure.functions.") for name in imported_modules(path))
    }

    assert importers == HOST_ADAPTERS
