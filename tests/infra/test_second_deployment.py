"""A deployment into a subscription that never ran these services (issue 27). Numbers are the
issue's items; each test failed on the templates and scripts before the fix.

The shell scripts and azd's hooks run against the recording stand-ins of
``test_first_deployment`` (az, azd, curl, npx, python on PATH).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

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
from tests.infra.test_first_deployment import (
    DATABASE_VALUES,
    README,
    SCRIPTS,
    SITE_VALUES,
    WORKFLOW,
    _azd_hook,
    _calls,
    _env,
    _hooks,
    _run,
    fake_bin,  # noqa: F401 - the fixture, used by name
)
from tests.infra.test_pipeline import load, steps
from tests.infra.test_scripts import db_setup

# --- 1. Resource providers ---------------------------------------------------------------------------------

# Registered in every subscription: never a MissingSubscriptionRegistration.
ALWAYS_REGISTERED = {"Microsoft.Authorization", "Microsoft.Resources"}
# The Flex Consumption plan (Microsoft.Web/serverfarms FC1) runs on Container Apps' platform and needs
# Microsoft.App registered, although no template names a Microsoft.App resource (Microsoft's Flex
# Consumption samples register it next to Microsoft.Web).
NEEDED_WITHOUT_A_RESOURCE = {"Microsoft.App"}


def template_namespaces() -> set[str]:
    """The resource provider of every resource type any template declares or refers to."""
    found: set[str] = set()
    for path in bicep_files():
        for resource in template(path).resources:
            found.add(resource.type.split("/")[0])
    return found


def required_providers() -> set[str]:
    return (template_namespaces() - ALWAYS_REGISTERED) | NEEDED_WITHOUT_A_RESOURCE


def _script_providers() -> set[str]:
    match = re.search(r'^providers="([^"]+)"$', (SCRIPTS / "require-providers.sh").read_text(), re.M)
    assert match, 'require-providers.sh has one providers="..." line'
    return set(match.group(1).split())


def test_templates_use_the_expected_namespaces() -> None:
    # A guard on the derivation itself: the model sees the types, case as Azure documents them.
    assert {"Microsoft.Web", "Microsoft.DBforPostgreSQL", "Microsoft.Insights"} <= template_namespaces()


def test_the_provider_check_covers_every_namespace_of_the_templates() -> None:
    assert _script_providers() == required_providers()


def test_the_readme_registers_every_provider_first() -> None:
    text = README.read_text()
    registered = set(re.findall(r"az provider register --wait --namespace ([\w.]+)", text))
    assert registered == required_providers()
    first_step = text.index("az provider register")
    assert first_step < text.index("entra-app-registrations.sh register")
    assert first_step < text.index("az deployment group create")


def test_preprovision_names_a_missing_provider_in_one_line(fake_bin: Path) -> None:  # noqa: F811
    result = _azd_hook("preprovision", fake_bin, FAKE_UNREGISTERED="Microsoft.App")
    assert result.returncode != 0
    (line,) = result.stderr.strip().splitlines()
    assert "Microsoft.App" in line and "az provider register --wait --namespace Microsoft.App" in line
    assert "Microsoft.Web" not in line
    assert not [call for call in _calls(fake_bin) if call.startswith("azd ")], "stopped before azd env set"


def test_preprovision_passes_when_every_provider_is_registered(fake_bin: Path) -> None:  # noqa: F811
    result = _azd_hook("preprovision", fake_bin)
    assert result.returncode == 0, result.stderr
    checked = {c.split("--namespace ")[1].split()[0] for c in _calls(fake_bin) if "provider show" in c}
    assert checked == required_providers()


def test_the_workflow_checks_the_providers_before_the_bicep_step() -> None:
    deploy = steps(load(WORKFLOW)["jobs"]["deploy"])
    runs = [step.get("run", "") for step in deploy]
    check = next(i for i, run in enumerate(runs) if "require-providers.sh" in run)
    bicep = next(i for i, run in enumerate(runs) if "az deployment group create" in run)
    assert check < bicep


# --- 3. What `azd deploy` uploads from a laptop ----------------------------------------------------------------


def _patterns(path: Path) -> set[str]:
    """Entries of an ignore file, a directory entry with or without its trailing slash alike."""
    lines = (line.strip() for line in path.read_text().splitlines())
    return {line.rstrip("/") for line in lines if line and not line.startswith("#")}


def test_funcignore_holds_every_gitignore_entry() -> None:
    missing = _patterns(REPO / ".gitignore") - _patterns(REPO / ".funcignore")
    assert not missing, f".funcignore lacks {sorted(missing)} (azd reads only .funcignore)"


# What a laptop has after `make test` and `make lint` besides the repository's files.
LAPTOP_LEFTOVERS = {
    ".mypy_cache/3.11/shared_code/config.data.json": 4_000_000,
    ".coverage": 200_000,
    "htmlcov/index.html": 50_000,
    "backupchecks.egg-info/PKG-INFO": 1_000,
    "build/lib/shared_code/config.py": 10_000,
    ".python_packages/lib/site-packages/sqlalchemy/__init__.py": 10_000,
    "shared_code/__pycache__/config.cpython-311.pyc": 20_000,
    ".pytest_cache/v/cache/lastfailed": 1_000,
    ".ruff_cache/0.6.0/123": 1_000,
    ".import_linter_cache/x.json": 1_000,
    ".hypothesis/examples/x": 1_000,
    ".azure/prod/.env": 500,
    ".local/outputs.json": 500,
    "local.settings.json": 500,
    "node_modules/x/index.js": 1_000,
    ".venv/lib/python3.11/site-packages/x.py": 1_000,
}


def _laptop_tree(root: Path) -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout.decode()
    for name in filter(None, tracked.split("\0")):
        source = REPO / name
        if source.is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / name)
    for name, size in LAPTOP_LEFTOVERS.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"x" * size)


def _uploaded(root: Path) -> dict[str, int]:
    """Every file on disk that .funcignore does not exclude (git's gitignore matching, as azd's)."""
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--others", f"--exclude-from={root / '.funcignore'}"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return {name: (root / name).stat().st_size for name in filter(None, listing.split("\0"))}


def test_a_laptop_uploads_the_app_only(tmp_path: Path) -> None:
    root = tmp_path / "laptop"
    _laptop_tree(root)
    uploaded = _uploaded(root)
    package = tmp_path / "package"
    built = subprocess.run(
        ["python3", str(SCRIPTS / "build_package.py"), str(package)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    expected = {str(p.relative_to(package)): p.stat().st_size for p in package.rglob("*") if p.is_file()}
    leftovers = sorted(set(uploaded) & set(LAPTOP_LEFTOVERS))
    assert not leftovers, f"a laptop would upload {leftovers}"
    assert uploaded == expected
    total = sum(uploaded.values())
    print(f"laptop upload: {len(uploaded)} files, {total} bytes; {built.stdout.splitlines()[-1]}")
    assert f"{len(uploaded)} files, {total} bytes" in built.stdout
    assert total < 2_000_000, "the app's own files only"


# --- 8. Smaller findings -----------------------------------------------------------------------------------


def _scripts_named(text: str) -> set[str]:
    return set(re.findall(r"infra/scripts/[\w.-]+\.(?:sh|py)", text))


@pytest.mark.parametrize("path", [PARAM_FILE, MAIN, README, *sorted((INFRA / "modules").glob("*.bicep"))])
def test_every_script_named_in_templates_and_readme_exists(path: Path) -> None:
    for script in _scripts_named(path.read_text()):
        assert (REPO / script).is_file(), f"{path.name} names {script}, which does not exist"


POISON_READER = re.compile(r"(read|re-?queu|list)\w*[^.|]{0,60}poison", re.I)


@pytest.mark.parametrize(
    "path",
    [README, INFRA / "modules" / "roles.bicep", INFRA / "modules" / "storage.bicep"],
    ids=lambda p: p.name,
)
def test_no_text_describes_a_poison_queue_reader(path: Path) -> None:
    """The app never reads the poison queue: a failed mail is re-queued on mail-ingest from its
    failure record (POST /api/ingestion/failures/{id}/retry)."""
    found = POISON_READER.search(path.read_text())
    assert found is None, found.group(0) if found else ""


def test_no_code_reads_the_poison_queue() -> None:
    for folder in ("functions", "shared_code"):
        for path in (REPO / folder).rglob("*.py"):
            if path.name == "devhost.py":  # the local host moves messages there, as Azure's does
                continue
            assert "-poison" not in path.read_text(), path


def test_the_readme_lists_every_queue_the_templates_create() -> None:
    storage = template(INFRA / "modules" / "storage.bicep")
    queues = storage.resources_of_type("Microsoft.Storage/storageAccounts/queueServices/queues")
    defaults = {name: p.default for name, p in storage.params.items() if p.has_default}
    names = set()
    for queue in queues:
        name = queue.body["name"]
        text = name if isinstance(name, str) else name.text
        for param, default in defaults.items():
            text = text.replace("${" + param + "}", str(default))
        names.add(text.strip("'").removeprefix("'"))
    names = {defaults.get(name, name) for name in names}
    assert names == {"mail-ingest", "mail-ingest-poison", "graph-lifecycle"}
    readme = README.read_text()
    for name in names:
        assert f"`{name}`" in readme, name


def test_mail_read_is_the_default_grant() -> None:
    script = (SCRIPTS / "entra-app-registrations.sh").read_text()
    assert 'permission="${2:-Mail.Read}"' in script
    readme = README.read_text()
    assert re.search(r"grant-graph \S+ Mail\.Read\b(?!Write)", readme)
    assert "GRAPH_PROCESSED_FOLDER" in readme, "Mail.ReadWrite only with a processed folder"


def test_rbac_for_applications_starts_with_the_service_principal() -> None:
    readme = README.read_text()
    new_sp = readme.index("New-ServicePrincipal")
    assert new_sp < readme.index("New-ManagementRoleAssignment")
    assert re.search(r"New-ServicePrincipal -AppId \S+ -ObjectId \S+", readme)


UNSET_GROUP = {
    "needs-graph-client-state.sh": ({}, ["", "prod"]),
    "deploy-database.sh": (DATABASE_VALUES, []),
    "deploy-site.sh": (SITE_VALUES, []),
}


@pytest.mark.parametrize("script", sorted(UNSET_GROUP))
def test_an_unset_resource_group_gets_a_hint(fake_bin: Path, script: str) -> None:  # noqa: F811
    values, args = UNSET_GROUP[script]
    values = {name: value for name, value in values.items() if name != "AZURE_RESOURCE_GROUP"}
    result = _run([str(SCRIPTS / script), *args], _env(fake_bin, AZURE_ENV_NAME="prod", **values))
    assert result.returncode == 2
    assert "AZURE_RESOURCE_GROUP" in result.stderr and "azd env set AZURE_RESOURCE_GROUP" in result.stderr
    assert not [call for call in _calls(fake_bin) if call.startswith("az ")]


def test_the_preprovision_hook_hints_at_an_unset_resource_group(fake_bin: Path) -> None:  # noqa: F811
    script = fake_bin.parent / "preprovision.sh"
    script.write_text("#!/bin/sh\nset -e\n" + _hooks()["preprovision"]["run"] + "\n")
    env = _env(fake_bin, AZURE_ENV_NAME="prod")
    result = _run(["sh", str(script)], env)
    assert result.returncode != 0 and "azd env set AZURE_RESOURCE_GROUP" in result.stderr
    assert not [call for call in _calls(fake_bin) if call.startswith("azd ")]


# --- 4. Database connections under scale-out -------------------------------------------------------------


def _value(name: str) -> int:
    """A main.bicep parameter as deployed: main.bicepparam's literal, else the template's default."""
    given = parse_bicepparam(PARAM_FILE).values.get(name)
    return int(given) if given is not None else int(template(MAIN).params[name].default)


def _code_groups() -> tuple[int, int]:
    """Scale groups that scale out (the HTTP group + each queue function) and timer functions."""
    text = "\n".join(path.read_text() for path in sorted((REPO / "functions").glob("*.py")))
    queues, timers = text.count(".queue_trigger("), text.count(".timer_trigger(")
    return 1 + queues, timers


def _arithmetic() -> dict[str, int]:
    variables = template(MAIN).variables
    pool = _value("queueBatchSize") + _value("queueNewBatchThreshold")
    scaled, timers = variables["scaledFunctionGroups"], variables["timerFunctions"]
    users, admins = _value("postgresUserConnections"), _value("postgresAdminConnections")
    maximum = (users - admins - pool * timers) // (pool * scaled)
    return {
        "pool": pool,
        "scaled": scaled,
        "timers": timers,
        "users": users,
        "admins": admins,
        "max": maximum,
    }


def test_the_scale_groups_of_the_arithmetic_are_the_codes() -> None:
    variables = template(MAIN).variables
    assert (variables["scaledFunctionGroups"], variables["timerFunctions"]) == _code_groups()


def test_the_most_instances_cannot_exceed_the_servers_connections() -> None:
    a = _arithmetic()
    assert a["max"] >= 1
    at_most = a["pool"] * (a["scaled"] * a["max"] + a["timers"]) + a["admins"]
    assert at_most <= a["users"], a
    # one more instance per group would not fit: the maximum is the largest that does
    assert a["pool"] * (a["scaled"] * (a["max"] + 1) + a["timers"]) + a["admins"] > a["users"]
    print(f"connection arithmetic: {a} -> at most {at_most} of {a['users']} connections")


def test_the_templates_compute_and_apply_the_arithmetic() -> None:
    main = template(MAIN)
    assert main.variables["databasePoolSize"] == Expr("queueBatchSize + queueNewBatchThreshold")
    assert main.variables["functionMaximumInstanceCount"] == Expr(
        "(postgresUserConnections - postgresAdminConnections - databasePoolSize * timerFunctions)"
        " / (databasePoolSize * scaledFunctionGroups)"
    )
    assert main.module("functionApp").params["maximumInstanceCount"] == Expr("functionMaximumInstanceCount")
    settings = template(INFRA / "modules" / "appsettings.bicep").resource("appSettings").properties
    assert settings["DATABASE_POOL_SIZE"] == Expr("string(databasePoolSize)")
    assert settings["AzureFunctionsJobHost__extensions__queues__batchSize"] == Expr("string(queueBatchSize)")
    assert settings["AzureFunctionsJobHost__extensions__queues__newBatchThreshold"] == Expr(
        "string(queueNewBatchThreshold)"
    )
    host = json.loads((REPO / "host.json").read_text())["extensions"]["queues"]
    assert (host["batchSize"], host["newBatchThreshold"]) == (
        _value("queueBatchSize"),
        _value("queueNewBatchThreshold"),
    ), "local runs (host.json) and Azure (app settings) take the same batch"


def test_the_readme_states_the_arithmetic_with_the_deployed_numbers() -> None:
    a = _arithmetic()
    text = " ".join(README.read_text().split())
    formula = "pool × (scale groups × maximum instances + timers) + admin connections ≤ user connections"
    assert formula in text
    worked = (
        f"{a['pool']} × ({a['scaled']} × {a['max']} + {a['timers']}) + {a['admins']}"
        f" = {a['pool'] * (a['scaled'] * a['max'] + a['timers']) + a['admins']} ≤ {a['users']}"
    )
    assert worked in text, worked


def test_the_pool_never_overflows() -> None:
    from shared_code.config import load_settings
    from shared_code.db.engine import build_engine

    settings = load_settings(
        {"DATABASE_URL": "postgresql://app@db.example.test/x", "AUTH_MODE": "off", "DATABASE_POOL_SIZE": "4"}
    )
    pool = build_engine(settings).pool
    assert (pool.size(), pool._max_overflow) == (4, 0)  # type: ignore[attr-defined]


# --- 5. The app's database role and the schema's owner survive a redeploy -------------------------------------


def _runner(connection: Any) -> Any:
    """db_setup's ``run(sql, **parameters)`` over a SQLAlchemy connection."""

    def run(sql: str, **parameters: Any) -> list[Any]:
        result = connection.execute(text(sql), parameters)
        return [tuple(row) for row in result] if result.returns_rows else []

    return run


# Azure's pgaadauth functions, played in SQL: a role bound to an object id (kept as its comment).
FAKE_PGAADAUTH = """
CREATE FUNCTION pgaadauth_list_principals(is_admin boolean)
RETURNS TABLE(rolname name, objectid text) LANGUAGE sql AS $$
  SELECT r.rolname, shobj_description(r.oid, 'pg_authid') FROM pg_roles r
  WHERE shobj_description(r.oid, 'pg_authid') IS NOT NULL
$$;
CREATE FUNCTION pgaadauth_create_principal_with_oid(name text, oid text, kind text, is_admin boolean, is_mfa boolean)
RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('CREATE ROLE %I LOGIN', name);
  EXECUTE format('COMMENT ON ROLE %I IS %L', name, oid);
  RETURN 'Created role for ' || name;
END $$;
"""


@pytest.fixture
def scratch_cluster(database: Any) -> Any:
    """A database of its own on the test server, with the stand-in pgaadauth functions; every role
    a test makes is named with a unique prefix and dropped afterwards."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    prefix = f"bc27_{uuid.uuid4().hex[:8]}"
    server = create_engine(database.url, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        if not connection.execute(
            text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        ).scalar():
            pytest.skip("the test database user is not a superuser (it plays Azure's pgaadauth)")
        connection.execute(text(f'CREATE ROLE "{prefix}_admins" NOLOGIN'))  # stands in for azure_pg_admin
        for admin in ("a", "b"):
            connection.execute(
                text(f'CREATE ROLE "{prefix}_{admin}" NOLOGIN CREATEROLE IN ROLE "{prefix}_admins"')
            )
        connection.execute(text(f'CREATE DATABASE "{prefix}" OWNER "{prefix}_admins"'))
    # Transactions as the deployment's own connections have them (SET LOCAL ROLE lives in one).
    scratch = create_engine(make_url(database.url).set(database=prefix))
    with scratch.begin() as connection:
        connection.execute(text(FAKE_PGAADAUTH))
    try:
        yield prefix, scratch
    finally:
        scratch.dispose()
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{prefix}" WITH (FORCE)'))
            roles = connection.execute(
                text("SELECT rolname FROM pg_roles WHERE rolname LIKE :p ORDER BY length(rolname) DESC"),
                {"p": f"{prefix}%"},
            ).scalars()
            for role in roles:
                connection.execute(text(f'DROP ROLE "{role}"'))
        server.dispose()


def test_the_app_role_follows_the_identitys_object_id(scratch_cluster: Any) -> None:
    prefix, scratch = scratch_cluster
    role = f"{prefix}_func"
    with scratch.begin() as connection:
        run = _runner(connection)
        assert db_setup.ensure_app_role(run, run, role, "oid-first-app") == "created"
        run(f'GRANT CONNECT ON DATABASE "{prefix}" TO "{role}"')  # the grant step's work
        assert db_setup.ensure_app_role(run, run, role, "OID-FIRST-APP") == "kept"
        # The function app is deleted and created again under its name: a new identity.
        assert db_setup.ensure_app_role(run, run, role, "oid-second-app") == "recreated"
        assert run(db_setup.principal_oid_sql(), name=role) == [("oid-second-app",)]


def test_migrations_by_two_administrators_share_one_owner(scratch_cluster: Any) -> None:
    """The laptop user migrates first, the pipeline's service principal later (or the other way
    round): the second changes tables the first created. Without the owner role it cannot."""
    from sqlalchemy.exc import ProgrammingError

    from shared_code.db.migrate import upgrade

    prefix, scratch = scratch_cluster
    owner, admins = f"{prefix}_owner", f"{prefix}_admins"
    with scratch.connect() as connection:
        connection.execute(text(f'SET SESSION AUTHORIZATION "{prefix}_a"'))
        db_setup.ensure_owner_role(_runner(connection), owner, admins)
        upgrade("0002", connection, role=owner)
        connection.commit()
    with scratch.connect() as connection:
        connection.execute(text(f'SET SESSION AUTHORIZATION "{prefix}_b"'))
        assert db_setup.ensure_owner_role(_runner(connection), owner, admins) == [], "idempotent"
        upgrade("head", connection, role=owner)
        tables = connection.execute(
            text("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")
        ).scalars()
        assert set(tables) == {owner}
        connection.commit()
    # The failure this prevents: administrator b changes a table administrator a owns.
    with scratch.connect() as connection:
        connection.execute(text(f'SET SESSION AUTHORIZATION "{prefix}_a"'))
        connection.execute(text("CREATE TABLE public.made_by_a (id int)"))
        connection.execute(text(f'SET SESSION AUTHORIZATION "{prefix}_b"'))
        with pytest.raises(ProgrammingError, match="must be owner"):
            connection.execute(text("ALTER TABLE public.made_by_a ADD COLUMN x int"))


def test_the_grants_follow_the_owner_role() -> None:
    statements = db_setup.grant_statements("func-x", "backupchecks", "backupchecks_owner")
    assert 'ALTER DEFAULT PRIVILEGES FOR ROLE "backupchecks_owner" IN SCHEMA public' in " ".join(statements)


def test_the_database_step_creates_the_owner_and_migrates_as_it(fake_bin: Path) -> None:  # noqa: F811
    values = {**DATABASE_VALUES, "POSTGRES_CLIENT_FIREWALL_RULE": "none"}
    result = _run([str(SCRIPTS / "deploy-database.sh")], _env(fake_bin, **values))
    assert result.returncode == 0, result.stderr
    calls = [call for call in _calls(fake_bin) if call.startswith("python")]
    order = [
        next(step for step in ("create-role", "owner-role", "migrate", "grant") if step in call)
        for call in calls
        if any(step in call for step in ("create-role", "owner-role", "migrate", " grant"))
    ]
    assert order == ["create-role", "owner-role", "migrate", "grant"]
    migrate = next(call for call in calls if "shared_code migrate" in call)
    assert migrate.endswith("migrate --as-role backupchecks_owner")


# --- 2. Mail on day one: the code waits for the Graph permission -------------------------------------------


def test_the_workflows_first_pass_deploys_no_code_until_the_grant() -> None:
    deploy = steps(load(WORKFLOW)["jobs"]["deploy"])
    (check,) = [step for step in deploy if "require-graph-grant.sh" in step.get("run", "")]
    index = deploy.index(check)
    gated = [
        step
        for step in deploy
        if "build_package.py" in step.get("run", "")
        or "functions-action" in step.get("uses", "")
        or "/api/health" in step.get("run", "")
    ]
    assert len(gated) == 3
    for step in gated:
        assert deploy.index(step) > index
        assert step["if"] == f"steps.{check['id']}.outputs.granted == 'true'"
    assert load(WORKFLOW)["env"]["GRAPH_PERMISSION_GRANTED"] == "${{ vars.GRAPH_PERMISSION_GRANTED }}"


@pytest.mark.parametrize("granted", ["", "true"])
def test_azd_deploys_the_code_only_after_the_grant(fake_bin: Path, granted: str) -> None:  # noqa: F811
    result = _azd_hook("predeploy", fake_bin, GRAPH_PERMISSION_GRANTED=granted)
    if granted:
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode != 0
        (line,) = result.stderr.strip().splitlines()
        assert "grant-graph <AZURE_FUNCTION_APP_PRINCIPAL_ID> Mail.Read" in line
        assert "GRAPH_PERMISSION_GRANTED=true" in line


def test_the_readme_grants_before_the_first_code_deployment() -> None:
    text = README.read_text()
    grant = text.index("entra-app-registrations.sh grant-graph")
    for code_step in ("func azure functionapp publish", "azd deploy"):
        assert grant < text.index(code_step), code_step
    assert "GRAPH_PERMISSION_GRANTED" in text


# --- The README's deployment section, command by command, against the templates and scripts ----------------


def _procedure() -> str:
    text = README.read_text()
    return text[text.index("## First deployment, step by step") : text.index("## Pipeline")]


def _shell_lines() -> list[str]:
    """Every command of the procedure's sh blocks, continuation lines joined, comments dropped."""
    blocks = re.findall(r"```sh\n(.*?)```", _procedure(), re.S)
    lines: list[str] = []
    for block in blocks:
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            command = re.sub(r"\s+#.*$", "", line).strip()
            if command and not command.startswith("#"):
                lines.append(command)
    return lines


def test_every_readme_script_call_is_one_the_script_accepts() -> None:
    entra_commands = set(
        re.findall(r"^  ([a-z-]+)\) cmd_", (SCRIPTS / "entra-app-registrations.sh").read_text(), re.M)
    )
    calls = re.findall(r"infra/scripts/entra-app-registrations\.sh ([a-z-]+)", _procedure())
    assert calls and set(calls) <= entra_commands, set(calls) - entra_commands
    for line in _shell_lines():
        for script in re.findall(r"infra/scripts/[\w.-]+", line):
            assert (REPO / script).is_file(), line


def test_every_variable_the_parameters_read_is_exported_before_the_bicep_step() -> None:
    lines = _shell_lines()
    bicep = next(i for i, line in enumerate(lines) if line.startswith("az deployment group create"))
    exported = {
        name
        for line in lines[:bicep]
        if line.startswith("export ")
        for name in re.findall(r"\b([A-Z_]+)=", line)
    }
    wanted = set(re.findall(r"readEnvironmentVariable\('([A-Z_]+)'", PARAM_FILE.read_text()))
    assert wanted <= exported, wanted - exported
    assert "--parameters infra/main.bicepparam" in lines[bicep]


def test_every_variable_a_later_command_uses_is_an_output_or_exported() -> None:
    lines = _shell_lines()
    outputs = set(template(MAIN).outputs)
    known = {
        name for line in lines if line.startswith("export ") for name in re.findall(r"\b([A-Z_]+)=", line)
    }
    after_outputs = next(i for i, line in enumerate(lines) if "deployment_outputs.py shell" in line)
    for line in lines[after_outputs + 1 :]:
        for name in re.findall(r"\$\{?([A-Z][A-Z0-9_]+)", line):
            assert name in outputs | known, f"{name} in {line!r}"
    for placeholder in re.findall(r"<([A-Z][A-Z0-9_]+)>", _procedure()):
        assert placeholder in outputs | {"SITE_CLIENT_ID"}, placeholder


def test_the_deploying_identity_may_assign_exactly_the_templates_roles() -> None:
    text = _procedure()
    condition = re.search(r'--condition "(.*)"', text)
    assert condition
    granted = set(
        re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", condition.group(1))
    )
    assert granted == set(template(INFRA / "modules" / "roles.bicep").variables["roleIds"].values())


def test_the_repository_variables_listed_are_the_ones_the_workflow_reads() -> None:
    text = _procedure()
    step = text[text.index("3. **Repository variables**") : text.index("4. **First pass")]
    listed = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", step))
    used = set(re.findall(r"vars\.([A-Z][A-Z0-9_]+)", WORKFLOW.read_text()))
    assert used == listed, (used - listed, listed - used)


def test_the_readme_names_the_code_deployments_the_templates_make_possible() -> None:
    lines = _shell_lines()
    publish = next(line for line in lines if "func azure functionapp publish" in line)
    assert '"$AZURE_FUNCTION_APP_NAME"' in publish and "AZURE_FUNCTION_APP_NAME" in template(MAIN).outputs
    assert any("build_package.py .local/package" in line for line in lines)
