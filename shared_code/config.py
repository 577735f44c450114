"""Every environment variable the app reads, in one validated model.

Nothing else in the code reads ``os.environ``: ask ``get_settings()``. A bad or
missing setting stops start-up with one line that names it (``ConfigError``).
The Azure platform sets the ``WEBSITE_*`` markers; everything else comes from the
Function App's app settings (``infra/``) or ``local.settings.json``.
"""

from __future__ import annotations

import functools
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AliasChoices,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonDict
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict


def not_deployed(reason: str) -> JsonDict:
    """Marks a setting the Azure templates intentionally leave unset (checked by tests/infra)."""
    return {"not_deployed": reason}


def _unresolved_reference(value: SecretStr) -> bool:
    # App Service passes the reference text itself when a Key Vault reference cannot be resolved.
    return value.get_secret_value().startswith("@Microsoft.KeyVault(")


class ConfigError(RuntimeError):
    """Start-up configuration is missing or malformed; the message names the setting."""


class Settings(BaseSettings):
    """The app's configuration. Field aliases are the environment variable names."""

    model_config = SettingsConfigDict(
        extra="ignore", populate_by_name=True, case_sensitive=True, env_ignore_empty=True
    )
    _unresolved: tuple[str, ...] = PrivateAttr(())

    # --- database -------------------------------------------------------------------------------
    database_url: str = Field(
        alias="DATABASE_URL",
        description="SQLAlchemy URL of the PostgreSQL database (driver pg8000), "
        "e.g. postgresql+pg8000://user@host:5432/backupchecks. No password when DATABASE_AUTH=entra.",
    )
    database_auth: Literal["password", "entra"] = Field(
        "password",
        alias="DATABASE_AUTH",
        description="'password': the URL's password (or trust auth); 'entra': an Entra ID access token "
        "from the app's managed identity is the password (Azure Database for PostgreSQL).",
    )
    database_tls: Literal["off", "verify"] = Field(
        "off",
        alias="DATABASE_TLS",
        description="'verify': TLS with the server certificate and host name verified. Required for entra.",
    )
    database_pool_size: int = Field(
        10,
        alias="DATABASE_POOL_SIZE",
        ge=1,
        le=50,
        description="The most database connections one process (in Azure: one instance) keeps open. "
        "The deployment sets it from its connection arithmetic (infra/README.md).",
    )

    # --- HTTP API authentication (Entra ID) ----------------------------------------------------------
    auth_mode: Literal["entra", "off"] = Field(
        "entra",
        alias="AUTH_MODE",
        description="'off' is for local development only (every caller is a local admin); "
        "refused when running in Azure.",
    )
    auth_tenant_id: str | None = Field(None, alias="AUTH_TENANT_ID", description="Entra tenant id (GUID).")
    auth_audience: str | None = Field(
        None, alias="AUTH_AUDIENCE", description="The API app registration's client id or App ID URI."
    )
    auth_authority_host: str = Field(
        "https://login.microsoftonline.com",
        alias="AUTH_AUTHORITY_HOST",
        description="Entra authority host (national clouds use others).",
        json_schema_extra=not_deployed("public cloud default"),
    )
    auth_jwks_url: str | None = Field(
        None,
        alias="AUTH_JWKS_URL",
        description="Override of the tenant's JWKS URL (default derived from the authority and tenant).",
        json_schema_extra=not_deployed("derived from tenant; tests override"),
    )
    auth_issuer: str | None = Field(
        None,
        alias="AUTH_ISSUER",
        description="Override of the expected token issuer (default {authority}/{tenant}/v2.0).",
        json_schema_extra=not_deployed("derived from tenant; tests override"),
    )

    # --- Microsoft Graph mail source ------------------------------------------------------------------
    graph_tenant_id: str | None = Field(
        None,
        alias="GRAPH_TENANT_ID",
        description="With GRAPH_CLIENT_SECRET: the app registration's tenant.",
        json_schema_extra=not_deployed("only with a client secret; Azure uses the managed identity"),
    )
    graph_client_id: str | None = Field(
        None,
        alias="GRAPH_CLIENT_ID",
        description="With GRAPH_CLIENT_SECRET: the app registration's client id.",
        json_schema_extra=not_deployed("only with a client secret; Azure uses the managed identity"),
    )
    graph_client_secret: SecretStr | None = Field(
        None,
        alias="GRAPH_CLIENT_SECRET",
        description="App-only client secret; when empty the managed identity is used.",
        json_schema_extra=not_deployed("managed identity in Azure"),
    )
    graph_mailbox: str | None = Field(None, alias="GRAPH_MAILBOX", description="UPN or id of the mailbox.")
    graph_folder: str = Field(
        "inbox",
        alias="GRAPH_FOLDER",
        description="Mail folder to watch.",
        json_schema_extra=not_deployed("default fits"),
    )
    graph_processed_folder: str | None = Field(
        None,
        alias="GRAPH_PROCESSED_FOLDER",
        description="If set, processed mail is moved to this folder of the mailbox.",
        json_schema_extra=not_deployed("optional feature"),
    )
    graph_base_url: str = Field(
        "https://graph.microsoft.com/v1.0",
        alias="GRAPH_BASE_URL",
        json_schema_extra=not_deployed("public cloud default"),
    )
    graph_authority_host: str = Field(
        "https://login.microsoftonline.com",
        alias="GRAPH_AUTHORITY_HOST",
        json_schema_extra=not_deployed("public cloud default"),
    )
    graph_disable_instance_discovery: bool = Field(
        False,
        alias="GRAPH_DISABLE_INSTANCE_DISCOVERY",
        json_schema_extra=not_deployed("only for a Graph stand-in"),
    )
    graph_ca_bundle: str | None = Field(
        None,
        alias="GRAPH_CA_BUNDLE",
        description="CA bundle that Graph's and the authority's certificates are verified against "
        "(a Graph stand-in on loopback).",
        json_schema_extra=not_deployed("only for a Graph stand-in"),
    )
    graph_client_state: SecretStr | None = Field(
        None,
        alias="GRAPH_CLIENT_STATE",
        description="Shared secret Graph echoes in every notification (webhook trust).",
    )
    graph_notification_url: str | None = Field(
        None, alias="GRAPH_NOTIFICATION_URL", description="Public URL of POST /api/graph/notifications."
    )
    graph_lifecycle_url: str | None = Field(
        None, alias="GRAPH_LIFECYCLE_URL", description="Public URL of POST /api/graph/lifecycle."
    )

    # --- Storage queues --------------------------------------------------------------------------------
    storage_connection_string: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("AzureWebJobsStorage", "STORAGE_CONNECTION_STRING"),
        alias="AzureWebJobsStorage",
        description="Local/Azurite connection string; in Azure the identity-based settings below are used.",
        json_schema_extra=not_deployed("local connection string; Azure uses the identity-based settings"),
    )
    storage_queue_service_uri: str | None = Field(
        None,
        alias="AzureWebJobsStorage__queueServiceUri",
        description="Queue endpoint for identity-based access (set with __credential=managedidentity).",
    )

    # --- secrets -----------------------------------------------------------------------------------------
    key_vault_url: str | None = Field(
        None,
        alias="KEY_VAULT_URL",
        description="Key Vault for the PSA secrets: the Autotask secret, the ConnectWise private key (Azure).",
    )
    settings_encryption_key: SecretStr | None = Field(
        None,
        alias="SETTINGS_ENCRYPTION_KEY",
        description="Fernet key that encrypts the PSA secrets in the database when no Key Vault is set.",
        json_schema_extra=not_deployed("local only; Azure keeps the secret in Key Vault"),
    )
    key_vault_ca_bundle: str | None = Field(
        None,
        alias="KEY_VAULT_CA_BUNDLE",
        description="CA bundle the Key Vault's certificate is verified against (a Key Vault stand-in on loopback).",
        json_schema_extra=not_deployed("only for a Key Vault stand-in"),
    )

    # --- Autotask -----------------------------------------------------------------------------------------
    autotask_zone_lookup_url: str = Field(
        "https://webservices.autotask.net/ATServicesRest",
        alias="AUTOTASK_ZONE_LOOKUP_URL",
        description="Where the Autotask zone of the API user is looked up (zoneInformation).",
        json_schema_extra=not_deployed("Autotask's own default"),
    )
    autotask_timeout_seconds: float = Field(
        30.0,
        alias="AUTOTASK_TIMEOUT_SECONDS",
        gt=0,
        le=120,
        description="How long one PSA request (Autotask or ConnectWise) may take before it counts as failed.",
        json_schema_extra=not_deployed("default fits"),
    )

    # --- operator site -----------------------------------------------------------------------------------
    site_base_url: str | None = Field(
        None, alias="SITE_BASE_URL", description="Public URL of the operator site (links in ticket texts)."
    )

    # --- behaviour ---------------------------------------------------------------------------------------
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", alias="LOG_LEVEL", json_schema_extra=not_deployed("default fits")
    )
    parse_budget_seconds: float = Field(
        3.0,
        alias="PARSE_BUDGET_SECONDS",
        gt=0,
        le=300,
        description="CPU seconds one mail's parse may use; a mail that needs more is stored unparsed "
        "('parse took too long') instead of holding a worker.",
        json_schema_extra=not_deployed("default fits"),
    )
    missed_run_grace_minutes: int = Field(
        120,
        alias="MISSED_RUN_GRACE_MINUTES",
        ge=0,
        le=7 * 24 * 60,
        json_schema_extra=not_deployed("default fits"),
    )

    # --- customer reports ----------------------------------------------------------------------------
    report_msp_name: str = Field(
        "Backupchecks",
        alias="REPORT_MSP_NAME",
        min_length=1,
        max_length=200,
        description="The MSP's name, on every customer report and in the mails that send them.",
        json_schema_extra=not_deployed("optional: set it on the Function App to show the MSP's name"),
    )
    report_send_hour: int = Field(
        7,
        alias="REPORT_SEND_HOUR",
        ge=0,
        le=23,
        description="Hour of the 1st of each month (UI timezone) from which last month's reports are mailed.",
        json_schema_extra=not_deployed("default fits"),
    )

    # --- feedback screenshots ----------------------------------------------------------------------------
    feedback_max_screenshot_bytes: int = Field(
        5 * 1024 * 1024,
        alias="FEEDBACK_MAX_SCREENSHOT_BYTES",
        ge=1024,
        le=20 * 1024 * 1024,
        description="Largest screenshot accepted, in bytes (each file of an upload).",
        json_schema_extra=not_deployed("default fits"),
    )
    feedback_max_screenshots: int = Field(
        10,
        alias="FEEDBACK_MAX_SCREENSHOTS",
        ge=1,
        le=20,
        description="Most screenshots one feedback item or reply may have.",
        json_schema_extra=not_deployed("default fits"),
    )
    feedback_max_image_pixels: int = Field(
        40_000_000,
        alias="FEEDBACK_MAX_IMAGE_PIXELS",
        ge=10_000,
        le=100_000_000,
        description="Largest screenshot accepted, in pixels (width x height), read from the image itself.",
        json_schema_extra=not_deployed("default fits"),
    )

    # --- platform markers (set by Azure, never by us) -----------------------------------------------------
    website_instance_id: str | None = Field(
        None, alias="WEBSITE_INSTANCE_ID", json_schema_extra=not_deployed("set by the platform")
    )
    website_site_name: str | None = Field(
        None, alias="WEBSITE_SITE_NAME", json_schema_extra=not_deployed("set by the platform")
    )

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: str) -> str:
        scheme = urlsplit(value).scheme
        if scheme not in {"postgresql", "postgresql+pg8000", "postgres"}:
            raise ValueError("must be a postgresql:// URL")
        return value

    @field_validator(
        "auth_authority_host",
        "graph_base_url",
        "graph_authority_host",
        "auth_jwks_url",
        "key_vault_url",
        "autotask_zone_lookup_url",
        "graph_notification_url",
        "graph_lifecycle_url",
        "site_base_url",
        "storage_queue_service_uri",
    )
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in {"http", "https"}:
            raise ValueError("must be an http(s) URL")
        return value

    @field_validator("graph_client_secret")
    @classmethod
    def _resolved_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and _unresolved_reference(value):
            raise ValueError("is an unresolved Key Vault reference (check the app's access to the vault)")
        return value

    @model_validator(mode="after")
    def _webhook_secret_unavailable(self) -> Settings:
        """An unresolved clientState reference disables the webhooks only (503 saying why, health
        reports it): it must not stop the catch-up, the API and every other function."""
        if self.graph_client_state is not None and _unresolved_reference(self.graph_client_state):
            self.graph_client_state = None
            self._unresolved = ("GRAPH_CLIENT_STATE",)
        return self

    @property
    def configuration_problems(self) -> list[str]:
        """Settings that are present but unusable, each as a sentence naming it and the fix."""
        return [
            f"{name} is an unresolved Key Vault reference: the app cannot read the secret, so the Graph "
            "webhooks answer 503 and new mail arrives through the five-minute catch-up only. Check the "
            "reference's status (function app > Settings > Environment variables), that the secret exists "
            "and that the app's identity holds Key Vault Secrets Officer on the vault; then restart the app."
            for name in self._unresolved
        ]

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.database_auth == "entra" and self.database_tls != "verify":
            raise ValueError("DATABASE_AUTH=entra needs DATABASE_TLS=verify (tokens never travel in clear)")
        if self.auth_mode == "off" and self.running_in_azure:
            raise ValueError("AUTH_MODE=off is for local development and is refused when running in Azure")
        if self.graph_client_secret is not None and not (self.graph_tenant_id and self.graph_client_id):
            raise ValueError("GRAPH_CLIENT_SECRET needs GRAPH_TENANT_ID and GRAPH_CLIENT_ID")
        if self.auth_mode == "entra" and not (self.auth_tenant_id and self.auth_audience):
            raise ValueError("AUTH_MODE=entra needs AUTH_TENANT_ID and AUTH_AUDIENCE")
        return self

    @property
    def graph_app_registration(self) -> tuple[str, str, SecretStr] | None:
        """Tenant, client id and secret of the app registration Graph is called as; None means the
        managed identity (validation refuses a secret without its tenant and client id)."""
        if self.graph_client_secret is None or not self.graph_tenant_id or not self.graph_client_id:
            return None
        return self.graph_tenant_id, self.graph_client_id, self.graph_client_secret

    @property
    def running_in_azure(self) -> bool:
        return bool(self.website_instance_id or self.website_site_name)

    @property
    def jwks_url(self) -> str:
        base = self.auth_authority_host.rstrip("/")
        return self.auth_jwks_url or f"{base}/{self.auth_tenant_id}/discovery/v2.0/keys"

    @property
    def token_issuer(self) -> str:
        base = self.auth_authority_host.rstrip("/")
        return self.auth_issuer or f"{base}/{self.auth_tenant_id}/v2.0"


def describe_error(error: ValidationError) -> str:
    """One readable line naming each bad setting by its environment variable."""
    parts = []
    for item in error.errors():
        name = ".".join(str(loc) for loc in item["loc"]) or "configuration"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "missing":
            message = "is required but not set"
        parts.append(f"{name} {message}" if name != "configuration" else message)
    return "Bad configuration: " + "; ".join(parts)


class _MappingSettings(Settings):
    """Settings from a given mapping only, ignoring the process environment."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Validate settings from the process environment (or only from the mapping given)."""
    try:
        if environ is None:
            return Settings()
        raw: dict[str, Any] = dict(environ)  # strings, which validation turns into each field's type
        return _MappingSettings(**raw)
    except ValidationError as error:
        raise ConfigError(describe_error(error)) from None


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings, validated once."""
    return load_settings()
