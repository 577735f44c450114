"""A first deployment that really deploys (issue 17): each finding checked against Microsoft's own
templates and the tools' sources, pinned here. Numbers are the issue's.

The shell scripts run against stand-ins for az, azd, curl, npx and python on PATH that record
their calls, so what a deployment would do is checked without Azure.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.infra.bicep_model import INFRA, MAIN, REPO, Expr, template
from tests.infra.test_pipeline import AZURE_YAML, load, steps, uses

SCRIPTS = INFRA / "scripts"
WORKFLOW = REPO / ".github" / "workflows" / "deploy.yml"
README = INFRA / "README.md"

# A stand-in for every command the scripts call: appends "name args" to $FAKE_LOG, answers from
# FAKE_* variables, fails when FAKE_FAIL (a regular expression) matches "name args".
STAND_IN = r"""#!/usr/bin/env bash
name="$(basename "$0")"
echo "$name $*" >> "$FAKE_LOG"
if [ -n "${FAKE_FAIL:-}" ] && printf '%s %s' "$name" "$*" | grep -q -E "$FAKE_FAIL"; then
  echo "$name failed: ${FAKE_FAIL_MESSAGE:-error}" >&2
  exit 1
fi
case "$name $1 $2" in
  "az account show") echo "${FAKE_SUBSCRIPTION:-sub-1}" ;;
  "az group exists") echo "${FAKE_GROUP_EXISTS:-false}" ;;
  "az provider show")
    case " ${FAKE_UNREGISTERED:-} " in
      *" $4 "*) echo NotRegistered ;;
      *) echo Registered ;;
    esac
    ;;
  "az staticwebapp secrets") echo "swa-deployment-token" ;;
  "curl "*) echo "${FAKE_PUBLIC_IP:-203.0.113.7}" ;;
  "npx "*) [ -n "${SWA_CLI_DEPLOYMENT_TOKEN:-}" ] && echo "npx saw a deployment token" >> "$FAKE_LOG" ;;
esac
case "$name $*" in
  *"db_setup.py admin-url"*) echo "postgresql+pg8000://admin@psql.example:5432/backupchecks" ;;
  *"db_setup.py owner-name"*) echo "backupchecks_owner" ;;
esac
exit 0
"""


@pytest.fixture
def fake_bin(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("az", "azd", "curl", "npx", "python"):
        (bin_dir / name).write_text(STAND_IN)
        (bin_dir / name).chmod(0o755)
    return bin_dir


def _env(fake_bin: Path, **values: str) -> dict[str, str]:
    return {
        "PATH": f"{fake_bin}:{os.environ['PATH']}",
        "FAKE_LOG": str(fake_bin.parent / "calls.log"),
        "PYTHON": str(fake_bin / "python"),
        **values,
    }


def _calls(fake_bin: Path) -> list[str]:
    log = fake_bin.parent / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def _run(command: list[str], env: dict[str, str], cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False)


def _index(calls: list[str], pattern: str) -> int:
    found = [i for i, call in enumerate(calls) if re.search(pattern, call)]
    assert found, f"no call matches {pattern!r} in {calls}"
    return found[0]


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    return load(WORKFLOW)


def _deploy_step(workflow: dict[str, Any], marker: str) -> tuple[int, dict[str, Any]]:
    found = [
        (i, step)
        for i, step in enumerate(steps(workflow["jobs"]["deploy"]))
        if marker in step.get("run", "") + step.get("uses", "")
    ]
    assert len(found) == 1, marker
    return found[0]


def _hooks() -> dict[str, Any]:
    return yaml.safe_load(AZURE_YAML.read_text())["hooks"]


# --- 1. The site steps never depend on a web/ folder that may be missing ------------------------------

SITE_VALUES = {
    "AZURE_RESOURCE_GROUP": "rg-backupchecks",
    "AZURE_STATIC_WEB_APP_NAME": "stapp-prod-abc",
    "API_BASE_URL": "https://func-prod-abc.azurewebsites.net",
    "AUTH_TENANT_ID": "tenant-id",
    "SITE_CLIENT_ID": "site-client-id",
    "API_CLIENT_ID": "api-client-id",
}


def test_site_is_skipped_with_one_line_without_a_site_folder(fake_bin: Path, tmp_path: Path) -> None:
    result = _run(
        [str(SCRIPTS / "deploy-site.sh")],
        _env(fake_bin, SITE_DIR=str(tmp_path / "web"), **SITE_VALUES),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1 and "API-only deployment" in result.stdout
    assert _calls(fake_bin) == [], "nothing is configured or uploaded"
    assert not (tmp_path / "web").exists()


def test_site_gets_its_config_and_is_uploaded_when_present(fake_bin: Path, tmp_path: Path) -> None:
    site = tmp_path / "web"
    site.mkdir()
    result = _run([str(SCRIPTS / "deploy-site.sh")], _env(fake_bin, SITE_DIR=str(site), **SITE_VALUES))
    assert result.returncode == 0, result.stderr
    assert json.loads((site / "config.json").read_text()) == {
        "apiBaseUrl": "https://func-prod-abc.azurewebsites.net/api",
        "tenantId": "tenant-id",
        "clientId": "site-client-id",
        "apiScope": "api://api-client-id/user_impersonation",
    }
    calls = _calls(fake_bin)
    upload = _index(
        calls, rf"^npx --yes @azure/static-web-apps-cli@2 deploy {re.escape(str(site))} --env production$"
    )
    assert _index(calls, r"^az staticwebapp secrets list") < upload
    assert "npx saw a deployment token" in calls


@pytest.mark.parametrize("present", [False, True], ids=["no-web", "web"])
def test_workflow_site_step_decides_and_later_site_steps_follow(
    workflow: dict[str, Any], tmp_path: Path, present: bool
) -> None:
    _, step = _deploy_step(workflow, "write-site-config.sh")
    (tmp_path / "infra").symlink_to(INFRA)
    if present:
        (tmp_path / "web").mkdir()
    output = tmp_path / "github_output"
    env = {"PATH": os.environ["PATH"], "GITHUB_OUTPUT": str(output), **SITE_VALUES}
    result = _run(["bash", "-e", "-c", step["run"]], env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert output.read_text().strip() == f"present={str(present).lower()}"
    assert (tmp_path / "web" / "config.json").exists() == present
    if not present:
        assert "operator site skipped" in result.stdout
    later = steps(workflow["jobs"]["deploy"])[steps(workflow["jobs"]["deploy"]).index(step) + 1 :]
    site_steps = [s for s in later if s.get("id") == "swa" or "static-web-apps-deploy" in s.get("uses", "")]
    assert len(site_steps) == 2
    for site_step in site_steps:
        assert site_step["if"] == f"steps.{step['id']}.outputs.present == 'true'"


def test_azd_postdeploy_goes_through_the_skipping_script() -> None:
    assert _hooks()["postdeploy"]["run"].strip() == "infra/scripts/deploy-site.sh"


# --- 2. The first database step works from a laptop without leaving the server open -----------------------

DATABASE_VALUES = {
    "POSTGRES_HOST": "psql-prod-abc.postgres.database.azure.com",
    "POSTGRES_DATABASE": "backupchecks",
    "POSTGRES_ADMIN_NAME": "Backupchecks deploy (prod)",
    "POSTGRES_APP_ROLE": "func-prod-abc",
    "AZURE_FUNCTION_APP_PRINCIPAL_ID": "00000000-0000-0000-0000-0000000000aa",
    "AUTH_TENANT_ID": "tenant-id",
    "API_CLIENT_ID": "api-client-id",
    "POSTGRES_SERVER_NAME": "psql-prod-abc",
    "AZURE_RESOURCE_GROUP": "rg-backupchecks",
}
FIREWALL = "az postgres flexible-server firewall-rule"


def _database_step(fake_bin: Path, **values: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    result = _run([str(SCRIPTS / "deploy-database.sh")], _env(fake_bin, **DATABASE_VALUES, **values))
    return result, _calls(fake_bin)


def _rule_name(call: str) -> str:
    match = re.search(r"--rule-name (\S+)", call)
    assert match, call
    return match.group(1)


def test_database_step_opens_the_server_to_this_machine_only_while_it_runs(fake_bin: Path) -> None:
    result, calls = _database_step(fake_bin)
    assert result.returncode == 0, result.stderr
    create = _index(calls, rf"^{FIREWALL} create ")
    delete = _index(calls, rf"^{FIREWALL} delete ")
    assert (
        "--resource-group rg-backupchecks --name psql-prod-abc" in calls[create]
        and "--start-ip-address 203.0.113.7 --end-ip-address 203.0.113.7" in calls[create]
    )
    assert _rule_name(calls[create]) == _rule_name(calls[delete])
    assert "--yes" in calls[delete]
    assert create < _index(calls, r"db_setup\.py create-role") < _index(calls, r"-m shared_code migrate")
    assert _index(calls, r"db_setup\.py grant") < delete == len(calls) - 1


@pytest.mark.parametrize("failing", ["create-role", "shared_code migrate", "db_setup.py grant"])
def test_the_temporary_rule_is_removed_when_a_database_step_fails(fake_bin: Path, failing: str) -> None:
    result, calls = _database_step(fake_bin, FAKE_FAIL=f"^python .*{failing}")
    assert result.returncode != 0
    assert calls[-1].startswith(f"{FIREWALL} delete ")
    assert _rule_name(calls[-1]) == _rule_name(calls[_index(calls, rf"^{FIREWALL} create ")])


def test_a_rule_that_cannot_be_removed_is_named_with_the_command_to_remove_it(fake_bin: Path) -> None:
    result, calls = _database_step(fake_bin, FAKE_FAIL=f"^{FIREWALL} delete")
    rule = _rule_name(calls[_index(calls, rf"^{FIREWALL} create ")])
    assert f"--rule-name {rule} --yes" in result.stderr


def test_database_step_without_a_rule_inside_azure(fake_bin: Path) -> None:
    result, calls = _database_step(fake_bin, POSTGRES_CLIENT_FIREWALL_RULE="none")
    assert result.returncode == 0, result.stderr
    assert not [call for call in calls if "firewall-rule" in call or call.startswith("curl")]


def test_database_step_refuses_an_address_that_is_not_one(fake_bin: Path) -> None:
    result, calls = _database_step(fake_bin, FAKE_PUBLIC_IP="<html>rate limited</html>")
    assert result.returncode == 2 and "POSTGRES_CLIENT_IP" in result.stderr
    assert not [call for call in calls if "firewall-rule" in call or call.startswith("python")]


def test_database_step_stops_at_once_when_az_is_logged_out(fake_bin: Path) -> None:
    result, calls = _database_step(fake_bin, FAKE_FAIL="^az account get-access-token")
    assert result.returncode == 1 and "az login" in result.stderr
    assert not [call for call in calls if "firewall-rule" in call or call.startswith("python")]


# --- 3. The workflow logs in again right before the database step ------------------------------------------


def test_the_database_step_follows_a_fresh_login(workflow: dict[str, Any]) -> None:
    index, database = _deploy_step(workflow, "deploy-database.sh")
    deploy_steps = steps(workflow["jobs"]["deploy"])
    bicep, _ = _deploy_step(workflow, "az deployment group create")
    previous = deploy_steps[index - 1]
    assert previous.get("uses", "").lower().startswith("azure/login@") and index - 1 > bicep
    first_login = uses(workflow["jobs"]["deploy"], "azure/login")[0]
    assert previous["with"] == first_login["with"]
    assert database["env"]["POSTGRES_CLIENT_FIREWALL_RULE"] == "none", "the runner is inside Azure"


# --- 4. The pull-request what-if needs no deployment rights --------------------------------------------------


def test_what_if_validates_without_write_checks(workflow: dict[str, Any]) -> None:
    run = "\n".join(s.get("run", "") for s in steps(workflow["jobs"]["what-if"]))
    assert re.search(r"az deployment group what-if[^\n]*(\\\n[^\n]*)*--validation-level ProviderNoRbac", run)
    readme = README.read_text()
    assert "--validation-level ProviderNoRbac" in readme and "2.76" in readme
    assert "Microsoft.Resources/deployments/whatIf/action" in readme


# --- 5. The Flex Consumption site sets no property the plan does not support ---------------------------------

# "Flex Consumption plan deprecations", learn.microsoft.com/azure/azure-functions/functions-app-settings
# (site properties, as `properties.X` or `properties.siteConfig.X`), plus the properties ARM named
# in 51021 rejections (azure-pipelines-tasks#21032, terraform-azurerm-avm-res-web-site#283/#360).
FLEX_UNSUPPORTED_SITE_PROPERTIES = {
    "alwaysOn",
    "containerSize",
    "dnsConfiguration",
    "ftpsState",
    "isReserved",
    "IsXenon",
    "javaVersion",
    "LinuxFxVersion",
    "netFrameworkVersion",
    "powerShellVersion",
    "functionAppScaleLimit",
    "preWarmedInstanceCount",
    "use32BitWorkerProcess",
    "vnetBackupRestoreEnabled",
    "vnetContentShareEnabled",
    "vnetImagePullEnabled",
    "vnetRouteAllEnabled",
    "windowsFxVersion",
    "functionsRuntimeScaleMonitoringEnabled",
}
FLEX_UNSUPPORTED_APP_SETTINGS = {
    "ENABLE_ORYX_BUILD",
    "FUNCTIONS_EXTENSION_VERSION",
    "FUNCTIONS_WORKER_RUNTIME",
    "FUNCTIONS_WORKER_RUNTIME_VERSION",
    "FUNCTIONS_MAX_HTTP_CONCURRENCY",
    "FUNCTIONS_WORKER_PROCESS_COUNT",
    "FUNCTIONS_WORKER_DYNAMIC_CONCURRENCY_ENABLED",
    "SCM_DO_BUILD_DURING_DEPLOYMENT",
    "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
    "WEBSITE_CONTENTOVERVNET",
    "WEBSITE_CONTENTSHARE",
    "WEBSITE_DNS_SERVER",
    "WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT",
    "WEBSITE_NODE_DEFAULT_VERSION",
    "WEBSITE_RUN_FROM_PACKAGE",
    "WEBSITE_SKIP_CONTENTSHARE_VALIDATION",
    "WEBSITE_VNET_ROUTE_ALL",
}


def test_the_flex_site_sets_no_deprecated_property() -> None:
    tpl = template(INFRA / "modules" / "functionapp.bicep")
    (plan,) = tpl.resources_of_type("Microsoft.Web/serverfarms")
    assert plan.body["sku"]["name"] == "FC1"
    (site,) = tpl.resources_of_type("Microsoft.Web/sites")
    unsupported = {name.lower() for name in FLEX_UNSUPPORTED_SITE_PROPERTIES}
    used = {name.lower() for name in site.properties} | {
        name.lower() for name in site.properties.get("siteConfig", {})
    }
    assert used & unsupported == set()
    assert "functionAppConfig" in site.properties


def test_no_deprecated_app_setting_on_flex() -> None:
    settings = template(INFRA / "modules" / "appsettings.bicep").resource("appSettings").properties
    assert set(settings) & FLEX_UNSUPPORTED_APP_SETTINGS == set()


# --- 6. Deployment outputs keep main.bicep's names whatever case ARM returns ----------------------------------


def _outputs_script(style: str, outputs: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["python3", str(SCRIPTS / "deployment_outputs.py"), style],
        input=json.dumps(outputs),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_output_names_are_restored_to_upper_case() -> None:
    arm = {
        "azurE_RESOURCE_GROUP": {"type": "String", "value": "rg-backupchecks"},
        "azure_function_app_name": {"type": "String", "value": "func-prod-abc"},
        "POSTGRES_HOST": {"type": "String", "value": "psql.postgres.database.azure.com"},
    }
    result = _outputs_script("github-env", arm)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "AZURE_FUNCTION_APP_NAME=func-prod-abc",
        "AZURE_RESOURCE_GROUP=rg-backupchecks",
        "POSTGRES_HOST=psql.postgres.database.azure.com",
    ]
    shell = _outputs_script(
        "shell", {"admin_name": {"type": "String", "value": "Backupchecks deploy (prod)"}}
    )
    assert shell.stdout.strip() == "export ADMIN_NAME='Backupchecks deploy (prod)'"


def test_an_output_with_a_line_break_is_refused() -> None:
    result = _outputs_script("github-env", {"X": {"type": "String", "value": "a\nEVIL=1"}})
    assert result.returncode != 0 and "line break" in result.stderr


def test_every_output_is_upper_snake_case_and_read_through_the_script(workflow: dict[str, Any]) -> None:
    for name in template(MAIN).outputs:
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*", name), name
    _, step = _deploy_step(workflow, "az deployment group create")
    assert "deployment_outputs.py github-env" in step["run"] and "jq" not in step["run"]
    assert "deployment_outputs.py shell" in README.read_text()


# --- 7. The publishing-credentials policies carry a location ---------------------------------------------------


def test_publishing_policies_have_a_location() -> None:
    tpl = template(INFRA / "modules" / "functionapp.bicep")
    policies = tpl.resources_of_type("Microsoft.Web/sites/basicPublishingCredentialsPolicies")
    assert {p.body["name"] for p in policies} == {"ftp", "scm"}
    for policy in policies:
        assert policy.body.get("location") == Expr("location"), policy.symbol


# --- 8. The function app is deployed from a package built from .funcignore ------------------------------------

APP_TOP_LEVEL = {"host.json", "function_app.py", "requirements.txt", "functions", "shared_code"}


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("package") / "package"
    result = subprocess.run(
        ["python3", str(SCRIPTS / "build_package.py"), str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return out, result.stdout


def test_the_package_holds_the_app_and_nothing_else(package: tuple[Path, str]) -> None:
    out, _ = package
    assert {entry.name for entry in out.iterdir()} == APP_TOP_LEVEL
    files = {str(path.relative_to(out)) for path in out.rglob("*") if path.is_file()}
    tracked = set(
        subprocess.run(
            ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert files <= tracked, "only files of the repository"
    app_modules = {name for name in tracked if name.startswith("functions/") and name.endswith(".py")}
    assert app_modules <= files
    assert not [name for name in files if "__pycache__" in name or name.endswith(".pyc")]
    assert (out / "host.json").read_bytes() == (REPO / "host.json").read_bytes()


def test_the_package_listing_names_every_file_and_the_size(package: tuple[Path, str]) -> None:
    out, listing = package
    files = [path for path in out.rglob("*") if path.is_file()]
    total = sum(path.stat().st_size for path in files)
    assert f"{len(files)} files, {total} bytes" in listing
    for path in files:
        assert re.search(
            rf"^\s*{path.stat().st_size}  {re.escape(str(path.relative_to(out)))}$", listing, re.M
        )


def test_the_package_folder_must_be_new(package: tuple[Path, str]) -> None:
    out, _ = package
    result = subprocess.run(
        ["python3", str(SCRIPTS / "build_package.py"), str(out)], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0 and "not empty" in result.stderr


def test_the_workflow_deploys_the_package_folder(workflow: dict[str, Any]) -> None:
    build_index, build = _deploy_step(workflow, "build_package.py")
    deploy_index, deploy = _deploy_step(workflow, "Azure/functions-action")
    assert build_index < deploy_index
    assert '"$RUNNER_TEMP/package"' in build["run"]
    assert deploy["with"]["package"] == "${{ runner.temp }}/package"
    assert "respect-funcignore" not in deploy["with"], "it deletes files in place"


# --- 9. azd's inline hooks stop at once, with one line, when az is logged out ----------------------------------


def _azd_hook(name: str, fake_bin: Path, **values: str) -> subprocess.CompletedProcess[str]:
    """The hook run as azd runs inline hooks: `#!/bin/sh`, `set -e`, the text (azure-dev pkg/tools/bash)."""
    script = fake_bin.parent / f"{name}.sh"
    script.write_text(
        "#!/bin/sh\nset -e\n\n# Auto generated file from Azure Developer CLI\n" + _hooks()[name]["run"] + "\n"
    )
    env = _env(fake_bin, AZURE_RESOURCE_GROUP="rg-backupchecks", AZURE_ENV_NAME="prod", **values)
    return _run(["sh", str(script)], env)


def test_preprovision_stops_with_one_line_when_az_is_logged_out(fake_bin: Path) -> None:
    result = _azd_hook("preprovision", fake_bin, FAKE_FAIL="^az ")
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1 and "az login" in result.stderr
    assert not [call for call in _calls(fake_bin) if call.startswith("azd ")]


def test_preprovision_sets_the_client_state_decision_when_logged_in(fake_bin: Path) -> None:
    result = _azd_hook("preprovision", fake_bin, FAKE_GROUP_EXISTS="false")
    assert result.returncode == 0, result.stderr
    assert _calls(fake_bin)[-1] == "azd env set CREATE_GRAPH_CLIENT_STATE true"


def test_preprovision_stops_when_the_az_cli_is_on_another_subscription(fake_bin: Path) -> None:
    result = _azd_hook("preprovision", fake_bin, AZURE_SUBSCRIPTION_ID="sub-2", FAKE_SUBSCRIPTION="sub-1")
    assert result.returncode != 0 and "az account set --subscription sub-2" in result.stderr
    assert not [call for call in _calls(fake_bin) if call.startswith("azd ")]


def test_an_az_failure_never_becomes_a_new_client_state(fake_bin: Path) -> None:
    """Not "true" (which would rotate the webhook secret) when az fails for another reason."""
    result = _run(
        [str(SCRIPTS / "needs-graph-client-state.sh"), "rg-backupchecks", "prod"],
        _env(fake_bin, FAKE_FAIL="^az group exists"),
    )
    assert result.returncode != 0 and result.stdout == ""


def test_postprovision_checks_the_login_first() -> None:
    lines = _hooks()["postprovision"]["run"].split("\n")
    assert lines[0] == "infra/scripts/require-az-login.sh"
    assert "infra/scripts/deploy-database.sh" in lines


# --- 10. Environment names and PostgreSQL versions the resources accept ------------------------------------------

AZD_ENVIRONMENT_NAME = re.compile(r"^[a-zA-Z0-9-\(\)_\.]{1,64}$")  # azure-dev pkg/environment


def _environment_module() -> Any:
    return template(INFRA / "modules" / "environment.bicep")


def _accepted(name: str) -> bool:
    """The module's rule, over its own character list."""
    allowed = _environment_module().variables["allowedCharacters"]
    return all(character in allowed for character in name.lower())


def test_environment_names_come_through_the_check() -> None:
    main = template(MAIN)
    assert main.module("environment").params == {"environmentName": Expr("environmentName")}
    assert main.variables["env"] == Expr("environment.outputs.name")
    assert set(_environment_module().variables["allowedCharacters"]) == set(
        "abcdefghijklmnopqrstuvwxyz0123456789-"
    )
    output = _environment_module().outputs["name"]
    assert (
        isinstance(output, Expr) and "fail(" in output.text and "letters, digits and hyphens" in output.text
    )


@pytest.mark.parametrize("name", ["my_env", "prod.eu", "test(1)", "a_b.c"])
def test_names_azd_allows_but_azure_does_not_are_refused(name: str) -> None:
    assert AZD_ENVIRONMENT_NAME.match(name)
    assert not _accepted(name)


@pytest.mark.parametrize("name", ["prod", "Test-2", "eu-west"])
def test_ordinary_names_pass(name: str) -> None:
    assert _accepted(name)


# ServerVersion of Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01 (azure-rest-api-specs,
# specification/postgresql/.../stable/2024-08-01/FlexibleServers.json).
POSTGRES_VERSIONS_2024_08_01 = {"11", "12", "13", "14", "15", "16"}


def test_postgres_versions_are_ones_the_api_version_accepts() -> None:
    postgres = template(INFRA / "modules" / "postgres.bicep")
    (server,) = postgres.resources_of_type("Microsoft.DBforPostgreSQL/flexibleServers")
    assert server.api_version == "2024-08-01"
    for allowed in (
        postgres.params["serverVersion"].decorators["allowed"],
        template(MAIN).params["postgresVersion"].decorators["allowed"],
    ):
        assert set(allowed) <= POSTGRES_VERSIONS_2024_08_01
