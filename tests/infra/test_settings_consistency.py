"""The Function App's app settings in the Bicep and the app's Settings model agree.

Every environment variable ``shared_code/config.py`` reads is set by the templates unless the
field is marked ``not_deployed`` (with its reason); the templates set nothing else except the
Functions platform's own settings listed here, each with its reason.
"""

from __future__ import annotations

from typing import Any

from shared_code.config import Settings, load_settings
from tests.infra.bicep_model import INFRA, Expr, template

# Settings the Functions host / platform reads, not the app: name -> why the templates set it.
PLATFORM_SETTINGS = {
    "AzureWebJobsStorage__accountName": "Functions host: identity-based AzureWebJobsStorage (the account)",
    "AzureWebJobsStorage__credential": "Functions host: identity-based AzureWebJobsStorage (managed identity)",
    "APPLICATIONINSIGHTS_CONNECTION_STRING": "Functions host: where telemetry goes (no instrumentation key)",
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING": "Functions host: telemetry with Entra ID (local auth is off)",
    "AzureFunctionsJobHost__extensions__queues__batchSize": "Functions host: queue batch (connection arithmetic)",
    "AzureFunctionsJobHost__extensions__queues__newBatchThreshold": "Functions host: next batch (connection arithmetic)",
}


def deployed_settings() -> dict[str, Any]:
    resource = template(INFRA / "modules/appsettings.bicep").resource("appSettings")
    assert resource.type == "Microsoft.Web/sites/config" and resource.body["name"] == "appsettings"
    return resource.properties


def app_settings() -> dict[str, str | None]:
    """Env var name -> not_deployed reason (None when it must be deployed)."""
    result: dict[str, str | None] = {}
    for name, field in Settings.model_fields.items():
        assert field.alias, f"Settings.{name} has no alias (its environment variable)"
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        result[field.alias] = extra.get("not_deployed")
    return result


def test_every_setting_the_app_needs_is_deployed() -> None:
    needed = {alias for alias, reason in app_settings().items() if reason is None}
    missing = needed - set(deployed_settings())
    assert missing == set(), (
        f"set these in infra/modules/appsettings.bicep (or mark them not_deployed): {missing}"
    )


def test_nothing_else_is_deployed() -> None:
    allowed = {alias for alias, reason in app_settings().items() if reason is None} | set(PLATFORM_SETTINGS)
    extra = set(deployed_settings()) - allowed
    assert extra == set(), f"app settings no Settings field reads (and no listed platform setting): {extra}"


def test_not_deployed_settings_are_not_deployed() -> None:
    marked = {alias for alias, reason in app_settings().items() if reason is not None}
    assert marked & set(deployed_settings()) == set()


def test_not_deployed_reasons_are_given() -> None:
    for alias, reason in app_settings().items():
        assert reason is None or reason.strip(), f"{alias}: not_deployed needs a reason"


def test_platform_list_is_current() -> None:
    assert set(PLATFORM_SETTINGS) <= set(deployed_settings()), "stale entries in PLATFORM_SETTINGS"
    assert set(PLATFORM_SETTINGS).isdisjoint(app_settings()), "a platform setting is also a Settings field"


def _sample(name: str) -> str:
    """A plausible value for a setting the templates compute."""
    samples = {
        "DATABASE_URL": "postgresql+pg8000://func-prod-abc@psql-prod-abc.postgres.database.azure.com:5432/backupchecks",
        "AUTH_TENANT_ID": "tenant-guid",
        "AUTH_AUDIENCE": "api-client-guid",
        "GRAPH_MAILBOX": "backups@example.com",
        "GRAPH_CLIENT_STATE": "resolved-from-key-vault",
        "GRAPH_NOTIFICATION_URL": "https://func-prod-abc.azurewebsites.net/api/graph/notifications",
        "GRAPH_LIFECYCLE_URL": "https://func-prod-abc.azurewebsites.net/api/graph/lifecycle",
        "AzureWebJobsStorage__queueServiceUri": "https://stprodabc.queue.core.windows.net/",
        "KEY_VAULT_URL": "https://kvprodabc.vault.azure.net/",
        "SITE_BASE_URL": "https://stapp-prod-abc.azurestaticapps.net",
        "DATABASE_POOL_SIZE": "4",
    }
    return samples.get(name, "sample")


def test_the_deployed_settings_pass_the_apps_validation() -> None:
    """The combination the templates deploy starts the app in Azure (entra + verified TLS, auth on)."""
    environ = {
        name: (_sample(name) if isinstance(value, Expr) else str(value))
        for name, value in deployed_settings().items()
        if name not in PLATFORM_SETTINGS
    }
    environ["WEBSITE_SITE_NAME"] = "func-prod-abc"  # set by the platform in Azure
    settings = load_settings(environ)
    assert settings.running_in_azure
    assert settings.database_auth == "entra"
    assert settings.database_tls == "verify"
    assert settings.auth_mode == "entra"
    assert settings.settings_encryption_key is None, "Azure keeps the Autotask secret in Key Vault"
    assert settings.key_vault_url


def test_the_webhook_urls_are_the_graph_routes() -> None:
    settings = deployed_settings()
    assert settings["GRAPH_NOTIFICATION_URL"].text == "'${apiBaseUrl}/api/graph/notifications'"
    assert settings["GRAPH_LIFECYCLE_URL"].text == "'${apiBaseUrl}/api/graph/lifecycle'"
