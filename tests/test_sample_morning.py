"""`make run`'s first start: the sample mailbox re-dated into the last three weeks, so Run Checks,
Daily Jobs, schedules, missed runs, overrides, tickets and the Inbox show a live morning."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from email import message_from_bytes
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared_code import cli, sample_morning
from shared_code.db.engine import get_sessionmaker
from shared_code.db.models import Job, JobRun, MailMessage, Override
from shared_code.sample_morning import CAST, MISSED_TODAY, OVERRIDE_ON, TICKET_ON, Copy
from tests.support.database import TestDatabase, empty_every_table

MAILBOX = cli.SAMPLE_MAILBOX
ZONE = ZoneInfo("Europe/Amsterdam")  # the UI timezone of a fresh database
WEDNESDAY_MORNING = datetime(2026, 12, 2, 8, 30, tzinfo=ZONE)


def corpus_digest() -> str:
    return hashlib.sha256(b"".join(path.read_bytes() for path in sorted(MAILBOX.iterdir()))).hexdigest()


@pytest.fixture(scope="module")
def morning(database: TestDatabase) -> Iterator[Session]:
    """The morning staged once for this module's tests, which only read it."""
    before = corpus_digest()
    empty_every_table()
    sample_morning.stage(MAILBOX, now=WEDNESDAY_MORNING)
    assert corpus_digest() == before, "the corpus files stay as they are"
    session = get_sessionmaker()()
    try:
        yield session
    finally:
        session.close()


def job_of(session: Session, stem: str) -> Job:
    sender, job_name = _identity(stem)
    job = session.scalar(select(Job).where(Job.job_name == job_name, Job.from_address == sender))
    assert job is not None, stem
    return job


def _sample_mail(stem: str) -> bytes:
    return (MAILBOX / f"{stem}.eml").read_bytes()


def _identity(stem: str) -> tuple[str, str]:
    """The sample's sender and job name, as its job is known by."""
    from shared_code.parsers.mime import decode_mail
    from shared_code.parsers.registry import parse_mail

    decoded = decode_mail(_sample_mail(stem))
    result = parse_mail(decoded).result
    assert result is not None, stem
    return decoded.from_address, result.job_name


def test_every_sample_mail_has_a_part() -> None:
    assert {path.stem for path in MAILBOX.glob("*.eml")} == set(CAST)


def test_nightly_weekday_and_weekly_schedules_are_learned(morning: Session) -> None:
    for stem, part in CAST.items():
        if part.customer is None or part.days is None:
            continue
        job = job_of(morning, stem)
        if part.days == sample_morning.DAILY:
            assert job.schedule_kind == "daily", stem
        else:
            assert (job.schedule_kind, sorted(job.schedule_weekdays or [])) == (
                "weekly",
                sorted(part.days),
            ), stem
    kinds = Counter(morning.scalars(select(Job.schedule_kind)))
    assert kinds["daily"] >= 10 and kinds["weekly"] >= 4


def test_one_job_missed_this_morning_and_no_other(morning: Session) -> None:
    missed = list(morning.scalars(select(JobRun).where(JobRun.missed)))
    assert [run.job_id for run in missed] == [job_of(morning, MISSED_TODAY).id]
    assert missed[0].run_at.astimezone(ZONE).date() == WEDNESDAY_MORNING.date()
    assert missed[0].reviewed_at is None


def test_last_night_brought_failures_and_warnings_to_review(morning: Session) -> None:
    from shared_code.runs.run_checks import RunChecksQuery, run_checks

    page = run_checks(morning, RunChecksQuery(status=["failed", "warning", "missed"], limit=100))
    shown = Counter(run.effective_status for c in page.customers for j in c.jobs for run in j.runs)
    assert shown["failed"] >= 8 and shown["warning"] >= 8 and shown["missed"] == 1
    assert len(page.customers) >= 5


def test_what_came_in_before_the_last_day_is_reviewed_history(morning: Session) -> None:
    cutoff = WEDNESDAY_MORNING - sample_morning.LAST_DAY
    runs = list(morning.execute(select(JobRun.run_at, JobRun.reviewed_by).where(~JobRun.missed)))
    assert {by for at, by in runs if at < cutoff} == {sample_morning.ACTOR}
    assert {by for at, by in runs if at >= cutoff} == {None}
    assert max(at for at, _ in runs) <= WEDNESDAY_MORNING
    assert min(at for at, _ in runs) >= WEDNESDAY_MORNING - timedelta(days=sample_morning.HISTORY_DAYS + 1)


def test_an_override_accepts_the_nightly_warning(morning: Session) -> None:
    job = job_of(morning, OVERRIDE_ON)
    override = morning.scalar(select(Override).where(Override.job_id == job.id))
    assert override is not None and override.result_status == "success" and override.match_message
    statuses = set(
        morning.execute(select(JobRun.status, JobRun.effective_status).where(JobRun.job_id == job.id))
    )
    assert statuses == {("warning", "success")}


def test_the_weekly_failure_has_an_open_ticket_on_its_runs(morning: Session) -> None:
    from shared_code.db.models import TicketJobRun
    from shared_code.tickets.kinds import TICKETS
    from shared_code.tickets.notes import NoteListQuery, list_notes

    job = job_of(morning, TICKET_ON)
    notes, _ = list_notes(morning, TICKETS, NoteListQuery(job_id=job.id, state="open"))
    assert len(notes) == 1
    linked = set(morning.scalars(select(TicketJobRun.job_run_id).where(TicketJobRun.note_id == notes[0].id)))
    assert (
        linked == set(morning.scalars(select(JobRun.id).where(JobRun.job_id == job.id))) and len(linked) >= 3
    )


def test_update_notices_are_informational_jobs(morning: Session) -> None:
    informational = list(morning.scalars(select(Job).where(Job.informational)))
    assert len(informational) >= 3
    assert {job.schedule_kind for job in informational} == {"none"}


def test_daily_jobs_for_today_lists_every_job_with_its_day(morning: Session) -> None:
    from shared_code.runs.daily_jobs import DailyJobsQuery, daily_jobs

    page = daily_jobs(morning, DailyJobsQuery(limit=200), now=WEDNESDAY_MORNING, grace=timedelta(hours=2))
    assert page.date == WEDNESDAY_MORNING.date()
    assert len(page.items) == morning.scalar(select(func.count()).select_from(Job))
    by_status = Counter(item.day_status for item in page.items)
    assert by_status["missed"] == 1 and by_status["failed"] >= 5 and by_status["success"] >= 10
    assert sum(item.expected for item in page.items) >= 15


def test_the_inbox_holds_new_senders_and_noise_with_reasons(morning: Session) -> None:
    from shared_code.mail.inbox import inbox_groups

    groups = inbox_groups(morning)
    assert groups.unparsed == sum(1 for stem in CAST if stem.startswith("noise_"))
    suggested = {g.job_name: g.suggested_customer.name for g in groups.groups if g.suggested_customer}
    assert suggested == {"Remote-NAS-Replica": "Fabrikam"}
    reasons = morning.scalars(
        select(MailMessage.parse_error).where(
            MailMessage.job_id.is_(None), MailMessage.parse_status != "parsed"
        )
    )
    assert all(reasons)


def test_the_pipeline_sees_recent_mail(morning: Session) -> None:
    from shared_code.pipeline_status import pipeline_status

    status = pipeline_status(morning, now=WEDNESDAY_MORNING)
    assert "no_recent_mail" not in {attention.code for attention in status.attention}
    assert status.format_drift == []  # the noise in the Inbox is no drift of a known sender


def test_a_copy_is_redated_without_the_headers_that_would_date_it() -> None:
    mime = _sample_mail("veeam_backup_failed_crlf")
    copy = Copy("veeam_backup_failed_crlf", datetime(2026, 12, 1, 22, 5, tzinfo=ZONE))
    redated = sample_morning.redated(mime, copy.at, copy.message_id())
    message = message_from_bytes(redated)
    assert message["Date"] == "Tue, 01 Dec 2026 21:05:00 +0000"
    assert message["Message-ID"] == copy.message_id()
    assert message.get_all("Received") is None
    assert redated.split(b"\r\n\r\n", 1)[1] == mime.split(b"\r\n\r\n", 1)[1], "the body is untouched"
    assert b"\n" not in redated.split(b"\r\n\r\n", 1)[0].replace(b"\r\n", b""), "line endings kept"
