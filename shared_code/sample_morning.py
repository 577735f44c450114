"""The first start's live morning: the sample mailbox re-dated so that it reads like the last three
weeks of an MSP's backups, seen the morning after (``make run`` on an empty database).

Every sample mail plays a part (``CAST``): most jobs report every night, on weekdays or once a week
(their schedules are learned), one did not report this morning (a missed run), last night brought
new failures and warnings to review, some jobs warn every night (one such warning is accepted by
an override), a weekly failure has an open ticket, update notices are informational, and mail from
senders no job knows yet waits in the Inbox with the noise. Each copy goes through the real pipeline with only
its Date and Message-ID rewritten (its Received headers, which would date it, are dropped); the
corpus files are left as they are for the parser tests. What came in before the last day is
history, reviewed by ``sample``."""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared_code.app_settings import load_app_settings, ui_zone
from shared_code.db.engine import unit_of_work
from shared_code.db.models import Job, JobRun, MailMessage, MailObject
from shared_code.mail.inbox import IN_INBOX, ApproveBody, approve
from shared_code.mail.ingest import ingest
from shared_code.mail.sources import RawMail
from shared_code.runs.missed_runs import generate_missed_runs, grace_period
from shared_code.runs.override_changes import OverrideCreate, create_override
from shared_code.runs.reviews import RunSelection, review
from shared_code.tickets.kinds import TICKETS
from shared_code.tickets.notes import NoteCreate, create_note

ACTOR = "sample"
HISTORY_DAYS = 21
LAST_DAY = timedelta(hours=24)  # what came in since the last review
MESSAGE_ID_DOMAIN = "sample.backupchecks.invalid"
REVIEW_BATCH = 500
DAILY = frozenset(range(7))
WEEKDAYS = frozenset(range(5))
FRIDAYS, SATURDAYS, SUNDAYS = frozenset({4}), frozenset({5}), frozenset({6})

Progress = Callable[[int, int], None]  # (mails ingested, mails in all)


@dataclass(frozen=True)
class Part:
    """A sample mail's part in the story.

    ``customer`` None: the mail waits in the Inbox (noise, or a sender no job knows yet).
    ``days``: the local weekdays the job reports on, for the last three weeks; None: the mail
    came in once. ``hours_ago``: when its latest copy came in, before the morning; a job's time
    of day is that hour on every day it reports."""

    customer: str | None
    hours_ago: float
    days: frozenset[int] | None = None


def _cast() -> dict[str, Part]:
    def job(customer: str, hours_ago: float, days: frozenset[int] | None = None) -> Part:
        return Part(customer, hours_ago, days)

    def waiting(hours_ago: float) -> Part:
        return Part(None, hours_ago)

    return {
        # Contoso: a Veeam server, a Synology NAS, Microsoft 365 and Proxmox.
        "veeam_backup_success_3vms": job("Contoso", 7.5, DAILY),
        "veeam_backup_copy_success": job("Contoso", 4.0, DAILY),  # MISSED_TODAY
        "veeam_backup_warning_one_vm": job("Contoso", 6.7, DAILY),  # OVERRIDE_ON
        "veeam_backup_failed": job("Contoso", 8.0),
        "veeam_backup_failed_crlf": job("Contoso", 7.6),
        "synology_hyperbackup_success_en": job("Contoso", 5.2, DAILY),
        "synology_abb_pc_success_en": job("Contoso", 20.5, WEEKDAYS),
        "synology_abb_server_failed_en": job("Contoso", 10.4),
        "synology_drive_firmware_notice_en": job("Contoso", 26.0),
        "synology_dsm_autoupdate_cancelled_en": job("Contoso", 6.8),
        "vb365_exchange_success": job("Contoso", 7.9, DAILY),
        "vb365_warning_encoded_subject": job("Contoso", 7.2, DAILY),  # throttled every night
        "proxmox_vzdump_failed_one_guest": job("Contoso", 9.0),
        "proxmox_pbs_verify_failed": job("Contoso", 5.3),
        "acronis_backup_success": job("Contoso", 6.1, DAILY),
        "acronis_backup_warning": job("Contoso", 1.5),
        "acronis_backup_failed": job("Contoso", 14.0),
        # Fabrikam: Veeam, two Synology NAS, Proxmox.
        "veeam_config_backup_success": job("Fabrikam", 23.0, SATURDAYS),
        "veeam_replication_warning": job("Fabrikam", 12.3),
        "synology_abb_pc_success_nl": job("Fabrikam", 19.9, WEEKDAYS),
        "synology_abb_vm_partial_nl": job("Fabrikam", 9.8),
        "synology_dsm_combined_en": job("Fabrikam", 6.4),
        "synology_packages_outdated_nl": job("Fabrikam", 30.0),
        "proxmox_vzdump_success": job("Fabrikam", 7.1, DAILY),
        "proxmox_pbs_sync_success": job("Fabrikam", 4.6, DAILY),
        # Northwind Traders
        "veeam_agent_job_managed": job("Northwind Traders", 6.4, DAILY),
        "veeam_subject_body_disagree": job("Northwind Traders", 13.2),
        "synology_hyperbackup_failed_en": job("Northwind Traders", 16.0, FRIDAYS),  # TICKET_ON
        "proxmox_pbs_gc_success": job("Northwind Traders", 5.6, SUNDAYS),
        # Tailspin Toys
        "nakivo_backup_success": job("Tailspin Toys", 7.7, DAILY),
        "nakivo_backup_warning": job("Tailspin Toys", 7.9, SATURDAYS),
        "nakivo_replication_failed": job("Tailspin Toys", 10.6),
        "veeam_agent_windows_success": job("Tailspin Toys", 5.8, DAILY),
        "veeam_agent_windows_warning": job("Tailspin Toys", 21.2),
        # Woodgrove Bank
        "veeam_backup_36vms": job("Woodgrove Bank", 6.7, DAILY),  # one VM warns every night
        "veeam_backup_retry_success": job("Woodgrove Bank", 6.9, DAILY),
        # Litware
        "qnap_hbs_success": job("Litware", 4.3, DAILY),
        "qnap_hbs_warning": job("Litware", 5.9),
        "veeam_agent_linux_failed": job("Litware", 8.2),
        # Adatum
        "vb365_long_242_mailboxes": job("Adatum", 6.1),
        "proxmox_vzdump_storage_offline": job("Adatum", 7.1),
        # Waiting in the Inbox: a known sender's new job (a customer is suggested), new senders, noise.
        "synology_hyperbackup_partial_en": waiting(5.1),
        "duplicati_backup_success": waiting(3.2),
        "duplicati_backup_warning": waiting(2.9),
        "duplicati_backup_fatal": waiting(2.4),
        "duplicati_backup_error": waiting(9.3),
        "proxmox_pbs_prune_success": waiting(12.0),
        "noise_dmarc_report": waiting(7.7),
        "noise_forwarded_report": waiting(1.2),
        "noise_newsletter": waiting(15.0),
        "noise_out_of_office": waiting(13.5),
        "noise_proxmox_test_notification": waiting(30.5),
    }


CAST = _cast()
UNCAST = Part(None, 3.0)  # a sample added to the corpus later waits in the Inbox
MISSED_TODAY = "veeam_backup_copy_success"
OVERRIDE_ON = "veeam_backup_warning_one_vm"
TICKET_ON = "synology_hyperbackup_failed_en"
OVERRIDE_REASON = "Accepted with the customer: this warning is expected and needs no action (sample)"
TICKET_TEXT = "The USB disk of the weekly Hyper Backup fails; the customer has ordered a new one (sample)"


@dataclass(frozen=True)
class Copy:
    """One re-dated copy of a sample mail."""

    stem: str
    at: datetime

    def message_id(self) -> str:
        return f"<{self.stem}.{self.at:%Y%m%dT%H%M%S}@{MESSAGE_ID_DOMAIN}>"


@dataclass
class Morning:
    """What the staged morning shows (read back from the database)."""

    mails: int = 0
    customers: int = 0
    jobs: int = 0
    schedules: dict[str, int] = field(default_factory=dict)
    to_review: dict[str, int] = field(default_factory=dict)
    in_inbox: int = 0

    def line(self) -> str:
        schedules = ", ".join(f"{count} {kind}" for kind, count in sorted(self.schedules.items()))
        review = ", ".join(f"{count} {status}" for status, count in sorted(self.to_review.items()))
        return (
            f"{self.mails} sample mails re-dated to the last {HISTORY_DAYS} days: {self.customers} customers, "
            f"{self.jobs} jobs (schedules: {schedules}); to review: {review}; {self.in_inbox} in the Inbox"
        )


def stage(mailbox: Path, now: datetime | None = None, progress: Progress | None = None) -> Morning:
    """Ingest the re-dated copies, approve the cast's jobs, play the plots, learn the schedules and
    book the missed run. For an empty database (the copies' ids would not repeat a second time)."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    with unit_of_work() as session:
        zone, grace = ui_zone(load_app_settings(session)), grace_period()
    samples = {path.stem: path.read_bytes() for path in sorted(mailbox.glob("*.eml"))}
    copies = sorted(
        (copy for stem in samples for copy in _copies(stem, now, zone, grace)), key=lambda c: (c.at, c.stem)
    )
    latest: dict[str, int] = {}
    for done, copy in enumerate(copies, start=1):
        ingested = ingest(
            RawMail("directory", f"{mailbox / copy.stem}.eml", redated(samples[copy.stem], copy.at, copy.message_id()))
        )
        if ingested.mail_id is not None:
            latest[copy.stem] = ingested.mail_id
        if progress is not None:
            progress(done, len(copies))
    with unit_of_work() as session:
        jobs = _approve_cast(session, latest)
        _play_plots(session, jobs, now)
        _review_history(session, now)
        generate_missed_runs(session, now=now, actor=ACTOR)
    with unit_of_work() as session:
        return _morning(session, len(copies))


def _copies(stem: str, now: datetime, zone: ZoneInfo, grace: timedelta) -> Iterator[Copy]:
    """When each copy of the sample came in: on every day the part reports, at its time of day,
    a few minutes either way; the missed job's latest is left out."""
    part, missed = CAST.get(stem, UNCAST), stem == MISSED_TODAY
    # The missed slot must be past the grace period, or the missed-runs timer would not book it.
    hours_ago = max(part.hours_ago, grace / timedelta(hours=1) + 1.5) if missed else part.hours_ago
    latest = (now - timedelta(hours=hours_ago)).astimezone(zone)
    if part.days is None:
        yield Copy(stem, latest)
        return
    jitter = random.Random(stem)  # noqa: S311 - a repeatable jitter, not a secret
    times = [
        datetime.combine(day, latest.time(), tzinfo=zone) + timedelta(minutes=jitter.randint(-6, 6))
        for day in _days(latest.date(), HISTORY_DAYS)
        if day.weekday() in part.days
    ]
    yield from (Copy(stem, at) for at in (times[:-1] if missed else times))


def _days(last: date, count: int) -> list[date]:
    return [last - timedelta(days=n) for n in range(count, -1, -1)]


def redated(mime: bytes, at: datetime, message_id: str) -> bytes:
    """The mail with a new Date and Message-ID, and without the Received headers that would date it
    (the pipeline takes the newest Received over Date); the body and line endings are kept."""
    newline = b"\r\n" if b"\r\n" in mime.split(b"\n\n", 1)[0] else b"\n"
    head, blank, body = mime.partition(newline + newline)
    kept = [
        field
        for field in re.split(rb"\r?\n(?![ \t])", head)
        if not re.match(rb"(?i)(date|message-id|received)\s*:", field)
    ]
    new = [
        b"Date: " + format_datetime(at.astimezone(UTC)).encode(),
        b"Message-ID: " + message_id.encode(),
    ]
    return newline.join(new + kept) + blank + body


def _approve_cast(session: Session, latest: dict[str, int]) -> dict[str, int]:
    """Approve each cast job (from its latest mail, which books all its copies); job id by stem."""
    jobs = {}
    for stem, mail_id in latest.items():
        customer = CAST.get(stem, UNCAST).customer
        if customer is not None:
            jobs[stem] = approve(session, mail_id, ApproveBody(customer_name=customer), ACTOR).job_id
    return jobs


def _play_plots(session: Session, jobs: dict[str, int], now: datetime) -> None:
    """The override on the nightly warning and the ticket on the weekly failure."""
    start = now - timedelta(days=HISTORY_DAYS + 1)
    if OVERRIDE_ON in jobs:
        message = session.scalar(  # the warning the job repeats every night
            select(MailObject.message)
            .join(MailMessage)
            .where(MailMessage.job_id == jobs[OVERRIDE_ON], MailObject.status == "warning")
            .limit(1)
        )
        create_override(
            session,
            OverrideCreate(
                scope="job",
                job_id=jobs[OVERRIDE_ON],
                match_status="warning",
                match_message=(message or "")[:60] or None,
                result_status="success",
                reason=OVERRIDE_REASON,
                active_from=start,
            ),
            ACTOR,
        )
    if TICKET_ON in jobs:
        runs = list(session.scalars(select(JobRun.id).where(JobRun.job_id == jobs[TICKET_ON])))
        create_note(
            session,
            TICKETS,
            NoteCreate(description=TICKET_TEXT, job_ids=[jobs[TICKET_ON]], run_ids=runs),
            ACTOR,
            now=start + timedelta(days=7),
        )


def _review_history(session: Session, now: datetime) -> None:
    """The operator reviewed everything up to yesterday morning; the last day's runs are to review."""
    history = list(
        session.scalars(select(JobRun.id).where(JobRun.run_at < now - LAST_DAY).order_by(JobRun.id))
    )
    for start in range(0, len(history), REVIEW_BATCH):
        review(session, RunSelection(run_ids=history[start : start + REVIEW_BATCH]), ACTOR, now=now)


def _morning(session: Session, mails: int) -> Morning:
    return Morning(
        mails=mails,
        customers=session.scalar(select(func.count(func.distinct(Job.customer_id))).where(Job.live)) or 0,
        jobs=session.scalar(select(func.count()).select_from(Job).where(Job.live)) or 0,
        schedules=dict(
            session.execute(
                select(Job.schedule_kind, func.count()).where(Job.live).group_by(Job.schedule_kind)
            )
            .tuples()
            .all()
        ),
        to_review=dict(
            session.execute(
                select(JobRun.effective_status, func.count())
                .where(JobRun.reviewed_at.is_(None))
                .group_by(JobRun.effective_status)
            )
            .tuples()
            .all()
        ),
        in_inbox=session.scalar(select(func.count()).where(*IN_INBOX)) or 0,
    )


def holds_mail(session: Session) -> bool:
    """Whether the database has any mail yet (the morning is staged on an empty one only)."""
    return session.scalar(select(MailMessage.id).limit(1)) is not None
