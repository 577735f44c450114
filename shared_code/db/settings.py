"""The settings row (id = 1): the UI timezone, which PSA is active, and each PSA's configuration.

The one module of the data layer that names the PSA products: their settings are theirs. Exactly
one PSA is active at a time (``psa_provider``); a provider's columns stay stored while another is
active, so switching back finds them as they were. Secrets are never stored in plain text."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Boolean, CheckConstraint, Integer, LargeBinary, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shared_code.db.base import Base, one_of

PsaProviderName = Literal["none", "autotask", "connectwise"]
ExternalProvider = Literal["autotask", "connectwise"]  # whose ticket an external ticket link is
PROVIDER_LABELS = {"none": "None", "autotask": "Autotask", "connectwise": "ConnectWise PSA"}


class AppSettings(Base):
    """The single settings row (id = 1). Secrets are never stored in plain text."""

    __tablename__ = "settings"
    __table_args__ = (
        CheckConstraint("id = 1", name="singleton"),
        one_of("autotask_environment", Literal["sandbox", "production"]),
        one_of("psa_provider", PsaProviderName),
    )

    id: Mapped[int] = mapped_column(primary_key=True, server_default=text("1"))
    ui_timezone: Mapped[str] = mapped_column(Text, server_default="Europe/Amsterdam")
    # The active PSA: none, or the one provider every ticket action, poll and resolve goes to.
    psa_provider: Mapped[str] = mapped_column(String(16), server_default="none")
    backupchecks_base_url: Mapped[str | None] = mapped_column(Text)
    # --- Autotask ---
    autotask_compatibility_mode: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    autotask_environment: Mapped[str] = mapped_column(String(16), server_default="sandbox")
    autotask_username: Mapped[str | None] = mapped_column(Text)
    autotask_integration_code: Mapped[str | None] = mapped_column(Text)  # tracking identifier
    autotask_secret_ref: Mapped[str | None] = mapped_column(Text)  # Key Vault secret name
    autotask_secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)  # local only
    autotask_api_base_url: Mapped[str | None] = mapped_column(Text)  # configured, or the discovered zone
    autotask_queue_id: Mapped[int | None] = mapped_column(Integer)
    autotask_source_id: Mapped[int | None] = mapped_column(Integer)
    autotask_status_id: Mapped[int | None] = mapped_column(Integer)
    autotask_priority_warning_id: Mapped[int | None] = mapped_column(Integer)
    autotask_priority_failed_id: Mapped[int | None] = mapped_column(Integer)
    autotask_completed_status_id: Mapped[int | None] = mapped_column(Integer)
    # Many tenants require dueDateTime on a new ticket: now + this many hours.
    autotask_due_hours: Mapped[int | None] = mapped_column(Integer, server_default=text("24"))
    autotask_reference_data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    autotask_reference_refreshed_at: Mapped[datetime | None]
    # --- ConnectWise PSA (Manage) ---
    connectwise_site: Mapped[str | None] = mapped_column(Text)
    connectwise_company_id: Mapped[str | None] = mapped_column(Text)
    connectwise_public_key: Mapped[str | None] = mapped_column(Text)
    connectwise_secret_ref: Mapped[str | None] = mapped_column(Text)  # the private key in Key Vault
    connectwise_secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)  # local only
    connectwise_client_id: Mapped[str | None] = mapped_column(Text)
    connectwise_board_id: Mapped[int | None] = mapped_column(Integer)
    connectwise_new_status_id: Mapped[int | None] = mapped_column(Integer)
    connectwise_closed_status_id: Mapped[int | None] = mapped_column(Integer)
    connectwise_priority_warning_id: Mapped[int | None] = mapped_column(Integer)
    connectwise_priority_failed_id: Mapped[int | None] = mapped_column(Integer)
    connectwise_source_id: Mapped[int | None] = mapped_column(Integer)
    connectwise_reference_data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    connectwise_reference_refreshed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
    updated_by: Mapped[str | None] = mapped_column(Text)

    @property
    def autotask_enabled(self) -> bool:
        """Autotask is the active PSA (the Autotask settings' ``enabled``)."""
        return self.psa_provider == "autotask"

    @autotask_enabled.setter
    def autotask_enabled(self, enabled: bool) -> None:
        if enabled:
            self.psa_provider = "autotask"
        elif self.psa_provider in (None, "autotask"):  # None: a row not flushed yet
            self.psa_provider = "none"

    @property
    def psa_closed_status_id(self) -> int | None:
        """The active PSA's status that Resolve sets (and, for Autotask, that a poll recognises)."""
        return {
            "autotask": self.autotask_completed_status_id,
            "connectwise": self.connectwise_closed_status_id,
        }.get(self.psa_provider)

    @property
    def psa_closed_status_required(self) -> bool:
        """Autotask tells closed tickets by the configured status, so it needs one to poll and resolve;
        ConnectWise flags closed tickets itself, and without a closed status Resolve posts its note only."""
        return self.psa_provider == "autotask"

    @property
    def psa_compatibility_mode(self) -> bool:
        """Manual ticket numbers are allowed while the active PSA is enabled."""
        return self.psa_provider == "autotask" and self.autotask_compatibility_mode
