"""Ticket codes: ``T`` + the date in the UI timezone + a daily sequence, e.g. ``T20250123.0001``.

The sequence is one upsert on the day's counter row: concurrent creators queue on that row's
lock and each gets the next value, so codes stay unique without retries."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from shared_code.db.models import TicketCodeCounter


def next_ticket_code(session: Session, now: datetime, zone: ZoneInfo) -> str:
    day = now.astimezone(zone).date()
    first = insert(TicketCodeCounter).values(day=day, last_value=1)
    statement = first.on_conflict_do_update(
        index_elements=[TicketCodeCounter.day],
        set_={"last_value": TicketCodeCounter.last_value + 1},
    ).returning(TicketCodeCounter.last_value)
    sequence = session.execute(statement).scalar_one()
    return f"T{day:%Y%m%d}.{sequence:04d}"
