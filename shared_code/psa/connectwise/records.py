"""ConnectWise's JSON, both ways, as pydantic models: the records it answers (only the fields
Backupchecks reads; the rest is ignored) and the bodies sent to it (only known members: ConnectWise
refuses a member it does not know). Names are ConnectWise's, in camelCase on the wire.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from shared_code.psa.connectwise import errors as cw


class Wire(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    def body(self) -> dict[str, Any]:
        """As ConnectWise reads it: camelCase, unset references left out."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


Record = TypeVar("Record", bound=Wire)


def parse(model: type[Record], data: Any) -> Record:
    """``data`` as ``model``; ConnectWise answering something else is its error, said plainly."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "answer"
        raise cw.ConnectWiseError(
            f"ConnectWise answered an unexpected {model.__name__}: {where}: {first['msg']}"
        ) from None


def fields_of(model: type[Wire]) -> tuple[str, ...]:
    """ConnectWise's ``fields`` for ``model``: only what Backupchecks reads is sent back."""
    return tuple(field.alias or name for name, field in model.model_fields.items())


class Reference(Wire):
    """``{"id": 1, "name": "..."}``: how ConnectWise points at another record."""

    id: int
    name: str | None = None
    identifier: str | None = None


class RecordInfo(Wire):
    date_entered: datetime | None = None
    last_updated: datetime | None = None


class SystemInfo(Wire):
    version: str | None = None
    is_cloud: bool | None = None
    server_time_zone: str | None = None
    cloud_region: str | None = None  # e.g. "NA", "EU" (ConnectWise's hosting region; none on premises)


class BoardRecord(Wire):
    id: int
    name: str
    inactive_flag: bool = False


class BoardStatusRecord(Wire):
    id: int
    name: str
    closed_status: bool = False
    inactive: bool = False
    default_flag: bool = False


class PriorityRecord(Wire):
    id: int
    name: str
    sort_order: int | None = None


class SourceRecord(Wire):
    id: int
    name: str
    default_flag: bool = False


class CompanyStatusRecord(Wire):
    id: int
    inactive_flag: bool = False


class CompanyRecord(Wire):
    id: int
    identifier: str | None = None
    name: str = ""
    status: Reference | None = None
    deleted_flag: bool = False


class TicketRecord(Wire):
    id: int
    summary: str | None = None
    board: Reference | None = None
    status: Reference | None = None
    company: Reference | None = None
    priority: Reference | None = None
    external_x_ref: str | None = None
    closed_flag: bool = False
    closed_date: datetime | None = None
    info: RecordInfo | None = Field(None, alias="_info")


class TimeEntryRecord(Wire):
    id: int
    charge_to_id: int | None = None
    charge_to_type: str | None = None
    actual_hours: float | None = None
    time_start: datetime | None = None
    member: Reference | None = None


class NoteRecord(Wire):
    id: int


# --- bodies sent ---------------------------------------------------------------------------------


class TicketCreate(Wire):
    summary: str
    company: Reference
    board: Reference
    status: Reference
    priority: Reference
    source: Reference | None = None
    initial_description: str
    external_x_ref: str


class NoteCreate(Wire):
    """A note on a ticket: at least one of the three flags must be true, or ConnectWise refuses it."""

    text: str
    detail_description_flag: bool = False
    internal_analysis_flag: bool = False
    resolution_flag: bool = False
    process_notifications: bool = Field(True, description="False: no notification e-mails.")


class PatchOperation(Wire):
    """One JSON Patch operation (RFC 6902) as ConnectWise takes them: ``path`` like ``status/id``."""

    op: Literal["replace", "add", "remove"]
    path: str
    value: Any = None


def patch_body(*operations: PatchOperation) -> list[dict[str, Any]]:
    return [operation.model_dump(mode="json") for operation in operations]
