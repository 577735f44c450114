"""A report's period: whole days in the UI timezone, last month unless given."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from shared_code.app_settings import local_day_bounds
from shared_code.schema.fields import Day
from shared_code.schema.models import RequestModel

MAX_DAYS = 366  # a year, leap day included


class PeriodQuery(RequestModel):
    """``from`` and ``to`` (both included), days in the UI timezone; last month when left out."""

    model_config = ConfigDict(populate_by_name=True)

    first_day: Day | None = Field(None, alias="from", description="First day (YYYY-MM-DD), included.")
    last_day: Day | None = Field(None, alias="to", description="Last day (YYYY-MM-DD), included.")

    @field_validator("last_day")
    @classmethod
    def _after_first(cls, last: date | None, info: ValidationInfo) -> date | None:
        first = info.data.get("first_day")
        if first is not None and last is not None:
            if first > last:
                raise ValueError("must not be before 'from'")
            if (last - first).days >= MAX_DAYS:
                raise ValueError(f"the period may span at most {MAX_DAYS} days")
        return last


class Period(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    first_day: date = Field(alias="from")
    last_day: date = Field(alias="to")
    timezone: str

    def bounds(self) -> tuple[datetime, datetime]:
        """The instants the period starts and ends (end excluded)."""
        zone = ZoneInfo(self.timezone)
        return local_day_bounds(self.first_day, zone)[0], local_day_bounds(self.last_day, zone)[1]

    @property
    def label(self) -> str:
        return f"{self.first_day.isoformat()} – {self.last_day.isoformat()}"


def month_before(day: date) -> tuple[date, date]:
    """The first and last day of the month before ``day``'s month."""
    last = day.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def period_of(query: PeriodQuery, zone: ZoneInfo, now: datetime) -> Period:
    """The asked period; a missing end is filled from the other, both missing is last month."""
    default_first, default_last = month_before(now.astimezone(zone).date())
    first = query.first_day or (query.last_day.replace(day=1) if query.last_day else default_first)
    last = query.last_day or (_month_end(first) if query.first_day else default_last)
    return Period(first_day=first, last_day=last, timezone=str(zone))


def _month_end(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
