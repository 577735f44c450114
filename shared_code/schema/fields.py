"""Field types shared by request and response models across the API.

PostgreSQL refuses NUL characters and dates outside its range; refusing them here turns what
would be a database error into a 4xx naming the field."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, Field, WithJsonSchema

from shared_code.schema.names import canonical

INT32_MAX = 2**31 - 1
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _supported_moment(value: datetime) -> datetime:
    if not EARLIEST <= value < LATEST:
        raise ValueError("must be between 2000-01-01 and 2100-01-01")
    return value


def _supported_day(value: date) -> date:
    if not EARLIEST.date() <= value < LATEST.date():
        raise ValueError("must be between 2000-01-01 and 2100-01-01")
    return value


def comma_separated(value: Any) -> Any:
    """A query parameter's ``a,b`` as a list (query strings carry one value per name here)."""
    return [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value


Id = Annotated[int, Field(ge=1, le=INT32_MAX)]
IdList = Annotated[list[Id], Field(min_length=1, max_length=1000)]
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_no_nul)]
# A name people type and read: NFKC, invisible characters removed, control characters refused.
DisplayName = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(canonical)]
Text = Annotated[str, Field(min_length=1, max_length=4000), AfterValidator(_no_nul)]
Search = Annotated[str, Field(max_length=200), AfterValidator(_no_nul)]
Moment = Annotated[AwareDatetime, AfterValidator(_supported_moment)]
Day = Annotated[date, AfterValidator(_supported_day)]
# A wall-clock time without an offset ("15:20:00", in the UI timezone). JSON Schema's "time"
# format is RFC 3339's full-time, which requires one, so the schema states the shape instead.
TimeOfDay = Annotated[
    time,
    WithJsonSchema(
        {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?$", "example": "15:20:00"}
    ),
]
