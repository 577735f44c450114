"""Format drift: a sender whose mails used to parse now parses with less, or not at all.

Found before the job shows up as missed, from what the mail table already holds:
- stopped parsing: a sender with a live job has mail waiting in the Inbox that no parser recognised
  (or a parser failed on), newer than its last mail that parsed ("Veeam mails from vbr01@… stopped
  parsing on 3 Dec: 4 mails waiting");
- parses with less: a job's newest mail has no objects where its mail before had some.
Both clear by themselves when the sender's next mail parses as before (or the waiting mail is
re-parsed, deleted or taught to a parsing rule).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from shared_code.db.models import Job, MailMessage, MailObject, ci_key
from shared_code.parsers.registry import NOT_RECOGNISED

WINDOW = timedelta(days=30)  # mail older than this says nothing about today's format
NEWEST_COMPARED = 10  # a job's newest mails read for "no objects where there were some"
# Waiting in the Inbox (as mail.inbox has it; that package sits above this one).
IN_INBOX = (MailMessage.job_id.is_(None), MailMessage.live, MailMessage.location == "inbox")


class FormatDrift(BaseModel):
    kind: Literal["stopped_parsing", "fewer_objects"]
    from_address: str
    software: str | None = None
    job_ids: list[int] = Field(description="The sender's jobs the drift concerns.")
    since: datetime = Field(description="The first mail that parsed with less, or not at all.")
    mails: int = Field(description="Mails waiting unparsed, or mails that parsed with less.")
    message: str


def format_drifts(session: Session, *, now: datetime) -> list[FormatDrift]:
    """Every sender and job whose mail drifted, stopped parsing first."""
    return [*_stopped_parsing(session, now - WINDOW), *_fewer_objects(session, now - WINDOW)]


def _stopped_parsing(session: Session, since: datetime) -> list[FormatDrift]:
    sender = ci_key(MailMessage.from_address)
    last_parsed = (
        select(
            sender.label("sender"),
            func.max(MailMessage.received_at).label("at"),
        )
        .where(MailMessage.live, MailMessage.parse_status == "parsed", MailMessage.received_at >= since)
        .group_by(sender)
        .subquery()
    )
    waiting = session.execute(
        select(last_parsed.c.sender, func.min(MailMessage.received_at), func.count())
        .join(last_parsed, sender == last_parsed.c.sender)
        .where(
            *IN_INBOX,
            MailMessage.received_at > last_parsed.c.at,
            or_(MailMessage.parse_status == "error", MailMessage.parse_error.startswith(NOT_RECOGNISED)),
        )
        .group_by(last_parsed.c.sender)
    ).all()
    found = []
    for address, first, count in waiting:
        jobs = _jobs_of(session, address)
        if not jobs:
            continue  # a sender no job knows yet: its mail waits in the Inbox, nothing drifted
        software = jobs[0].backup_software
        found.append(
            FormatDrift(
                kind="stopped_parsing",
                from_address=address,
                software=software,
                job_ids=[job.id for job in jobs],
                since=first,
                mails=count,
                message=f"{software} mails from {address} stopped parsing on {first:%d %b}: "
                f"{count} mail{'s' if count != 1 else ''} waiting in the Inbox",
            )
        )
    return found


def _fewer_objects(session: Session, since: datetime) -> list[FormatDrift]:
    """Jobs whose newest mails have no objects, right after a mail that had some."""
    recent = (
        select(
            MailMessage.id,
            MailMessage.job_id,
            MailMessage.received_at,
            func.row_number()
            .over(
                partition_by=MailMessage.job_id,
                order_by=(MailMessage.received_at.desc(), MailMessage.id.desc()),
            )
            .label("newest"),
        )
        .where(MailMessage.live, MailMessage.job_id.is_not(None), MailMessage.received_at >= since)
        .subquery()
    )
    # Objects are counted for each job's newest mails only.
    objects = (
        select(func.count()).where(MailObject.mail_id == recent.c.id).correlate(recent).scalar_subquery()
    )
    rows = session.execute(
        select(recent.c.job_id, recent.c.received_at, objects)
        .where(recent.c.newest <= NEWEST_COMPARED)
        .order_by(recent.c.job_id, recent.c.newest)
    ).all()
    by_job: dict[int, list[tuple[datetime, int]]] = {}
    for job_id, received_at, count in rows:
        by_job.setdefault(job_id, []).append((received_at, count))
    found = []
    for job_id, mails in by_job.items():
        empty = next((index for index, (_, count) in enumerate(mails) if count), len(mails))
        if not 0 < empty < len(mails):
            continue  # the newest mail has objects, or the job never had any in the window
        job = session.get(Job, job_id)
        if job is None or not job.live:
            continue
        before = mails[empty][1]
        first = mails[empty - 1][0]
        found.append(
            FormatDrift(
                kind="fewer_objects",
                from_address=job.from_address,
                software=job.backup_software,
                job_ids=[job.id],
                since=first,
                mails=empty,
                message=f"{job.backup_software} mails of {job.job_name} from {job.from_address} parse with less "
                f"since {first:%d %b}: no objects where there were {before}",
            )
        )
    return found


def _jobs_of(session: Session, address: str) -> list[Job]:
    return list(
        session.scalars(select(Job).where(Job.live, ci_key(Job.from_address) == address).order_by(Job.id))
    )
