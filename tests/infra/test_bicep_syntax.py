"""Every Bicep file parses, and the modules are wired the way the Bicep compiler would insist on.

No Bicep CLI exists here (no registry ships it), so these stand in for `bicep build`: syntax under
the tree-sitter-bicep grammar, module paths, module parameters (unknown or missing), and the
outputs read from a module.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.infra.bicep_model import (
    INFRA,
    MAIN,
    Template,
    bicep_files,
    module_template,
    syntax_errors,
    template,
)

FILES = bicep_files()
IDS = [str(path.relative_to(INFRA)) for path in FILES]


def test_the_templates_are_there() -> None:
    names = {str(path.relative_to(INFRA)) for path in FILES}
    assert "main.bicep" in names
    assert {
        "modules/functionapp.bicep",
        "modules/appsettings.bicep",
        "modules/storage.bicep",
        "modules/keyvault.bicep",
        "modules/postgres.bicep",
        "modules/monitoring.bicep",
        "modules/roles.bicep",
        "modules/staticsite.bicep",
    } <= names


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_parses_without_syntax_errors(path: Path) -> None:
    assert syntax_errors(path.read_bytes()) == []


def test_a_syntax_error_is_caught() -> None:
    """The check itself works: a broken template yields ERROR/MISSING nodes."""
    broken = (
        b"resource s 'Microsoft.Storage/storageAccounts@2023-05-01' = {\n  name: 'x'\n  properties: {\n}\n"
    )
    assert syntax_errors(broken)
    assert syntax_errors(b"param x string = \n")


def _templates_with_modules() -> list[Template]:
    return [template(path) for path in FILES if template(path).modules]


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_every_file_is_used(path: Path) -> None:
    """Each module file is referenced by some template, so nothing is dead or untested."""
    if path == MAIN:
        return
    used = {
        (parent.path.parent / module.path).resolve()
        for parent in _templates_with_modules()
        for module in parent.modules
    }
    assert path.resolve() in used


@pytest.mark.parametrize(
    ("parent", "module"),
    [(t, m) for t in _templates_with_modules() for m in t.modules],
    ids=lambda v: v.symbol if hasattr(v, "symbol") else v.path.name,
)
def test_module_parameters_match(parent: Template, module) -> None:
    target = (parent.path.parent / module.path).resolve()
    assert target.is_file(), f"{module.path} does not exist"
    child = module_template(parent.path, module)
    passed = set(module.params)
    declared = set(child.params)
    required = {name for name, param in child.params.items() if not param.has_default}
    assert passed - declared == set(), f"{module.symbol} passes parameters {child.path.name} does not declare"
    assert required - passed == set(), (
        f"{module.symbol} leaves required parameters of {child.path.name} unset"
    )
    assert isinstance(module.body.get("name"), str), "a module deployment has a fixed name"


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_module_outputs_read_exist(path: Path) -> None:
    parent = template(path)
    source = path.read_text()
    modules = {m.symbol: module_template(path, m) for m in parent.modules}
    for symbol, name in re.findall(r"\b(\w+)\.outputs\.(\w+)", source):
        assert symbol in modules, f"{symbol}.outputs.{name}: {symbol} is not a module of {path.name}"
        assert name in modules[symbol].outputs, f"{modules[symbol].path.name} has no output {name}"


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_identifiers_are_declared(path: Path) -> None:
    """Every parameter a template declares is used, and every value it refers to is declared."""
    t = template(path)
    source = re.sub(r"//.*", "", path.read_text())
    for name in t.params:
        uses = len(re.findall(rf"(?<![\w.']){name}\b", source))
        assert uses >= 2, f"parameter {name} of {path.name} is never used"
    for name in t.variables:
        uses = len(re.findall(rf"(?<![\w.']){name}\b", source))
        assert uses >= 2, f"variable {name} of {path.name} is never used"
