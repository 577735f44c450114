"""`make run` stages the sample morning on an empty database only, and whatever the time of its
first start, the story holds: exactly the one missed run, nothing from the future."""

from __future__ import annotations

from contextlib import redirect_stdout
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared_code import cli, sample_morning
from shared_code.db.models import JobRun, MailMessage
from shared_code.sample_morning import CAST, MISSED_TODAY
from tests.test_sample_morning import MAILBOX, ZONE, job_of


@pytest.mark.slow
@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 11, 30, 0, 20, tzinfo=ZONE),  # Monday just after midnight, a weekend behind
        datetime(2027, 3, 29, 7, 45, tzinfo=ZONE),  # the morning after the clocks went forward
        datetime(2026, 12, 6, 15, 0, tzinfo=ZONE),  # a Sunday afternoon
    ],
)
def test_any_time_of_first_start_gives_exactly_the_one_missed_run(db: Session, now: datetime) -> None:
    sample_morning.stage(MAILBOX, now=now)

    missed = list(db.scalars(select(JobRun.job_id).where(JobRun.missed)))
    assert missed == [job_of(db, MISSED_TODAY).id]
    assert db.scalar(select(func.max(JobRun.run_at)).where(~JobRun.missed)) <= now


@pytest.mark.slow
def test_make_run_stages_the_morning_on_an_empty_database_only(db: Session) -> None:
    first, second = StringIO(), StringIO()
    with redirect_stdout(first):
        cli.stage_sample_morning(".local/pgdata")
    mails = db.scalar(select(func.count()).select_from(MailMessage))
    with redirect_stdout(second):
        cli.stage_sample_morning(".local/pgdata")

    assert first.getvalue().startswith("Sample morning: ") and "to review: " in first.getvalue()
    assert "no sample morning staged" in second.getvalue() and ".local/pgdata" in second.getvalue()
    assert db.scalar(select(func.count()).select_from(MailMessage)) == mails > len(CAST)
    newest = db.scalar(select(func.max(MailMessage.received_at)))
    assert newest is not None and datetime.now(UTC) - newest < timedelta(hours=2)
