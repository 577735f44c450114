"""Format drift: a sender whose mails used to parse now parses with less, or not at all.

Found before the job shows up as missed, from what the mail table already holds:
- stopped parsing: a sender with a live job has mail waiting in the Inbox that a parser failed on,
  or two or more mails no parser recognised, newer than its last mail that parsed ("Veeam mails
  from vbr01@… stopped parsing on 3 Dec: 4 mails waiting"); one unrecognised mail is not enough,
  as a known sender also sends notices that are no report (a package update, a licence notice);
- parses with less: a job's newest mail has no objects where its mail before had some, or parses
  without a status word (its status derived from its objects or subject) where the one before
  stated it.
All clear by themselves when the sender's next mail parses as before (or the waiting mail is
re-parsed, deleted or taught to a parsing rule).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from shared_code.db.models import Job, MailMessage, MailObject, ci_key
from shared_code.parsers.registry import NOT_RECOGNISED

WINDOW = timedelta(days=30)  # mail older than this says nothing about today's format
NEWEST_COMPARED = 10  # a job's newest mails read for "parses with less"
UNRECOGNISED_ENOUGH = 2  # unrecognised mails in a row that say a sender stopped parsing
# Waiting in the Inbox (as mail.inbox has it; that package sits above this one).
IN_INBOX = (MailMessage.job_id.is_(None), MailMessage.live, MailMessage.location == "inbox")


JobDrift = Literal["fewer_objects", "no_status_word"]


class FormatDrift(BaseModel):
    kind: Literal["stopped_parsing"] | JobDrift
    from_address: str
    software: str | None = None
    job_ids: list[int] = Field(description="The sender's jobs the drift concerns.")
    since: datetime = Field(description="The first mail that parsed with less, or not at all.")
    mails: int = Field(description="Mails waiting unparsed, or mails that parsed with less.")
    message: str


def format_drifts(session: Session, *, now: datetime) -> list[FormatDrift]:
    """Every sender and job whose mail drifted, stopped parsing first."""
    since = now - WINDOW
    return [*_stopped_parsing(session, since), *_parses_with_less(session, _newest_mails(session, since))]


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
    failed = MailMessage.parse_status == "error"
    waiting = session.execute(
        select(last_parsed.c.sender, func.min(MailMessage.received_at), func.count())
        .join(last_parsed, sender == last_parsed.c.sender)
        .where(
            *IN_INBOX,
            MailMessage.received_at > last_parsed.c.at,
            or_(failed, MailMessage.parse_error.startswith(NOT_RECOGNISED)),
        )
        .group_by(last_parsed.c.sender)
        .having(or_(func.count() >= UNRECOGNISED_ENOUGH, func.bool_or(failed)))
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


@dataclass(frozen=True)
class _Mail:
    received_at: datetime
    objects: int
    status_stated: bool | None


def _newest_mails(session: Session, since: datetime) -> dict[int, list[_Mail]]:
    """Each job's newest mails in the window, newest first."""
    recent = (
        select(
            MailMessage.id,
            MailMessage.job_id,
            MailMessage.received_at,
            MailMessage.status_stated,
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
        select(recent.c.job_id, recent.c.received_at, objects, recent.c.status_stated)
        .where(recent.c.newest <= NEWEST_COMPARED)
        .order_by(recent.c.job_id, recent.c.newest)
    ).all()
    by_job: dict[int, list[_Mail]] = {}
    for job_id, received_at, count, stated in rows:
        by_job.setdefault(job_id, []).append(_Mail(received_at, count, stated))
    return by_job


def _parses_with_less(session: Session, by_job: dict[int, list[_Mail]]) -> list[FormatDrift]:
    """Jobs whose newest mails lack objects, or a status word, that the mail right before them had."""
    found: list[FormatDrift | None] = []
    for job_id, mails in by_job.items():
        empty = _newest_without(mails, lambda mail: mail.objects > 0)
        if empty is not None:
            what = f"no objects where there were {mails[empty].objects}"
            found.append(_job_drift(session, "fewer_objects", job_id, mails, empty, "parse with less", what))
        # None (parsed before this was recorded) is neither: it never counts as a stated status.
        unstated = _newest_without(mails, lambda mail: mail.status_stated is not False)
        if unstated is not None and mails[unstated].status_stated:
            what = "the status is taken from the objects or the subject"
            how = "parse without a status word"
            found.append(_job_drift(session, "no_status_word", job_id, mails, unstated, how, what))
    return [drift for drift in found if drift is not None]


def _newest_without(mails: list[_Mail], has: Callable[[_Mail], bool]) -> int | None:
    """How many of the newest mails lack what the mail right before them has (None: not so)."""
    lacking = next((index for index, mail in enumerate(mails) if has(mail)), len(mails))
    return lacking if 0 < lacking < len(mails) else None


def _job_drift(
    session: Session, kind: JobDrift, job_id: int, mails: list[_Mail], lost: int, how: str, what: str
) -> FormatDrift | None:
    """The drift of a live job whose ``lost`` newest mails lack what the mail before them had."""
    job = session.get(Job, job_id)
    if job is None or not job.live:
        return None
    first = mails[lost - 1].received_at
    return FormatDrift(
        kind=kind,
        from_address=job.from_address,
        software=job.backup_software,
        job_ids=[job.id],
        since=first,
        mails=lost,
        message=f"{job.backup_software} mails of {job.job_name} from {job.from_address} {how} "
        f"since {first:%d %b}: {what}",
    )


def _jobs_of(session: Session, address: str) -> list[Job]:
    return list(
        session.scalars(select(Job).where(Job.live, ci_key(Job.from_address) == address).order_by(Job.id))
    )
