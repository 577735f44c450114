"""The PSA provider interface: what Backupchecks asks of a PSA, in the PSA's neutral terms.

Autotask (``shared_code.psa.autotask``) and ConnectWise PSA (``shared_code.psa.connectwise``)
implement it; ``psa.registry`` picks the active one. Everything that crosses it is a pydantic model or one of the errors below,
and every error says whether trying again later may help (``transient``).

Creates are special: a create whose outcome is unknown (a timeout, or a server error after the
request was sent) raises ``PsaOutcomeUnknown`` and is never retried by the provider. The caller
looks for what it tried to create (``find_created_ticket``) before creating again.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, Field

from shared_code import errors

# --- what crosses the interface ----------------------------------------------------------------


class PicklistValue(BaseModel):
    id: int
    label: str
    active: bool = True
    is_default: bool = False


class ReferenceData(BaseModel):
    """The PSA's choices the settings pick from, as loaded at ``refreshed_at``."""

    queues: list[PicklistValue] = Field(default_factory=list)
    sources: list[PicklistValue] = Field(default_factory=list)
    priorities: list[PicklistValue] = Field(default_factory=list)
    statuses: list[PicklistValue] = Field(default_factory=list)
    note_types: list[PicklistValue] = Field(default_factory=list)
    note_publish: list[PicklistValue] = Field(default_factory=list)
    refreshed_at: datetime | None = None

    def label(self, kind: str, value_id: int | None) -> str | None:
        for value in getattr(self, kind):
            if value.id == value_id:
                return str(value.label)
        return None


class ApiUsage(BaseModel):
    """The PSA's request budget: ``used`` of ``limit`` requests in the current ``window_minutes``."""

    limit: int | None
    used: int | None
    window_minutes: int | None


class ConnectionInfo(BaseModel):
    zone: str | None = Field(description="The PSA's name for the data centre the account lives in.")
    api_url: str
    web_url: str | None
    user: str
    usage: ApiUsage | None


class Company(BaseModel):
    id: int
    name: str
    active: bool


class TicketDraft(BaseModel):
    """A ticket to create. ``reference`` (e.g. ``Backupchecks run 123``) appears in the description
    and identifies the attempt, so that a create whose outcome was lost can be found again
    instead of creating a second ticket."""

    reference: str = Field(min_length=1, max_length=100)
    company_id: int
    title: str
    description: str
    queue_id: int | None = None
    source_id: int | None = None
    status_id: int
    priority_id: int
    due_at: datetime | None = None


class Ticket(BaseModel):
    id: int
    number: str | None
    title: str | None = None
    description: str | None = None
    status_id: int | None = None
    company_id: int | None = None
    completed_at: datetime | None = None
    last_activity_at: datetime | None = None
    web_url: str | None = None
    closed: bool | None = Field(
        None, description="The PSA's own closed flag (ConnectWise); None: closed means the configured status."
    )


class TimeEntry(BaseModel):
    id: int
    ticket_id: int
    hours_worked: float | None = None
    worked_at: datetime | None = None
    resource_id: int | None = None


# --- errors ------------------------------------------------------------------------------------


class PsaError(errors.UpstreamError):
    """The PSA refused or failed. ``messages`` are the PSA's own texts; never a secret."""

    code = "psa_error"
    transient = False

    def __init__(self, message: str, *, messages: Sequence[str] = (), status: int | None = None) -> None:
        super().__init__(message, details={"psa_messages": list(messages), "psa_status": status})
        self.messages = list(messages)
        self.status = status


class PsaNotConfigured(PsaError):
    """Settings are missing (credentials, a base URL); nothing was sent."""

    code = "psa_not_configured"


class PsaAuthError(PsaError):
    """The PSA refused the credentials (also after finding the zone again)."""

    code = "psa_auth_failed"


class PsaUnreachable(PsaError):
    """No answer from the PSA or its zone lookup at all (DNS, refused, TLS)."""

    code = "psa_unreachable"
    transient = True


class PsaNotFound(PsaError):
    code = "psa_not_found"


class PsaRejected(PsaError):
    """The PSA refused the request's content (validation); sending it again will not help."""

    code = "psa_rejected"


class PsaUnavailable(PsaError):
    """Throttled or failing for now, and still so when the retry budget ran out."""

    code = "psa_unavailable"
    transient = True


class PsaOutcomeUnknown(PsaError):
    """A create was sent but its answer was lost (timeout, server error): it may have been stored."""

    code = "psa_outcome_unknown"
    transient = True


# --- what a call is about, for the logs ---------------------------------------------------------

_run_id: contextvars.ContextVar[int | None] = contextvars.ContextVar("psa_run_id", default=None)


@contextmanager
def about_run(run_id: int | None) -> Iterator[None]:
    """PSA calls made inside log the run they are made for."""
    token = _run_id.set(run_id)
    try:
        yield
    finally:
        _run_id.reset(token)


def current_run_id() -> int | None:
    return _run_id.get()


# --- the interface ---------------------------------------------------------------------------------


class PsaProvider(Protocol):
    """A PSA as configured, used in a ``with`` block: leaving it closes its connections."""

    name: str  # as stored with a ticket link: "autotask", "connectwise"
    label: str  # for people: "Autotask"
    max_ids_per_query: int  # ids per active-ticket query (the PSA's page or ``in`` limit)

    def __enter__(self) -> PsaProvider: ...

    def __exit__(self, *exc: object) -> None: ...

    def test_connection(self) -> ConnectionInfo: ...

    def reference_data(self) -> ReferenceData: ...

    def search_companies(self, text: str, *, limit: int = 25) -> list[Company]: ...

    def get_company(self, company_id: int) -> Company | None: ...

    def companies_by_ids(self, company_ids: Sequence[int]) -> list[Company]: ...

    def create_ticket(self, draft: TicketDraft) -> Ticket:
        """Sent once: raises ``PsaOutcomeUnknown`` when the PSA may have stored it anyway."""
        ...

    def find_created_ticket(self, draft: TicketDraft, *, since: datetime) -> Ticket | None:
        """The ticket an earlier ``create_ticket(draft)`` stored at or after ``since``, if any."""
        ...

    def get_ticket(self, ticket_id: int) -> Ticket | None: ...

    def get_ticket_by_number(self, number: str) -> Ticket | None: ...

    def tickets_by_ids(
        self, ticket_ids: Sequence[int], *, excluding_status: int | None = None
    ) -> list[Ticket]:
        """The tickets among ``ticket_ids`` that exist (and whose status is not ``excluding_status``)."""
        ...

    def update_ticket_status(self, ticket_id: int, status_id: int) -> None:
        """Changes the status and nothing else (the description is never lost)."""
        ...

    def time_entries(self, ticket_id: int) -> list[TimeEntry]: ...

    def add_internal_note(self, ticket_id: int, *, title: str, text: str) -> int:
        """A note visible to internal users only; returns its id. Sent once (it is a create)."""
        ...

    def ticket_web_url(self, ticket_id: int) -> str | None: ...
