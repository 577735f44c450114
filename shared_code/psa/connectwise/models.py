"""ConnectWise's records and the ConnectWise settings, as pydantic models.

The settings are stored and shown without the private key: ``ConnectWiseSettingsUpdate`` takes it
(write-only, left out to keep the stored one), ``ConnectWiseSettingsView`` only says whether one is
stored. Records are mapped from ConnectWise's JSON by ``from_cw`` and carry what Backupchecks
uses, under neutral names (a ConnectWise ticket's number is its id).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator

from shared_code.psa.connectwise import errors as cw
from shared_code.psa.connectwise.client import api_root
from shared_code.schema.fields import INT32_MAX
from shared_code.schema.models import RequestModel, ResponseModel

RecordId = Annotated[int, Field(ge=1, le=INT32_MAX, description="The id of a ConnectWise record.")]
SUMMARY_MAX = 100  # ConnectWise's limit on a ticket's summary
EXTERNAL_REF_MAX = 100  # and on its externalXRef


# --- settings ---------------------------------------------------------------------------------------


class ConnectWiseSettingsUpdate(RequestModel):
    site: str = Field(
        min_length=1,
        max_length=200,
        description="The host ConnectWise PSA is reached at, e.g. na.myconnectwise.net or an on-premises host.",
    )
    company_id: str = Field(
        min_length=1, max_length=100, description="The company id you log in to ConnectWise with."
    )
    public_key: str = Field(min_length=1, max_length=100, description="The API member's public key.")
    private_key: SecretStr | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="Write-only. Leave out to keep the stored private key.",
    )
    client_id: str = Field(
        min_length=1, max_length=100, description="The integration's clientId (ConnectWise developer portal)."
    )
    board_id: RecordId = Field(description="The service board new tickets go to.")
    new_status_id: RecordId = Field(description="The status of a new ticket (a status of the board).")
    closed_status_id: RecordId | None = Field(
        None,
        description="The closed status Resolve sets (a closed status of the board). "
        "Left out: Resolve posts its note and leaves the status as it is.",
    )
    priority_warning_id: RecordId
    priority_failed_id: RecordId
    source_id: RecordId | None = Field(None, description="The ticket source, e.g. 'Monitoring'.")
    backupchecks_base_url: str | None = Field(
        None,
        max_length=500,
        pattern=r"^https?://",
        description="The operator site's URL, for links in tickets.",
    )

    @field_validator("site")
    @classmethod
    def _reachable_over_https(cls, site: str) -> str:
        try:
            api_root(site)
        except cw.NotConfigured as error:
            raise ValueError(error.message) from None
        return site.strip().rstrip("/")


class ConnectWiseSettingsView(ResponseModel):
    site: str | None
    company_id: str | None
    public_key: str | None
    private_key_set: bool = Field(description="Whether a private key is stored (it is never returned).")
    client_id: str | None
    board_id: int | None
    new_status_id: int | None
    closed_status_id: int | None
    priority_warning_id: int | None
    priority_failed_id: int | None
    source_id: int | None
    backupchecks_base_url: str | None


# --- reference data ---------------------------------------------------------------------------------


class Board(BaseModel):
    id: int
    name: str
    inactive: bool = False


class BoardStatus(BaseModel):
    id: int
    name: str
    board_id: int
    closed: bool = Field(description="ConnectWise's closedStatus: a ticket in it counts as closed.")
    inactive: bool = False
    default: bool = False


class Priority(BaseModel):
    id: int
    name: str
    sort: int | None = None


class Source(BaseModel):
    id: int
    name: str
    default: bool = False


class ReferenceData(BaseModel):
    """The choices the settings pick from, as loaded at ``refreshed_at``; statuses are per board."""

    boards: list[Board] = Field(default_factory=list)
    statuses: list[BoardStatus] = Field(default_factory=list)
    priorities: list[Priority] = Field(default_factory=list)
    sources: list[Source] = Field(default_factory=list)
    refreshed_at: datetime | None = None

    def board_statuses(self, board_id: int) -> list[BoardStatus]:
        return [status for status in self.statuses if status.board_id == board_id]

    def status(self, status_id: int | None) -> BoardStatus | None:
        """A status by id, e.g. to name the closed status in the note written before setting it."""
        return next((status for status in self.statuses if status.id == status_id), None)


def settings_problems(settings: ConnectWiseSettingsUpdate, data: ReferenceData) -> list[dict[str, str]]:
    """What in ``settings`` is not among ConnectWise's choices, as ``{"field", "message"}`` items:
    the board active, both statuses on that board (the closed one a closed status), the priorities
    and the source known."""
    problems: list[dict[str, str]] = []

    def problem(field: str, message: str) -> None:
        problems.append({"field": f"body.{field}", "message": message})

    board = next((b for b in data.boards if b.id == settings.board_id), None)
    if board is None or board.inactive:
        problem("board_id", f"{settings.board_id} is not an active service board in ConnectWise")
    else:  # the statuses are the board's: checked against a usable board only
        problems += _status_problems(settings, data)
    priorities = {priority.id for priority in data.priorities}
    for field in ("priority_warning_id", "priority_failed_id"):
        if getattr(settings, field) not in priorities:
            problem(field, f"{getattr(settings, field)} is not a ConnectWise priority")
    if settings.source_id is not None and settings.source_id not in {source.id for source in data.sources}:
        problem("source_id", f"{settings.source_id} is not a ConnectWise ticket source")
    return problems


def connection_problems(error: cw.ConnectWiseError) -> list[dict[str, str]]:
    """Which settings a failed connection test points at, as ``{"field", "message"}`` items: the
    site when nothing (or no ConnectWise) answered, the four credentials when they were refused."""
    if isinstance(error, cw.NotConfigured | cw.Unreachable | cw.Unavailable | cw.NotFound):
        fields: tuple[str, ...] = ("site",)
    elif isinstance(error, cw.AuthFailed):
        fields = ("company_id", "public_key", "private_key", "client_id")
    elif isinstance(error, cw.Forbidden):
        fields = ("public_key",)  # the API member's security role
    else:
        fields = ("site",)
    return [{"field": f"body.{field}", "message": error.message} for field in fields]


def _status_problems(settings: ConnectWiseSettingsUpdate, data: ReferenceData) -> list[dict[str, str]]:
    on_board = {status.id: status for status in data.board_statuses(settings.board_id) if not status.inactive}
    found: list[tuple[str, str]] = []
    new = on_board.get(settings.new_status_id)
    if new is None:
        found.append(
            (
                "new_status_id",
                f"{settings.new_status_id} is not an active status of board {settings.board_id}",
            )
        )
    elif new.closed:
        found.append(("new_status_id", f"{new.name} is a closed status"))
    if settings.closed_status_id is not None:
        closed = on_board.get(settings.closed_status_id)
        if closed is None:
            found.append(
                (
                    "closed_status_id",
                    f"{settings.closed_status_id} is not an active status of board {settings.board_id}",
                )
            )
        elif not closed.closed:
            found.append(("closed_status_id", f"{closed.name} is not a closed status in ConnectWise"))
    return [{"field": f"body.{field}", "message": message} for field, message in found]


# --- records ------------------------------------------------------------------------------------


class ConnectionInfo(BaseModel):
    api_url: str
    company_id: str
    version: str | None
    is_cloud: bool | None
    server_time_zone: str | None
    cloud_region: str | None


class Company(BaseModel):
    id: int
    identifier: str | None = None
    name: str
    status_id: int | None = None
    status_name: str | None = None
    active: bool = True
    deleted: bool = False


CompanyState = Literal["ok", "renamed", "inactive", "deleted", "missing"]


class CompanyCheck(BaseModel):
    """One mapped company as ConnectWise has it now: ``renamed`` carries the new ``name``."""

    company_id: int
    state: CompanyState
    name: str | None = Field(description="The company's name in ConnectWise now (None when missing).")


class TicketDraft(BaseModel):
    """A ticket to create. ``reference`` (e.g. ``Backupchecks run 123``) goes into the ticket's
    ``externalXRef`` so that a create whose answer was lost can be found instead of made twice.
    Names follow the neutral PSA models where the meaning is the same (``title`` is ConnectWise's
    summary)."""

    reference: str = Field(min_length=1, max_length=EXTERNAL_REF_MAX)
    company_id: int
    title: str = Field(
        min_length=1, description=f"The summary, cut to ConnectWise's {SUMMARY_MAX} characters."
    )
    description: str = Field(description="The initial description: the run's detail and the job page link.")
    board_id: int
    status_id: int
    priority_id: int
    source_id: int | None = None


class Ticket(BaseModel):
    """A ticket as ConnectWise has it; names follow the neutral PSA models (``title`` is the summary,
    ``completed_at`` the closed date, ``last_activity_at`` the last update)."""

    id: int
    number: str = Field(description="What people call the ticket: its id in ConnectWise.")
    title: str | None = None
    board_id: int | None = None
    status_id: int | None = None
    status_name: str | None = None
    closed: bool = Field(False, description="ConnectWise's closedFlag.")
    company_id: int | None = None
    priority_id: int | None = None
    external_ref: str | None = None
    entered_at: datetime | None = None
    last_activity_at: datetime | None = None
    completed_at: datetime | None = None
    web_url: str | None = None


class TimeEntry(BaseModel):
    id: int
    ticket_id: int
    hours_worked: float | None = None
    worked_at: datetime | None = None
    resource_id: int | None = Field(None, description="The member who logged it.")
    member: str | None = Field(None, description="That member's name.")


class ResolveOutcome(BaseModel):
    """What ``resolve`` did: note A and the verified closed status, note A with the transition
    skipped (``transition_skipped_reason`` says why), or note B (time entries; the ticket stays open)."""

    note: Literal["A", "B"]
    note_id: int
    time_entries: int
    status_id: int | None = Field(description="The ticket's status afterwards, as fetched again.")
    status_name: str | None
    closed: bool
    transition_skipped_reason: str | None = None
