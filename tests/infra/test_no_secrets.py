"""No secret value appears in a template, the parameter file, azure.yaml or the workflow.

Secrets live in Key Vault (the webhook clientState is generated inside the deployment, the
Autotask secret is written at run time by the app); the pipeline logs in with OIDC. So the files
in the repository hold names, references and expressions, never a credential.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.infra.bicep_model import (
    INFRA,
    MAIN,
    PARAM_FILE,
    REPO,
    Expr,
    bicep_files,
    parse_bicepparam,
    template,
)

CHECKED = [
    *bicep_files(),
    PARAM_FILE,
    REPO / "azure.yaml",
    *sorted((REPO / ".github/workflows").glob("*.y*ml")),
]

# Shapes of credentials that must never be written down.
CREDENTIAL_PATTERNS = {
    "storage account key": re.compile(r"AccountKey\s*=", re.I),
    "SAS token": re.compile(r"(SharedAccessSignature|[?&]sig=)[A-Za-z0-9%]", re.I),
    "instrumentation key": re.compile(r"InstrumentationKey\s*=\s*[0-9a-f]{8}-", re.I),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "JWT": re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
    "password in a connection string": re.compile(r"(Password|Pwd)\s*=\s*[^;'\"\s{$]+", re.I),
    "password in a URL": re.compile(r"://[^/\s:@'\"]+:[^/\s@'\"$]+@"),
    "client secret value": re.compile(r"\b[A-Za-z0-9_~.-]{3}8Q~[A-Za-z0-9_~.-]{30,}"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}"),
}

# Names that say "this holds a secret value" (not its name, URI, switch or kind).
SECRET_WORD = re.compile(
    r"(password|secret|clientstate|token|apikey|api_key|accountkey|connectionstring)", re.I
)
NOT_A_VALUE = re.compile(r"(name|names|uri|url|auth|type|kind|id|policy|version)$", re.I)


def names_a_secret(name: str) -> bool:
    if NOT_A_VALUE.search(name) or re.match(r"(create|enable|disable|allow|require)", name, re.I):
        return False
    return SECRET_WORD.search(name) is not None


def test_names_a_secret() -> None:
    assert names_a_secret("graphClientStateValue")
    assert names_a_secret("administratorLoginPassword")
    assert names_a_secret("GRAPH_CLIENT_SECRET")
    assert not names_a_secret("graphClientStateSecretName")
    assert not names_a_secret("passwordAuth")
    assert not names_a_secret("createGraphClientState")
    assert not names_a_secret("graphClientStateUri")


# GUIDs that may be written down: the built-in role definitions the templates assign.
ROLE_DEFINITION_IDS = {
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
    "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
    "3913510d-42f4-4e42-8a64-420c390055eb",
}
GUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)


def _id(path: Path) -> str:
    return str(path.relative_to(REPO))


@pytest.mark.parametrize("path", CHECKED, ids=_id)
def test_no_credential_shapes(path: Path) -> None:
    text = path.read_text()
    for name, pattern in CREDENTIAL_PATTERNS.items():
        match = pattern.search(text)
        assert match is None, f"{_id(path)}: looks like a {name}: {match.group(0)!r}"


@pytest.mark.parametrize("path", CHECKED, ids=_id)
def test_no_hard_coded_ids(path: Path) -> None:
    """Tenant, subscription, client and object ids are parameters; only role definition ids are fixed."""
    found = {g.lower() for g in GUID.findall(path.read_text())} - ROLE_DEFINITION_IDS
    assert found == set(), f"{_id(path)}: hard-coded ids {sorted(found)}"


@pytest.mark.parametrize("path", bicep_files(), ids=_id)
def test_secure_parameters_have_no_literal_default(path: Path) -> None:
    for param in template(path).params.values():
        if not param.secure or not param.has_default:
            continue
        default = param.default
        assert default == "" or _generated(default), (
            f"{path.name}: @secure() {param.name} has a fixed default"
        )


def _generated(default: object) -> bool:
    """An expression built from newGuid() whose string literals carry nothing but separators."""
    if not isinstance(default, Expr) or "newGuid()" not in default.text:
        return False
    literals = re.findall(r"'([^']*)'", default.text)
    return all(re.fullmatch(r"[-_]*", literal.replace("${newGuid()}", "")) for literal in literals)


def test_the_generated_default_check() -> None:
    assert _generated(Expr("newGuid()"))
    assert _generated(Expr("replace('${newGuid()}${newGuid()}', '-', '')"))
    assert not _generated(Expr("'hunter2${newGuid()}'"))
    assert not _generated("s3cret")


@pytest.mark.parametrize("path", bicep_files(), ids=_id)
def test_secret_looking_names_hold_no_literal(path: Path) -> None:
    """A property or parameter named like a secret is a reference or an expression, never a literal."""
    t = template(path)

    def visit(node: object, where: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if names_a_secret(key) and isinstance(value, str) and value:
                    pytest.fail(f"{path.name}: {where}.{key} is the literal {value!r}")
                visit(value, f"{where}.{key}")
        elif isinstance(node, list):
            for item in node:
                visit(item, where)

    for resource in t.resources:
        visit(resource.body, resource.symbol)
    for module in t.modules:
        visit(module.params, module.symbol)
    for name, param in t.params.items():
        if names_a_secret(name) and isinstance(param.default, str) and param.default:
            pytest.fail(f"{path.name}: parameter {name} defaults to a literal")
    for name in t.outputs:
        assert not names_a_secret(name), f"{path.name}: output {name} looks like a secret"


def test_the_param_file_sets_no_secure_or_secret_parameter() -> None:
    params = template(MAIN).params
    for name, source in parse_bicepparam(PARAM_FILE).values.items():
        assert not params[name].secure, f"{name} is @secure(): it must not be set in the param file"
        if names_a_secret(name):
            assert source.startswith("readEnvironmentVariable("), name


def test_no_template_outputs_a_secret_value() -> None:
    """Outputs are readable by anyone with read access to the deployment: no keys, no connection strings."""
    for path in bicep_files():
        for name, value in template(path).outputs.items():
            text = value.text if isinstance(value, Expr) else str(value)
            assert not re.search(
                r"listKeys|listSecrets|ConnectionString|InstrumentationKey|\.value\b", text
            ), f"{path.name}: output {name} = {text}"


def test_the_checked_files_exist() -> None:
    assert PARAM_FILE.is_file()
    assert (REPO / "azure.yaml").is_file()
    assert list((REPO / ".github/workflows").glob("*.yml"))
    assert INFRA.is_dir()
