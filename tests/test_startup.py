"""Start-up: bad configuration stops it with one readable line; the import stays lean."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared_code.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parent.parent
VALID = {"DATABASE_URL": "postgresql://app@db.example.test/backupchecks", "AUTH_MODE": "off"}


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AUTH_", "DATABASE_", "WEBSITE_"))}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"AUTH_MODE": "off"}, "DATABASE_URL is required but not set"),
        ({**VALID, "DATABASE_URL": "mysql://db/x"}, "DATABASE_URL must be a postgresql:// URL"),
        ({**VALID, "DATABASE_POOL_SIZE": "many"}, "DATABASE_POOL_SIZE"),
        ({**VALID, "DATABASE_AUTH": "entra"}, "DATABASE_AUTH=entra needs DATABASE_TLS=verify"),
        ({**VALID, "AUTH_MODE": "entra"}, "AUTH_MODE=entra needs AUTH_TENANT_ID and AUTH_AUDIENCE"),
        ({**VALID, "GRAPH_BASE_URL": "graph.example.test"}, "GRAPH_BASE_URL must be an http(s) URL"),
        (
            {
                **VALID,
                "GRAPH_TENANT_ID": "t",
                "GRAPH_CLIENT_ID": "c",
                "GRAPH_CLIENT_SECRET": "@Microsoft.KeyVault(SecretUri=https://kv.example.test/secrets/x)",
            },
            "GRAPH_CLIENT_SECRET is an unresolved Key Vault reference",
        ),
    ],
)
def test_bad_configuration_names_the_setting(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(env)
    assert named in str(raised.value)
    assert "\n" not in str(raised.value)


def test_the_cli_stops_with_one_line_and_exit_code_2() -> None:
    result = run_python(
        "from shared_code.cli import main; raise SystemExit(main(['serve']))", AUTH_MODE="off"
    )
    assert result.returncode == 2
    assert result.stderr.startswith("Bad configuration: DATABASE_URL is required but not set (hint: ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_auth_off_is_refused_when_running_in_azure() -> None:
    result = run_python("import function_app", **VALID, WEBSITE_INSTANCE_ID="abc123")
    assert result.returncode != 0
    assert "AUTH_MODE=off is for local development and is refused when running in Azure" in result.stderr


def test_importing_the_app_does_not_import_heavy_libraries() -> None:
    heavy = [
        "msgraph",
        "kiota_abstractions",
        "azure.identity",
        "jwt",
        "alembic",
        "selectolax",
        "cryptography",
        "reportlab",
        "re2",
        "PIL",
    ]
    code = f"import sys, function_app; print([m for m in {heavy!r} if m in sys.modules])"
    result = run_python(code, **VALID)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_graph_client_secret_needs_its_tenant_and_client_id() -> None:
    with pytest.raises(ConfigError, match="GRAPH_CLIENT_SECRET needs GRAPH_TENANT_ID and GRAPH_CLIENT_ID"):
        load_settings({**VALID, "GRAPH_CLIENT_SECRET": "s3cret"})
    managed_identity = load_settings({**VALID, "GRAPH_MAILBOX": "backups@example.test"})
    assert managed_identity.graph_client_id is None  # the managed identity needs neither


# What start-up may load of shared_code: settings, logging, the HTTP plumbing, the queue names for
# the bindings and the parsers' documentation. Services, their models and the ORM mapping load
# on a route's first call.
SERVICES = (
    "shared_code.admin",
    "shared_code.app_settings",
    "shared_code.audit",
    "shared_code.customers",
    "shared_code.db.models",
    "shared_code.db.settings",  # the ORM's settings row (and with it the PostgreSQL dialect)
    "shared_code.feedback",
    "shared_code.health",
    "shared_code.jobs",
    "shared_code.pipeline_status",
    "shared_code.psa",
    "shared_code.reports",
    "shared_code.runs",
    "shared_code.tickets",
)
MAIL_AT_START_UP = {"shared_code.mail", "shared_code.mail.queue"}


def test_importing_the_app_loads_no_service() -> None:
    code = (
        "import sys, function_app; "
        f"print(sorted(m for m in sys.modules if m.startswith({SERVICES!r}) "
        f"or m.startswith('shared_code.mail') and m not in {MAIL_AT_START_UP!r}))"
    )
    result = run_python(code, **VALID)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
