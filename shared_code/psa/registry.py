"""Which PSA is active, and the one place that knows each provider's class.

Only this module imports a provider package (``psa.autotask``, ``psa.connectwise``; an
import-linter contract keeps it so): everything else asks it for the active PSA and talks to the
``PsaProvider`` interface. A provider is a context manager; leaving it closes its connections.
Building one reads the settings (and the secret) but sends nothing, so callers build it inside a
short database transaction and call the PSA after that transaction has ended."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from shared_code import audit
from shared_code.db.models import AppSettings
from shared_code.db.settings import PROVIDER_LABELS
from shared_code.errors import Conflict
from shared_code.psa.provider import ConnectionInfo, PsaProvider, ReferenceData
from shared_code.schema.models import RequestModel, ResponseModel

ProviderName = Literal["none", "autotask", "connectwise"]


@dataclass(frozen=True)
class TicketDefaults:
    """What a new ticket gets, in the active PSA's ids (queue = Autotask queue / ConnectWise board)."""

    queue_id: int | None
    source_id: int | None
    status_id: int | None
    priority_warning_id: int | None
    priority_failed_id: int | None
    due_hours: int | None
    closed_status_id: int | None

    def priority(self, effective_status: str) -> int | None:
        return (
            self.priority_failed_id if effective_status in ("failed", "missed") else self.priority_warning_id
        )


def ticket_defaults(settings: AppSettings) -> TicketDefaults:
    if settings.psa_provider == "autotask":
        return TicketDefaults(
            queue_id=settings.autotask_queue_id,
            source_id=settings.autotask_source_id,
            status_id=settings.autotask_status_id,
            priority_warning_id=settings.autotask_priority_warning_id,
            priority_failed_id=settings.autotask_priority_failed_id,
            due_hours=settings.autotask_due_hours,
            closed_status_id=settings.autotask_completed_status_id,
        )
    if settings.psa_provider == "connectwise":
        return TicketDefaults(
            queue_id=settings.connectwise_board_id,
            source_id=settings.connectwise_source_id,
            status_id=settings.connectwise_new_status_id,
            priority_warning_id=settings.connectwise_priority_warning_id,
            priority_failed_id=settings.connectwise_priority_failed_id,
            due_hours=None,
            closed_status_id=settings.connectwise_closed_status_id,
        )
    return TicketDefaults(None, None, None, None, None, None, None)


def stored_reference_data(settings: AppSettings) -> ReferenceData:
    """The active PSA's picklists as last refreshed (empty before the first refresh: labels unknown)."""
    if settings.psa_provider == "autotask":
        from shared_code.psa.autotask.settings import reference_data

        return reference_data(settings) or ReferenceData()
    if settings.psa_provider == "connectwise":
        from shared_code.psa.connectwise.settings import neutral_stored_reference_data

        return neutral_stored_reference_data(settings)
    return ReferenceData()


def label(name: str) -> str:
    return PROVIDER_LABELS.get(name, name)


def require_active(settings: AppSettings) -> str:
    """The active PSA's name; 409 ``psa_disabled`` when there is none."""
    if settings.psa_provider == "none":
        raise Conflict("No PSA integration is active.", code="psa_disabled")
    return settings.psa_provider


def open_provider(session: Session, name: str | None = None) -> PsaProvider:
    """The PSA ``name`` (default: the active one) as configured, not yet connected: use it in a
    ``with`` block. 409 when it is not the active PSA (disabled means no request at all)."""
    from shared_code.app_settings import load_app_settings

    settings = load_app_settings(session)
    if name is not None and name != settings.psa_provider:
        raise Conflict(f"The {label(name)} integration is disabled.", code=f"{name}_disabled")
    active = require_active(settings)
    if active == "autotask":
        from shared_code.psa.autotask.settings import autotask_provider

        return autotask_provider(session)
    from shared_code.psa.connectwise.settings import connectwise_from_settings

    return connectwise_from_settings(session)


# --- GET/PUT /api/settings/psa -----------------------------------------------------------------------


class PsaSettingsView(ResponseModel):
    provider: ProviderName = Field(
        description="The active PSA: none, autotask or connectwise (one at a time)."
    )
    label: str = Field(description="The active PSA's name, for people.")
    configured: dict[str, bool] = Field(
        description="Per PSA, whether its settings are complete enough to be switched on."
    )


class PsaSettingsUpdate(RequestModel):
    provider: ProviderName = Field(
        description="Switch the active PSA. Every stored ticket link stays visible; only the active PSA "
        "is called, polled and resolved against."
    )


def psa_settings(settings: AppSettings) -> PsaSettingsView:
    return PsaSettingsView(
        provider=settings.psa_provider,  # type: ignore[arg-type]
        label=label(settings.psa_provider),
        configured={
            "autotask": _autotask_configured(settings),
            "connectwise": _connectwise_configured(settings),
        },
    )


def _connectwise_configured(settings: AppSettings) -> bool:
    from shared_code.psa.connectwise.settings import configured

    return configured(settings)


def _autotask_configured(settings: AppSettings) -> bool:
    return bool(
        settings.autotask_username
        and settings.autotask_integration_code
        and (settings.autotask_secret_ref or settings.autotask_secret_encrypted)
    )


def switch_provider(session: Session, body: PsaSettingsUpdate, actor: str) -> PsaSettingsView:
    """Make ``body.provider`` the active PSA (409 when its settings are not complete)."""
    from shared_code.app_settings import settings_row

    row = settings_row(session, for_update=True)
    view = psa_settings(row)
    if body.provider != "none" and not view.configured.get(body.provider, False):
        raise Conflict(
            f"{label(body.provider)} is not configured yet: save its settings first.",
            code="psa_not_configured",
            details={"provider": body.provider},
        )
    before: Any = row.psa_provider
    if before != body.provider:
        row.psa_provider = body.provider
        row.updated_by = actor
        audit.record(session, actor, "switch_psa", "settings", 1, {"from": before, "to": body.provider})
    return psa_settings(row)


# --- each provider's own settings (GET/PUT /api/settings/<provider>, …/test, …/refresh) -------------------


def get_provider_settings(session: Session, name: str) -> BaseModel:
    if name == "autotask":
        from shared_code.psa.autotask.settings import get_autotask_settings

        return get_autotask_settings(session)
    if name == "connectwise":
        from shared_code.psa.connectwise.settings import get_connectwise_settings

        return get_connectwise_settings(session)
    raise _unknown(name)


def save_provider_settings(session: Session, name: str, body: Any, actor: str) -> BaseModel:
    if name == "autotask":
        from shared_code.psa.autotask.settings import save_autotask_settings

        return save_autotask_settings(session, body, actor)
    if name == "connectwise":
        from shared_code.psa.connectwise.settings import save_connectwise_settings

        return save_connectwise_settings(session, body, actor)
    raise _unknown(name)


def test_provider(session: Session, name: str) -> ConnectionInfo:
    with open_provider(session, name) as provider:
        return provider.test_connection()


def refresh_provider(session: Session, name: str, actor: str) -> ReferenceData:
    if name == "autotask":
        from shared_code.psa.autotask.settings import refresh_reference_data

        return refresh_reference_data(session, actor)
    if name == "connectwise":
        from shared_code.psa.connectwise.settings import refresh_reference_data as refresh_connectwise

        open_provider(session, name)  # 409 unless ConnectWise is the active PSA; nothing sent
        return refresh_connectwise(session, actor)
    raise _unknown(name)


def _unknown(name: str) -> LookupError:
    return LookupError(f"no PSA provider {name!r}")
