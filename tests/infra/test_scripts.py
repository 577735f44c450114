"""The deployment scripts in infra/scripts: syntax, shellcheck where installed, and behaviour
that runs here (site config, the clientState decision against a stand-in az CLI, the database
grants against the test session's real PostgreSQL)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import create_engine, text

from tests.infra.bicep_model import INFRA, REPO

SCRIPTS = INFRA / "scripts"
SHELL_SCRIPTS = sorted(SCRIPTS.glob("*.sh"))


def _db_setup() -> ModuleType:
    spec = importlib.util.spec_from_file_location("db_setup", SCRIPTS / "db_setup.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


db_setup = _db_setup()


@pytest.mark.parametrize("path", SHELL_SCRIPTS, ids=lambda p: p.name)
def test_shell_syntax(path: Path) -> None:
    result = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert path.read_text().startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in path.read_text()
    assert os.access(path, os.X_OK)


@pytest.mark.parametrize("path", SHELL_SCRIPTS, ids=lambda p: p.name)
def test_shellcheck(path: Path) -> None:
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is missing: `make test` installs it (scripts/ensure-test-tools.sh)"
    result = subprocess.run([shellcheck, str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


# --- write-site-config.sh ---------------------------------------------------------------------------------


def _run(script: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPTS / script), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_site_config(tmp_path: Path) -> None:
    out = tmp_path / "config.json"
    env = {
        "PATH": os.environ["PATH"],
        "API_BASE_URL": "https://func-prod-abc.azurewebsites.net/",
        "AUTH_TENANT_ID": "tenant-id",
        "SITE_CLIENT_ID": "site-client-id",
        "API_CLIENT_ID": "api-client-id",
    }
    result = _run("write-site-config.sh", str(out), env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(out.read_text()) == {
        "apiBaseUrl": "https://func-prod-abc.azurewebsites.net/api",
        "tenantId": "tenant-id",
        "clientId": "site-client-id",
        "apiScope": "api://api-client-id/user_impersonation",
    }


def test_site_config_names_a_missing_value(tmp_path: Path) -> None:
    result = _run("write-site-config.sh", str(tmp_path / "c.json"), env={"PATH": os.environ["PATH"]})
    assert result.returncode == 2
    assert "API_BASE_URL is not set" in result.stderr
    assert not (tmp_path / "c.json").exists()


# --- needs-graph-client-state.sh, against a stand-in az --------------------------------------------------------

FAKE_AZ = """#!/usr/bin/env bash
# Stand-in for the az CLI: answers from FAKE_* variables, logs its arguments.
echo "$*" >> "$FAKE_LOG"
case "$1 $2" in
  "group exists") echo "$FAKE_GROUP_EXISTS" ;;
  "keyvault list") echo "$FAKE_VAULT_ID" ;;
  "resource show") [ "$FAKE_SECRET_EXISTS" = true ] || { echo "not found" >&2; exit 3; } ;;
  *) echo "unexpected: $*" >&2; exit 99 ;;
esac
"""


@pytest.mark.parametrize(
    ("group", "vault", "secret", "expected"),
    [
        ("false", "", "false", "true"),
        ("true", "", "false", "true"),
        (
            "true",
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/kv1",
            "false",
            "true",
        ),
        (
            "true",
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/kv1",
            "true",
            "false",
        ),
    ],
    ids=["no-group", "no-vault", "no-secret", "secret-exists"],
)
def test_graph_client_state_is_created_only_when_missing(
    tmp_path: Path, group: str, vault: str, secret: str, expected: str
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "az").write_text(FAKE_AZ)
    (bin_dir / "az").chmod(0o755)
    log = tmp_path / "az.log"
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "FAKE_LOG": str(log),
        "FAKE_GROUP_EXISTS": group,
        "FAKE_VAULT_ID": vault,
        "FAKE_SECRET_EXISTS": secret,
    }
    result = _run("needs-graph-client-state.sh", "rg-backupchecks", "Prod", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected
    calls = log.read_text()
    if vault:
        assert "azd-env-name\"=='prod'" in calls, "the vault is found by the environment's tag (lower case)"
        assert f"{vault}/secrets/graph-client-state" in calls
    assert "secret show" not in calls, "the secret's value is never read"


def test_graph_client_state_usage() -> None:
    result = _run("needs-graph-client-state.sh", env={"PATH": os.environ["PATH"]})
    assert result.returncode == 2
    assert "usage" in result.stderr


# --- db_setup.py ---------------------------------------------------------------------------------------------


def test_quote_ident() -> None:
    assert db_setup.quote_ident("func-prod-abc") == '"func-prod-abc"'
    assert db_setup.quote_ident('we"ird name') == '"we""ird name"'
    with pytest.raises(ValueError):
        db_setup.quote_ident("")


def test_admin_url_encodes_display_names() -> None:
    url = db_setup.admin_url("psql.postgres.database.azure.com", "backupchecks", "Backupchecks DB admins")
    assert (
        url
        == "postgresql+pg8000://Backupchecks%20DB%20admins@psql.postgres.database.azure.com:5432/backupchecks"
    )


def test_role_creation_is_parameterised() -> None:
    assert (
        db_setup.create_role_sql()
        == "SELECT * FROM pgaadauth_create_principal_with_oid(:name, :oid, 'service', false, false)"
    )
    assert ":name" in db_setup.principal_oid_sql()


def test_grants_are_rows_only() -> None:
    statements = " ".join(db_setup.grant_statements("func-x", "backupchecks", "gh-deploy"))
    for forbidden in (
        "ALL PRIVILEGES",
        "CREATE ON SCHEMA",
        "TRUNCATE",
        "SUPERUSER",
        "OWNER",
        "REFERENCES",
        "TRIGGER",
    ):
        assert forbidden not in statements.upper()


def test_main_prints_the_admin_url(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POSTGRES_HOST", "h.example")
    monkeypatch.setenv("POSTGRES_DATABASE", "db")
    monkeypatch.setenv("POSTGRES_ADMIN_NAME", "gh-deploy")
    assert db_setup.main(["admin-url"]) == 0
    assert capsys.readouterr().out.strip() == "postgresql+pg8000://gh-deploy@h.example:5432/db"


def test_main_names_a_missing_output(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POSTGRES_HOST", raising=False)
    with pytest.raises(SystemExit, match="POSTGRES_HOST is not set"):
        db_setup.main(["grant"])


def test_grants_on_a_real_database(database) -> None:  # type: ignore[no-untyped-def]
    """The grant statements give the app role row access to every table, now and after later
    migrations, and no schema changes (the test session's PostgreSQL plays the Azure server)."""
    engine = create_engine(database.url)
    role = f"bc_infra_test_{uuid.uuid4().hex[:8]}"
    try:
        with engine.begin() as connection:
            admin = connection.execute(text("SELECT current_user")).scalar_one()
            database_name = connection.execute(text("SELECT current_database()")).scalar_one()
            can_create_roles = connection.execute(
                text("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user")
            ).scalar_one()
            if not can_create_roles:
                pytest.skip("the test database user cannot create roles")
            connection.execute(text(f"CREATE ROLE {db_setup.quote_ident(role)} LOGIN"))
            for statement in db_setup.grant_statements(role, database_name, admin):
                connection.execute(text(statement))
        with engine.connect() as connection:
            tables = (
                connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
                .scalars()
                .all()
            )
            assert "alembic_version" in tables and len(tables) > 1
            for table in tables:
                assert connection.execute(
                    text("SELECT has_table_privilege(:r, :t, 'SELECT,INSERT,UPDATE,DELETE')"),
                    {"r": role, "t": f"public.{table}"},
                ).scalar_one(), table
                assert not connection.execute(
                    text(
                        "SELECT has_table_privilege(:r, :t, 'TRUNCATE') OR has_table_privilege(:r, :t, 'REFERENCES')"
                    ),
                    {"r": role, "t": f"public.{table}"},
                ).scalar_one(), table
            assert connection.execute(
                text("SELECT has_database_privilege(:r, current_database(), 'CONNECT')"), {"r": role}
            ).scalar_one()
            version = connection.execute(text("SHOW server_version_num")).scalar_one()
            if int(version) >= 150000:  # public no longer grants CREATE to everyone
                assert not connection.execute(
                    text("SELECT has_schema_privilege(:r, 'public', 'CREATE')"), {"r": role}
                ).scalar_one()
        # A table a later migration adds is covered by the default privileges (rolled back).
        with engine.connect() as connection:
            transaction = connection.begin()
            connection.execute(text("CREATE TABLE public.bc_infra_probe (id serial PRIMARY KEY)"))
            assert connection.execute(
                text(
                    "SELECT has_table_privilege(:r, 'public.bc_infra_probe', 'SELECT,INSERT,UPDATE,DELETE')"
                ),
                {"r": role},
            ).scalar_one()
            assert connection.execute(
                text("SELECT has_sequence_privilege(:r, 'public.bc_infra_probe_id_seq', 'USAGE')"),
                {"r": role},
            ).scalar_one()
            transaction.rollback()
    finally:
        with engine.begin() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
            ).first()
            if exists:
                connection.execute(text(f"DROP OWNED BY {db_setup.quote_ident(role)}"))
                connection.execute(text(f"DROP ROLE {db_setup.quote_ident(role)}"))
        engine.dispose()


def test_site_redirect_registers_the_msal_redirect_bridge(tmp_path: Path) -> None:
    """msal-browser 5 comes back to web/redirect.html: that exact URL must be a SPA redirect URI."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "az.log"
    (bin_dir / "az").write_text('#!/bin/sh\nprintf "%s\\n" "$*" >> "$FAKE_LOG"\necho object-id\n')
    (bin_dir / "az").chmod(0o755)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_LOG": str(log)}
    result = _run(
        "entra-app-registrations.sh", "site-redirect", "site-app-id", "https://site.example.net", env=env
    )
    assert result.returncode == 0, result.stderr
    patch = next(line for line in log.read_text().splitlines() if "--method PATCH" in line)
    body = json.loads(patch.split("--body ", 1)[1].rsplit(" --output", 1)[0])
    assert body == {
        "spa": {"redirectUris": ["https://site.example.net/", "https://site.example.net/redirect.html"]}
    }
