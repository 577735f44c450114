"""The settings row (id = 1) as the operator features read it: UI timezone and the active PSA.

A fresh database has no row yet; the column defaults then apply, so readers never need a write."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from shared_code.db.models import AppSettings

DEFAULT_TIMEZONE = "Europe/Amsterdam"


def load_app_settings(session: Session) -> AppSettings:
    row = session.scalars(select(AppSettings).where(AppSettings.id == 1)).first()
    return row or AppSettings(id=1, ui_timezone=DEFAULT_TIMEZONE, psa_provider="none")


def settings_row(session: Session, *, for_update: bool = False) -> AppSettings:
    """The row itself, to change it: inserted with its column defaults on a fresh database
    (concurrent requests: one inserts)."""
    statement = select(AppSettings).where(AppSettings.id == 1)
    if for_update:
        statement = statement.with_for_update()
    row = session.scalars(statement).first()
    if row is None:
        session.execute(insert(AppSettings).values(id=1).on_conflict_do_nothing())
        row = session.scalars(statement).one()
    return row


def ui_zone(settings: AppSettings) -> ZoneInfo:
    return ZoneInfo(settings.ui_timezone or DEFAULT_TIMEZONE)


def local_day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants a calendar day starts and ends in ``zone`` (23 or 25 hours on DST days)."""
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return start, end
