"""The ConnectWise PSA settings (Admin) as the settings row keeps them: read, save (checked against
ConnectWise first: ``settings_check``), the provider they make, refreshed reference data.

The private key is write-only: kept like the Autotask secret (Key Vault in Azure, else encrypted
under ``SETTINGS_ENCRYPTION_KEY``), never returned, never logged. Which PSA is active is chosen
with ``PUT /api/settings/psa``, not here."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import Field, SecretStr
from sqlalchemy.orm import Session

from shared_code import audit
from shared_code.app_settings import settings_row
from shared_code.config import Settings, get_settings
from shared_code.db.models import AppSettings
from shared_code.psa import provider as psa
from shared_code.psa.connectwise.models import (
    ConnectWiseSettingsUpdate,
    ConnectWiseSettingsView,
    ReferenceData,
)
from shared_code.psa.connectwise.neutral import ConnectWisePsa, neutral_reference_data
from shared_code.psa.connectwise.provider import connectwise_provider, credentials
from shared_code.psa.connectwise.settings_check import checked_reference_data
from shared_code.psa.secrets import secret_store

SLOT = "connectwise"
# The request's field, the settings column (the private key apart).
FIELDS = (
    ("site", "connectwise_site"),
    ("company_id", "connectwise_company_id"),
    ("public_key", "connectwise_public_key"),
    ("client_id", "connectwise_client_id"),
    ("board_id", "connectwise_board_id"),
    ("new_status_id", "connectwise_new_status_id"),
    ("closed_status_id", "connectwise_closed_status_id"),
    ("priority_warning_id", "connectwise_priority_warning_id"),
    ("priority_failed_id", "connectwise_priority_failed_id"),
    ("source_id", "connectwise_source_id"),
    ("backupchecks_base_url", "backupchecks_base_url"),
)


class ConnectWiseSettingsPage(ConnectWiseSettingsView):
    active: bool = Field(description="ConnectWise is the active PSA (PUT /api/settings/psa).")
    reference_data: ReferenceData | None = Field(description="Boards, their statuses, priorities, sources.")
    reference_refreshed_at: datetime | None


def configured(row: AppSettings) -> bool:
    """Saved settings (which were checked against ConnectWise), the private key among them."""
    return bool(row.connectwise_site and (row.connectwise_secret_ref or row.connectwise_secret_encrypted))


def stored_reference_data(row: AppSettings) -> ReferenceData | None:
    data = row.connectwise_reference_data
    return ReferenceData.model_validate(data) if data else None


def neutral_stored_reference_data(row: AppSettings) -> psa.ReferenceData:
    data = stored_reference_data(row)
    return neutral_reference_data(data) if data else psa.ReferenceData()


def get_connectwise_settings(session: Session) -> ConnectWiseSettingsPage:
    row = settings_row(session)
    return ConnectWiseSettingsPage(
        **{field: getattr(row, column) for field, column in FIELDS},
        private_key_set=bool(row.connectwise_secret_ref or row.connectwise_secret_encrypted),
        active=row.psa_provider == "connectwise",
        reference_data=stored_reference_data(row),
        reference_refreshed_at=row.connectwise_reference_refreshed_at,
    )


def connectwise_from_settings(session: Session, *, config: Settings | None = None) -> ConnectWisePsa:
    """ConnectWise as the stored settings make it (nothing sent yet)."""
    row = settings_row(session)
    config = config or get_settings()
    key = secret_store(config).load(row, SLOT)
    if not (row.connectwise_site and row.connectwise_company_id and row.connectwise_public_key and key):
        raise psa.PsaNotConfigured("The ConnectWise site, company id, keys and clientId must all be set.")
    creds = credentials(
        site=row.connectwise_site,
        company_id=row.connectwise_company_id,
        public_key=row.connectwise_public_key,
        private_key=SecretStr(key),
        client_id=row.connectwise_client_id or "",
    )
    return ConnectWisePsa(
        connectwise_provider(
            creds, timeout_seconds=config.autotask_timeout_seconds, current_run_id=psa.current_run_id
        )
    )


def save_connectwise_settings(
    session: Session, body: ConnectWiseSettingsUpdate, actor: str, *, config: Settings | None = None
) -> ConnectWiseSettingsPage:
    """Checked against ConnectWise first (the connection, every choice): anything wrong is a 422 naming
    the field and nothing is saved (the stored private key stays as it was)."""
    config = config or get_settings()
    row = settings_row(session, for_update=True)
    store = secret_store(config)
    key = body.private_key or _stored_key(row, config)
    data = checked_reference_data(body, key, current_run_id=psa.current_run_id)
    changes: list[str] = []
    for field, column in FIELDS:
        value = getattr(body, field)
        if getattr(row, column) != value:
            changes.append(field)
            setattr(row, column, value)
    if body.private_key is not None:
        store.save(row, body.private_key.get_secret_value(), SLOT)
        changes.append("private_key")
    _store_reference_data(row, data)
    row.updated_by = actor
    audit.record(session, actor, "update", "settings", 1, {"connectwise": changes})  # names, never values
    return get_connectwise_settings(session)


def _stored_key(row: AppSettings, config: Settings) -> SecretStr | None:
    stored = secret_store(config).load(row, SLOT) if configured(row) else None
    return SecretStr(stored) if stored else None


def _store_reference_data(row: AppSettings, data: ReferenceData) -> None:
    row.connectwise_reference_data = data.model_dump(mode="json")
    row.connectwise_reference_refreshed_at = data.refreshed_at or datetime.now(UTC)


def refresh_reference_data(session: Session, actor: str) -> psa.ReferenceData:
    """Boards, statuses, priorities and sources from ConnectWise into the cache."""
    with connectwise_from_settings(session) as provider:
        data = provider.operations.reference_data()
    row = settings_row(session, for_update=True)
    _store_reference_data(row, data)
    audit.record(session, actor, "refresh", "settings", 1, {"connectwise_reference_data": True})
    return neutral_reference_data(data)
