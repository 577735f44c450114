"""The mail pipeline's own state (GET /api/status), so that "no failures" never means "nothing
arrived": the Graph subscription, the newest mail, the last catch-up, failed ingestions waiting
and jobs overdue by their learned schedule, and senders whose mail format drifted, each judged into a
short list of what needs attention.

Six small reads; the judgement is plain functions of what was read and the time, so tests pin it.
"""

from __future__ import annotations

import itertools
import logging
from datetime import UTC, datetime, timedelta
from statistics import quantiles
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared_code.config import get_settings
from shared_code.db.models import (
    GraphSubscription,
    IngestionFailure,
    MailMessage,
    PipelineEvent,
    ReportDelivery,
)
from shared_code.runs.format_drift import FormatDrift, format_drifts
from shared_code.runs.missed_runs import overdue_jobs

log = logging.getLogger(__name__)

EXPIRY_WARNING = timedelta(hours=12)  # renewal starts a day ahead: half of that gone means it fails
CATCH_UP_STALE = timedelta(minutes=30)  # the timer runs every five minutes
LIFECYCLE_WINDOW = timedelta(days=7)
MIN_SILENCE = timedelta(hours=6)  # never call a quiet night an outage
GAP_SAMPLE = 500  # newest mails whose gaps say what "usual" is
WAITING_STATES = ("failing", "poisoned", "permanent", "retrying")
OVERDUE_LISTED = 20
REPORT_SENDS_WINDOW = timedelta(days=45)  # last month's report mails, until next month's are due
DRIFT_LISTED = 3  # drifts named in the banner's one line


class SubscriptionState(BaseModel):
    expected: bool = Field(
        description="Whether webhooks are configured (else the catch-up alone brings mail in)."
    )
    id: str | None = None
    expires_at: datetime | None = None
    last_renewed_at: datetime | None = None
    lifecycle_events: int = Field(0, description="Lifecycle notifications seen in the last 7 days.")
    last_lifecycle_event: str | None = None
    last_lifecycle_event_at: datetime | None = None


class MailState(BaseModel):
    newest_received_at: datetime | None = None
    usual_gap_minutes: int | None = Field(
        None, description="95th percentile of the gaps between recent mails."
    )


class CatchUpState(BaseModel):
    at: datetime | None = None
    outcome: str | None = Field(None, description="ok or failed; null before the first catch-up.")
    detail: dict[str, Any] | None = None


NAMED_OVERDUE = 3  # the banner's sentence names this many; the site links every listed one


class OverdueJob(BaseModel):
    job_id: int
    job_name: str
    customer_name: str
    expected_at: datetime


class Attention(BaseModel):
    code: Literal[
        "subscription_missing",
        "subscription_expiring",
        "no_recent_mail",
        "catch_up_failed",
        "catch_up_stale",
        "failures_waiting",
        "jobs_overdue",
        "report_sends_failed",
        "format_drift",
        "configuration_problem",
        "graph_permission_missing",
    ]
    severity: Literal["warning", "danger"]
    message: str


class PipelineStatus(BaseModel):
    checked_at: datetime
    subscription: SubscriptionState
    mail: MailState
    catch_up: CatchUpState
    failures_waiting: int
    jobs_overdue: int
    overdue: list[OverdueJob] = Field(description=f"The first {OVERDUE_LISTED} overdue jobs.")
    report_sends_failed: int = Field(
        0, description="Monthly report mails of the last 45 days that failed or whose outcome is unknown."
    )
    format_drift: list[FormatDrift] = Field(
        description="Senders and jobs whose mail parses with less, or stopped parsing."
    )
    attention: list[Attention] = Field(description="What needs attention now; empty when all is well.")


def pipeline_status(session: Session, *, now: datetime | None = None) -> PipelineStatus:
    now = now or datetime.now(UTC)
    settings = get_settings()
    subscription = _subscription(
        session, now, expected=bool(settings.graph_notification_url and settings.graph_client_state)
    )
    mail = _mail(session)
    catch_up = _last_catch_up(session)
    waiting = (
        session.scalar(
            select(func.count())
            .select_from(IngestionFailure)
            .where(IngestionFailure.state.in_(WAITING_STATES))
        )
        or 0
    )
    overdue = overdue_jobs(session, now=now)
    report_sends_failed = (
        session.scalar(
            select(func.count())
            .select_from(ReportDelivery)
            .where(
                ReportDelivery.state.in_(("failed", "unknown")),
                ReportDelivery.created_at >= now - REPORT_SENDS_WINDOW,
            )
        )
        or 0
    )
    status = PipelineStatus(
        checked_at=now,
        subscription=subscription,
        mail=mail,
        catch_up=catch_up,
        failures_waiting=waiting,
        jobs_overdue=len(overdue),
        overdue=[
            OverdueJob(
                job_id=job.id, job_name=job.job_name, customer_name=job.customer.name, expected_at=slot
            )
            for job, slot in overdue[:OVERDUE_LISTED]
        ],
        report_sends_failed=report_sends_failed,
        format_drift=format_drifts(session, now=now),
        attention=[],
    )
    status.attention = [
        *(
            Attention(code="configuration_problem", severity="danger", message=problem)
            for problem in settings.configuration_problems
        ),
        *needs_attention(status, now),
    ]
    return status


def needs_attention(status: PipelineStatus, now: datetime) -> list[Attention]:
    found: list[Attention] = []
    sub = status.subscription
    if sub.expected and sub.expires_at is None:
        found.append(
            Attention(
                code="subscription_missing",
                severity="danger",
                message="There is no Graph subscription: new mail arrives only through the five-minute catch-up.",
            )
        )
    elif sub.expected and sub.expires_at is not None and sub.expires_at - now < EXPIRY_WARNING:
        hours = max(0, int((sub.expires_at - now).total_seconds() // 3600))
        found.append(
            Attention(
                code="subscription_expiring",
                severity="warning",
                message=f"The Graph subscription expires in {hours} h and has not been renewed.",
            )
        )
    silence = _silence(status.mail, now)
    if silence is not None:
        found.append(
            Attention(
                code="no_recent_mail",
                severity="warning",
                message=f"No mail has arrived for {_duration(silence)}, longer than the usual gap "
                f"of {_duration(timedelta(minutes=status.mail.usual_gap_minutes or 0))}.",
            )
        )
    missing_permission = (status.catch_up.detail or {}).get("missing_permission")
    if status.catch_up.outcome == "failed" and missing_permission:
        found.append(
            Attention(
                code="graph_permission_missing",
                severity="danger",
                message=str((status.catch_up.detail or {}).get("error", "")).removeprefix("GraphForbidden: "),
            )
        )
    elif status.catch_up.outcome == "failed":
        found.append(
            Attention(
                code="catch_up_failed",
                severity="danger",
                message=f"The last mail catch-up failed: {(status.catch_up.detail or {}).get('error', 'see the logs')}.",
            )
        )
    elif status.catch_up.at is not None and now - status.catch_up.at > CATCH_UP_STALE:
        found.append(
            Attention(
                code="catch_up_stale",
                severity="warning",
                message=f"The mail catch-up last ran {_duration(now - status.catch_up.at)} ago (it runs every five minutes).",
            )
        )
    if status.failures_waiting:
        found.append(
            Attention(
                code="failures_waiting",
                severity="warning",
                message=f"{status.failures_waiting} mail(s) could not be ingested and wait in the Inbox's failed ingestions.",
            )
        )
    if status.jobs_overdue:
        found.append(
            Attention(
                code="jobs_overdue",
                severity="warning",
                message=f"{status.jobs_overdue} job(s) are overdue by their learned schedule: "
                + ", ".join(f"{job.customer_name} · {job.job_name}" for job in status.overdue[:NAMED_OVERDUE])
                + (" and more." if status.jobs_overdue > NAMED_OVERDUE else "."),
            )
        )
    if status.report_sends_failed:
        found.append(
            Attention(
                code="report_sends_failed",
                severity="warning",
                message=f"{status.report_sends_failed} monthly report mail(s) could not be sent "
                "(or their outcome is unknown); see Reports.",
            )
        )
    if status.format_drift:
        found.append(
            Attention(
                code="format_drift",
                severity="warning",
                message="Format drift: "
                + "; ".join(drift.message for drift in status.format_drift[:DRIFT_LISTED])
                + (
                    f"; and {len(status.format_drift) - DRIFT_LISTED} more"
                    if len(status.format_drift) > DRIFT_LISTED
                    else ""
                )
                + ".",
            )
        )
    return found


def _subscription(session: Session, now: datetime, *, expected: bool) -> SubscriptionState:
    stored = session.scalars(select(GraphSubscription).order_by(GraphSubscription.expires_at.desc())).first()
    events = session.execute(
        select(PipelineEvent.outcome, PipelineEvent.at, func.count().over())
        .where(PipelineEvent.kind == "lifecycle", PipelineEvent.at >= now - LIFECYCLE_WINDOW)
        .order_by(PipelineEvent.at.desc())
        .limit(1)
    ).first()
    live = stored if stored is not None and stored.expires_at > now else None
    return SubscriptionState(
        expected=expected,
        id=live.id if live else None,
        expires_at=live.expires_at if live else None,
        last_renewed_at=live.last_renewed_at if live else None,
        lifecycle_events=events[2] if events else 0,
        last_lifecycle_event=events[0] if events else None,
        last_lifecycle_event_at=events[1] if events else None,
    )


def _mail(session: Session) -> MailState:
    recent = list(
        session.scalars(
            select(MailMessage.received_at).order_by(MailMessage.received_at.desc()).limit(GAP_SAMPLE)
        )
    )
    if not recent:
        return MailState()
    gaps = [(newer - older).total_seconds() / 60 for newer, older in itertools.pairwise(recent)]
    usual = round(quantiles(gaps, n=20)[-1]) if len(gaps) >= 10 else None
    return MailState(newest_received_at=recent[0], usual_gap_minutes=usual)


def _silence(mail: MailState, now: datetime) -> timedelta | None:
    """How long no mail has come, when that is longer than usual (else None)."""
    if mail.newest_received_at is None or mail.usual_gap_minutes is None:
        return None
    silence = now - mail.newest_received_at
    limit = max(MIN_SILENCE, 2 * timedelta(minutes=mail.usual_gap_minutes))
    return silence if silence > limit else None


def _last_catch_up(session: Session) -> CatchUpState:
    event = session.scalars(
        select(PipelineEvent)
        .where(PipelineEvent.kind == "catch_up")
        .order_by(PipelineEvent.at.desc())
        .limit(1)
    ).first()
    if event is None:
        return CatchUpState()
    return CatchUpState(at=event.at, outcome=event.outcome, detail=event.detail)


def _duration(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // 1440} days"
