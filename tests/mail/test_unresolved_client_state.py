"""An unresolved Key Vault reference for the webhook's clientState (App Service hands the reference
text itself to the app) disables the webhooks only: they answer 503 saying why, the app starts,
health and the status banner report it, the rest runs (issue 27, item 6)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from functions import graph as graph_functions
from shared_code import health, pipeline_status
from shared_code.config import Settings, get_settings, load_settings
from shared_code.mail.queue import INGEST_QUEUE
from tests.support.fake_graph import CLIENT_STATE

ROOT = Path(__file__).resolve().parents[2]
VALID = {"DATABASE_URL": "postgresql://app@db.example.test/backupchecks", "AUTH_MODE": "off"}

REFERENCE = "@Microsoft.KeyVault(SecretUri=https://kv-prod.vault.azure.net/secrets/graph-client-state)"


def test_the_reference_is_no_start_up_error_and_no_secret() -> None:
    settings = load_settings({**VALID, "GRAPH_CLIENT_STATE": REFERENCE})
    assert settings.graph_client_state is None, "never used as the clientState"
    (problem,) = settings.configuration_problems
    assert problem.startswith("GRAPH_CLIENT_STATE is an unresolved Key Vault reference")
    assert "Key Vault Secrets Officer" in problem


def test_the_app_starts_with_every_function() -> None:
    code = "import function_app; print(len(function_app.app.get_functions()))"
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("AUTH_", "DATABASE_", "WEBSITE_", "GRAPH_"))
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, **VALID, "GRAPH_CLIENT_STATE": REFERENCE},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.split()[0]) > 20


@pytest.fixture
def unresolved(monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The session's settings as App Service would give them with the reference unresolved."""
    settings = load_settings(
        {
            **{k: v for k, v in get_settings().model_dump(by_alias=True).items() if isinstance(v, str)},
            "GRAPH_CLIENT_STATE": REFERENCE,
        }
    )
    for module in (graph_functions, health, pipeline_status):
        monkeypatch.setattr(module, "get_settings", lambda: settings)
    return settings


def test_the_webhook_answers_503_saying_why_and_queues_nothing(queues: Any, unresolved: Settings) -> None:
    response = queues.request(
        "POST",
        "/api/graph/notifications",
        body={
            "value": [
                {"subscriptionId": "sub-1", "clientState": CLIENT_STATE, "resourceData": {"id": "AAMkA=1"}}
            ]
        },
    )
    assert response.status == 503
    error = response.json()["error"]
    assert error["code"] == "unavailable"
    assert "GRAPH_CLIENT_STATE is an unresolved Key Vault reference" in error["message"]
    assert REFERENCE not in response.body.decode()
    assert not queues.queues.get(INGEST_QUEUE)


def test_health_and_the_status_banner_report_it_and_the_rest_runs(api: Any, unresolved: Settings) -> None:
    body = api.get("/api/health", role=None).json()
    assert body["status"] == "attention" and body["database"] == "ok"
    assert body["configuration"] == unresolved.configuration_problems
    status = api.get("/api/status", role="Viewer")
    assert status.status == 200
    attention = status.json()["attention"]
    assert attention[0] == {
        "code": "configuration_problem",
        "severity": "danger",
        "message": unresolved.configuration_problems[0],
    }
    assert api.get("/api/ingestion/failures", role="Viewer").status == 200
