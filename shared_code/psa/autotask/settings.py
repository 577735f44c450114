"""The Autotask settings (Admin): read, save, test connection, refresh reference data.

Saving an enabled configuration checks it against Autotask first: the credentials (zone lookup
and an authenticated call) and every ticket default against the live picklists. Anything wrong is
a 422 naming the field, and nothing is saved (the stored secret stays as it was). A disabled
configuration is saved without calling Autotask: disabled means no Autotask request at all.

``autotask_provider`` is the one way the rest of the app reaches Autotask; it refuses when the
integration is disabled, which is what keeps every path, HTTP or timer, from calling out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr
from sqlalchemy.orm import Session

from shared_code import audit
from shared_code.app_settings import settings_row
from shared_code.config import Settings, get_settings
from shared_code.db.models import AppSettings
from shared_code.errors import Conflict, InvalidInput
from shared_code.psa import provider as psa
from shared_code.psa.autotask.client import AutotaskClient, Credentials, RetryPolicy
from shared_code.psa.autotask.provider import AutotaskProvider, internal_publish_id
from shared_code.psa.secrets import secret_store
from shared_code.schema.fields import INT32_MAX
from shared_code.schema.models import RequestModel, ResponseModel

Environment = Literal["sandbox", "production"]
PicklistId = Annotated[int, Field(ge=0, le=INT32_MAX, description="A value of the Autotask picklist.")]

# Ticket defaults: the request field, the settings column, the reference-data list it must be in,
# and whether an enabled integration needs it.
CHOICES = (
    ("queue_id", "autotask_queue_id", "queues", True),
    ("source_id", "autotask_source_id", "sources", False),
    ("status_id", "autotask_status_id", "statuses", True),
    ("priority_warning_id", "autotask_priority_warning_id", "priorities", True),
    ("priority_failed_id", "autotask_priority_failed_id", "priorities", True),
    ("completed_status_id", "autotask_completed_status_id", "statuses", False),
)
PLAIN = (
    ("enabled", "autotask_enabled"),
    ("compatibility_mode", "autotask_compatibility_mode"),
    ("environment", "autotask_environment"),
    ("username", "autotask_username"),
    ("integration_code", "autotask_integration_code"),
    ("api_base_url", "autotask_api_base_url"),
    ("backupchecks_base_url", "backupchecks_base_url"),
    ("due_hours", "autotask_due_hours"),
)


class AutotaskSettingsUpdate(RequestModel):
    enabled: bool
    compatibility_mode: bool = Field(False, description="Allow manual ticket numbers while enabled.")
    environment: Environment = "production"
    username: str | None = Field(None, max_length=200, description="The API user (an API-only user).")
    integration_code: str | None = Field(None, max_length=200, description="The tracking identifier.")
    secret: SecretStr | None = Field(
        None, min_length=1, max_length=500, description="Write-only. Leave out to keep the stored secret."
    )
    api_base_url: str | None = Field(
        None,
        max_length=500,
        pattern=r"^https?://",
        description="Leave out to find the zone from the user name; else e.g. https://webservices5.autotask.net/ATServicesRest.",
    )
    backupchecks_base_url: str | None = Field(
        None,
        max_length=500,
        pattern=r"^https?://",
        description="The operator site's URL, for links in tickets.",
    )
    queue_id: PicklistId | None = None
    source_id: PicklistId | None = None
    status_id: PicklistId | None = Field(None, description="The status of a new ticket.")
    priority_warning_id: PicklistId | None = None
    priority_failed_id: PicklistId | None = None
    completed_status_id: PicklistId | None = Field(
        None, description="The status Resolve sets; 'active' is any other."
    )
    due_hours: int | None = Field(
        24, ge=1, le=24 * 365, description="A new ticket is due this many hours later."
    )


class AutotaskSettingsView(ResponseModel):
    enabled: bool
    compatibility_mode: bool
    environment: Environment
    username: str | None
    integration_code: str | None
    secret_set: bool = Field(description="Whether a secret is stored (it is never returned).")
    api_base_url: str | None
    backupchecks_base_url: str | None
    queue_id: int | None
    source_id: int | None
    status_id: int | None
    priority_warning_id: int | None
    priority_failed_id: int | None
    completed_status_id: int | None
    due_hours: int | None
    reference_data: psa.ReferenceData | None
    reference_refreshed_at: datetime | None
    updated_at: datetime | None
    updated_by: str | None


# --- reading -------------------------------------------------------------------------------------


def view(row: AppSettings) -> AutotaskSettingsView:
    values: dict[str, Any] = {field: getattr(row, column) for field, column in PLAIN}
    values |= {field: getattr(row, column) for field, column, _, _ in CHOICES}
    return AutotaskSettingsView(
        **values,
        secret_set=bool(row.autotask_secret_ref or row.autotask_secret_encrypted),
        reference_data=reference_data(row),
        reference_refreshed_at=row.autotask_reference_refreshed_at,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


def reference_data(row: AppSettings) -> psa.ReferenceData | None:
    return (
        psa.ReferenceData.model_validate(row.autotask_reference_data) if row.autotask_reference_data else None
    )


def get_autotask_settings(session: Session) -> AutotaskSettingsView:
    return view(settings_row(session))


# --- the provider --------------------------------------------------------------------------------


def autotask_provider(session: Session, *, config: Settings | None = None) -> AutotaskProvider:
    """Autotask as configured; 409 ``autotask_disabled`` when the integration is off."""
    row = settings_row(session)
    if not row.autotask_enabled:
        raise Conflict("The Autotask integration is disabled.", code="autotask_disabled")
    config = config or get_settings()
    secret = secret_store(config).load(row)
    candidate = _Candidate(
        row.autotask_username, row.autotask_integration_code, secret, row.autotask_api_base_url
    )
    cached = reference_data(row)
    publish = internal_publish_id(cached.note_publish) if cached else None
    return AutotaskProvider(_client(candidate, config), note_publish_id=publish)


@dataclass(frozen=True)
class _Candidate:
    username: str | None
    integration_code: str | None
    secret: str | None
    api_base_url: str | None


# Saving settings is interactive: a zone that does not answer is reported within seconds.
CHECK_RETRY = RetryPolicy(budget_seconds=3.0)


def _client(candidate: _Candidate, config: Settings, *, retry: RetryPolicy | None = None) -> AutotaskClient:
    if not (candidate.username and candidate.integration_code and candidate.secret):
        raise psa.PsaNotConfigured("The Autotask user name, tracking identifier and secret must all be set.")
    return AutotaskClient(
        Credentials(candidate.username, candidate.integration_code, SecretStr(candidate.secret)),
        api_url=candidate.api_base_url,
        zone_lookup_url=config.autotask_zone_lookup_url,
        timeout_seconds=config.autotask_timeout_seconds,
        retry=retry,
    )


# --- saving ----------------------------------------------------------------------------------------


def save_autotask_settings(
    session: Session, body: AutotaskSettingsUpdate, actor: str, *, config: Settings | None = None
) -> AutotaskSettingsView:
    config = config or get_settings()
    row = settings_row(session, for_update=True)
    store = secret_store(config) if body.secret is not None or body.enabled else None
    new_secret = body.secret.get_secret_value() if body.secret is not None else None
    fresh: psa.ReferenceData | None = None
    if body.enabled:
        _require_enabled_fields(body, has_secret=new_secret is not None or _has_secret(row))
        secret = new_secret if new_secret is not None else store.load(row) if store else None
        candidate = _Candidate(body.username, body.integration_code, secret, body.api_base_url)
        fresh = _checked_against_autotask(candidate, body, config)
    # Everything is checked: from here on the new values are kept.
    if new_secret is not None and store is not None:
        store.save(row, new_secret)
    changes = _apply(row, body)
    if fresh is not None:
        _store_reference_data(row, fresh)
    row.updated_by = actor
    audit.record(
        session, actor, "update", "settings", 1, {**changes, "secret_changed": new_secret is not None}
    )
    session.flush()
    session.refresh(row)
    return view(row)


def _has_secret(row: AppSettings) -> bool:
    return bool(row.autotask_secret_ref or row.autotask_secret_encrypted)


def _require_enabled_fields(body: AutotaskSettingsUpdate, *, has_secret: bool) -> None:
    needed = [name for name in ("username", "integration_code") if not getattr(body, name)]
    if not has_secret:
        needed.append("secret")
    needed += [field for field, _, _, required in CHOICES if required and getattr(body, field) is None]
    if needed:
        raise InvalidInput(
            f"{', '.join(needed)}: required to enable the Autotask integration",
            details=[{"field": f"body.{name}", "message": "required when enabled"} for name in needed],
        )


def _checked_against_autotask(
    candidate: _Candidate, body: AutotaskSettingsUpdate, config: Settings
) -> psa.ReferenceData:
    """The live reference data, once the credentials work and every choice is in it."""
    client = _client(candidate, config, retry=CHECK_RETRY)
    try:
        provider = AutotaskProvider(client)
        provider.test_connection()
        data = provider.reference_data()
    except psa.PsaError as error:
        raise _settings_error(error, body) from None
    finally:
        client.close()
    problems = [
        {
            "field": f"body.{field}",
            "message": f"{value} is not an active {kind[:-1].replace('_', ' ')} in Autotask",
        }
        for field, _, kind, _ in CHOICES
        if (value := getattr(body, field)) is not None
        and value not in {choice.id for choice in getattr(data, kind) if choice.active}
    ]
    if problems:
        names = ", ".join(problem["field"].removeprefix("body.") for problem in problems)
        raise InvalidInput(
            f"{names}: not among Autotask's choices (refresh the reference data)", details=problems
        )
    return data


def _settings_error(error: psa.PsaError, body: AutotaskSettingsUpdate) -> InvalidInput:
    if isinstance(error, psa.PsaUnreachable | psa.PsaUnavailable):
        field = "body.api_base_url" if body.api_base_url else "body.username"
        return InvalidInput(
            f"Autotask could not be reached: {error.message}",
            code="autotask_unreachable",
            details=[{"field": field, "message": error.message}],
        )
    if isinstance(error, psa.PsaAuthError) and "no zone" in error.message:
        return InvalidInput(
            error.message,
            code="autotask_unknown_user",
            details=[{"field": "body.username", "message": error.message}],
        )
    if isinstance(error, psa.PsaAuthError):
        fields = ["body.username", "body.integration_code", "body.secret"]
        return InvalidInput(
            error.message,
            code="autotask_auth_failed",
            details=[{"field": field, "message": "refused by Autotask"} for field in fields],
        )
    return InvalidInput(
        f"Autotask refused the check: {error.message}",
        code="autotask_check_failed",
        details=[{"field": "body", "message": error.message}],
    )


def _apply(row: AppSettings, body: AutotaskSettingsUpdate) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for field, column in (*PLAIN, *((field, column) for field, column, _, _ in CHOICES)):
        value = getattr(body, field)
        if getattr(row, column) != value:
            changes[field] = value
            setattr(row, column, value)
    return changes


def _store_reference_data(row: AppSettings, data: psa.ReferenceData) -> None:
    row.autotask_reference_data = data.model_dump(mode="json")
    row.autotask_reference_refreshed_at = data.refreshed_at or datetime.now(UTC)


# --- test and refresh ---------------------------------------------------------------------------------


def refresh_reference_data(session: Session, actor: str) -> psa.ReferenceData:
    with autotask_provider(session) as provider:
        data = provider.reference_data()
    row = settings_row(session, for_update=True)
    _store_reference_data(row, data)
    audit.record(session, actor, "refresh", "settings", 1, {"autotask_reference_data": True})
    return data
