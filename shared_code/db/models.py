"""The data model (SPEC §3) as SQLAlchemy 2 typed ORM classes.

The database enforces what must always hold: one run per mail, unique Graph and
Internet message ids, job identity unique among live jobs, a missed run created
once per job and time, and foreign keys without cascades where the technical notes'
deletion order must be followed (link tables, then mails unlinked, objects, jobs, mails).
A PSA ticket is one ``external_tickets`` row shared by every run linked to it (propagation links
one ticket to many runs), so what the PSA says about it is written once.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, Literal

from sqlalchemy import (
    DDL,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    event,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship, validates

from shared_code.db.base import Base, CreatedAt, SoftDelete, Timestamps, one_of
from shared_code.db.settings import AppSettings, ExternalProvider  # noqa: F401  (AppSettings: one import for every model)
from shared_code.schema.names import skeleton

RunStatus = Literal["success", "warning", "failed", "missed"]
ParsedStatus = Literal["success", "warning", "failed"]
MappingStatus = Literal["ok", "renamed", "missing", "inactive", "unmapped"]
MailLocation = Literal["inbox", "processed", "deleted"]
ParseStatus = Literal["parsed", "unparsed", "error"]
ScheduleKind = Literal["daily", "weekly", "monthly", "none"]
OverrideScope = Literal["global", "customer", "job"]
ResolutionOrigin = Literal["psa", "backupchecks"]
MailSource = Literal["graph", "directory"]
FailureState = Literal["failing", "poisoned", "permanent", "retrying", "resolved"]


# Lower-cased, each run of digits padded to 20 places. Plain SQL: the embedded PostgreSQL of local
# runs has no ICU collations. Created by migration 0008, and with the tables by create_all.
NATURAL_SORT_KEY_FUNCTION = r"""
CREATE OR REPLACE FUNCTION natural_sort_key(name text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(string_agg(
        CASE WHEN part[1] ~ '^[0-9]' THEN lpad(part[1], greatest(20, length(part[1])), '0')
             ELSE lower(part[1]) END, '' ORDER BY n), '')
    FROM regexp_matches(name, '[0-9]+|[^0-9]+', 'g') WITH ORDINALITY AS parts(part, n)
$$
"""


def natural_key(value: Any) -> Any:
    """The sort key of names people read in lists: case-insensitive, and numbers by value, so
    "Job 9" comes before "Job 10" (the SQL function natural_sort_key)."""
    return func.natural_sort_key(value)


def ci_key(value: Any) -> Any:
    """The case-insensitive, trimmed comparison key of job identities and customer names: the
    expression the unique indexes are built on, so lookups written with it can use them."""
    return func.lower(func.btrim(value))


# --- customers and jobs -----------------------------------------------------------------------------


class Customer(Timestamps, SoftDelete, Base):
    __tablename__ = "customers"
    __table_args__ = (
        one_of("psa_mapping_status", MappingStatus),
        one_of("psa_company_provider", ExternalProvider, nullable=True),
        Index(
            "uq_customers_live_name",
            ci_key(text("name")),
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
        # Two live customers may not look alike ("Contoso" and "Cоntoso" with a Cyrillic о).
        Index(
            "uq_customers_live_skeleton",
            "name_skeleton",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    # names.skeleton(name), set with the name; NULL only for rows written with raw SQL
    name_skeleton: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    # The customer's company in a PSA: which PSA, its id there, its name as last seen, the check's verdict.
    psa_company_provider: Mapped[str | None] = mapped_column(String(16))
    psa_company_id: Mapped[int | None] = mapped_column(Integer)
    psa_company_name: Mapped[str | None] = mapped_column(Text)
    psa_mapping_status: Mapped[str] = mapped_column(String(16), server_default="unmapped")
    psa_checked_at: Mapped[datetime | None]

    jobs: Mapped[list[Job]] = relationship(back_populates="customer")

    @validates("name")
    def _keep_skeleton(self, key: str, name: str) -> str:
        self.name_skeleton = skeleton(name)
        return name


class Job(Timestamps, SoftDelete, Base):
    __tablename__ = "jobs"
    __table_args__ = (
        one_of("schedule_kind", ScheduleKind),
        CheckConstraint(
            "schedule_day_of_month IS NULL OR schedule_day_of_month BETWEEN 1 AND 31", name="day_of_month"
        ),
        # The four together identify a job, compared case-insensitively and trimmed.
        Index(
            "uq_jobs_live_identity",
            ci_key(text("from_address")),
            ci_key(text("backup_software")),
            ci_key(text("backup_type")),
            ci_key(text("job_name")),
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    from_address: Mapped[str] = mapped_column(Text)
    backup_software: Mapped[str] = mapped_column(Text)
    backup_type: Mapped[str] = mapped_column(Text)
    job_name: Mapped[str] = mapped_column(Text)
    informational: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    schedule_kind: Mapped[str] = mapped_column(String(8), server_default="none")
    schedule_weekdays: Mapped[list[int] | None] = mapped_column(ARRAY(SmallInteger))  # 0 = Monday
    schedule_day_of_month: Mapped[int | None] = mapped_column(SmallInteger)
    schedule_time: Mapped[time | None]  # expected time of day, in the UI timezone
    schedule_learned_at: Mapped[datetime | None]

    customer: Mapped[Customer] = relationship(back_populates="jobs")


# --- mail ---------------------------------------------------------------------------------------------


class MailMessage(CreatedAt, SoftDelete, Base):
    __tablename__ = "mail_messages"
    __table_args__ = (
        one_of("location", MailLocation),
        one_of("parse_status", ParseStatus),
        one_of("source", MailSource),
        one_of("parsed_status", ParsedStatus, nullable=True),
        # Soft deletion is one fact, recorded in both the mailbox location and deleted_at.
        CheckConstraint("(location = 'deleted') = (deleted_at IS NOT NULL)", name="deleted_location"),
        # Inbox: parsed mail without a job, by job identity (approval books them together).
        Index(
            "ix_mail_messages_inbox",
            "received_at",
            postgresql_where=text("job_id IS NULL AND deleted_at IS NULL"),
        ),
        # The same mail delivered twice is one mail; a different mail reusing a Message-ID is another.
        Index("uq_mail_messages_message_id_digest", "internet_message_id", "message_digest", unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    graph_message_id: Mapped[str | None] = mapped_column(Text, unique=True)
    internet_message_id: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # A digest of what the mail says (sender, subject, bodies): with the Message-ID, the identity of
    # one mail delivered twice whatever transport headers it gained (mail.ingest.message_digest).
    message_digest: Mapped[str | None] = mapped_column(String(64))
    # The earlier, different mail that used the same Message-ID (both are kept; see the audit log).
    message_id_collision_of: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("mail_messages.id", ondelete="SET NULL")
    )
    from_address: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[str | None] = mapped_column(Text)
    text_body: Mapped[str | None] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime]
    location: Mapped[str] = mapped_column(String(16), server_default="inbox")
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"), index=True)
    parse_status: Mapped[str] = mapped_column(String(16))
    parser_name: Mapped[str | None] = mapped_column(Text)
    parse_error: Mapped[str | None] = mapped_column(Text)
    # The parse result's identity and status, for the Inbox and for approval.
    backup_software: Mapped[str | None] = mapped_column(Text)
    backup_type: Mapped[str | None] = mapped_column(Text)
    job_name: Mapped[str | None] = mapped_column(Text)
    parsed_status: Mapped[str | None] = mapped_column(String(16))
    # The mail stated that status in words (False: derived from its objects or subject; None: not
    # parsed, or parsed before this was recorded). Format drift watches it per job.
    status_stated: Mapped[bool | None] = mapped_column(Boolean)
    informational: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # The size the report states for its run (parsers/sizes.py), for "success, but" size drift.
    parsed_size_bytes: Mapped[int | None] = mapped_column(BigInteger)

    objects: Mapped[list[MailObject]] = relationship(back_populates="mail", order_by="MailObject.position")


class MailObject(Base):
    __tablename__ = "mail_objects"
    __table_args__ = (one_of("status", ParsedStatus),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    mail_id: Mapped[int] = mapped_column(ForeignKey("mail_messages.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    object_type: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    message: Mapped[str | None] = mapped_column(Text)

    mail: Mapped[MailMessage] = relationship(back_populates="objects")


class IngestionFailure(Base):
    """A mail that could not be ingested: visible through the API, retryable, never silently lost."""

    __tablename__ = "ingestion_failures"
    __table_args__ = (one_of("source", MailSource), one_of("state", FailureState))

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    message_ref: Mapped[str] = mapped_column(Text, unique=True)  # Graph message id or file path
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    last_error: Mapped[str] = mapped_column(Text)
    first_failed_at: Mapped[datetime] = mapped_column(server_default=func.now())
    last_failed_at: Mapped[datetime] = mapped_column(server_default=func.now())
    resolved_at: Mapped[datetime | None]


# --- runs and overrides -------------------------------------------------------------------------------


class Override(Timestamps, SoftDelete, Base):
    __tablename__ = "overrides"
    __table_args__ = (
        one_of("scope", OverrideScope),
        one_of("match_status", RunStatus, nullable=True),
        one_of("result_status", RunStatus),
        CheckConstraint(
            "(scope = 'global' AND customer_id IS NULL AND job_id IS NULL)"
            " OR (scope = 'customer' AND customer_id IS NOT NULL AND job_id IS NULL)"
            " OR (scope = 'job' AND job_id IS NOT NULL AND customer_id IS NULL)",
            name="scope_target",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"), index=True)
    match_status: Mapped[str | None] = mapped_column(String(16))
    match_object_name: Mapped[str | None] = mapped_column(Text)
    match_message: Mapped[str | None] = mapped_column(Text)
    result_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    active_from: Mapped[datetime] = mapped_column(server_default=func.now())
    active_until: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(Text)


class JobRun(CreatedAt, Base):
    __tablename__ = "job_runs"
    __table_args__ = (
        one_of("status", RunStatus),
        one_of("effective_status", RunStatus),
        CheckConstraint("missed = (mail_id IS NULL)", name="missed_has_no_mail"),
        # A snooze always says who and why.
        CheckConstraint(
            "(snoozed_at IS NULL) = (snoozed_by IS NULL) AND (snoozed_at IS NULL) = (snooze_reason IS NULL)",
            name="snoozed_by_whom",
        ),
        # A missed run is created once per job and expected time.
        Index("uq_job_runs_missed", "job_id", "run_at", unique=True, postgresql_where=text("missed")),
        # Run Checks reads unreviewed runs per job, newest first.
        Index(
            "ix_job_runs_unreviewed",
            "job_id",
            text("run_at DESC"),
            postgresql_where=text("reviewed_at IS NULL"),
        ),
        Index("ix_job_runs_job_run_at", "job_id", "run_at"),
        Index(
            "ix_job_runs_external_ticket",
            "external_ticket_id",
            postgresql_where=text("external_ticket_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    mail_id: Mapped[int | None] = mapped_column(
        ForeignKey("mail_messages.id"), unique=True
    )  # one run per mail
    run_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    effective_status: Mapped[str] = mapped_column(String(16))
    missed: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    override_id: Mapped[int | None] = mapped_column(ForeignKey("overrides.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None]
    reviewed_by: Mapped[str | None] = mapped_column(Text)
    # Snoozed: known, waiting for the next run; out of Run Checks without being reviewed.
    snoozed_at: Mapped[datetime | None]
    snoozed_by: Mapped[str | None] = mapped_column(Text)
    snooze_reason: Mapped[str | None] = mapped_column(Text)
    # The run's PSA ticket (created for it, linked, or copied from the job's open one).
    external_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("external_tickets.id"))

    job: Mapped[Job] = relationship()
    mail: Mapped[MailMessage | None] = relationship()
    external_ticket: Mapped[ExternalTicket | None] = relationship()


# --- internal tickets and remarks (same shape) --------------------------------------------------------


class _Note(CreatedAt):
    """What tickets and remarks share: text, author, resolution."""

    id: Mapped[int] = mapped_column(primary_key=True)
    description: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text)
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(Text)


class _NoteScope:
    """A note's job scope; its own resolved_at ends the scope without resolving the note."""

    _note_table: str

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    resolved_at: Mapped[datetime | None]

    @declared_attr
    def note_id(cls) -> Mapped[int]:
        return mapped_column(
            f"{cls._note_table[:-1]}_id", ForeignKey(f"{cls._note_table}.id", ondelete="CASCADE")
        )  # indexed by the (note, job) unique index


class _NoteRunLink:
    """A note linked to a run: the audit trail that stays after resolution."""

    _note_table: str

    job_run_id: Mapped[int] = mapped_column(ForeignKey("job_runs.id"), primary_key=True)
    linked_at: Mapped[datetime] = mapped_column(server_default=func.now())

    @declared_attr
    def note_id(cls) -> Mapped[int]:
        return mapped_column(
            f"{cls._note_table[:-1]}_id",
            ForeignKey(f"{cls._note_table}.id", ondelete="CASCADE"),
            primary_key=True,
            index=True,  # the primary key leads with job_run_id
        )


class Ticket(_Note, Base):
    __tablename__ = "tickets"

    ticket_code: Mapped[str] = mapped_column(String(32), unique=True)  # T20250123.0001
    # The PSA ticket it mirrors, if any; kept as history when a replacement is made.
    external: Mapped[ExternalTicket | None] = relationship(
        back_populates="ticket", uselist=False, lazy="selectin"
    )

    @property
    def psa_provider(self) -> str | None:
        return self.external.provider if self.external else None

    @property
    def psa_ticket_id(self) -> int | None:
        return self.external.external_id if self.external else None

    @property
    def psa_ticket_number(self) -> str | None:
        return self.external.number if self.external else None

    @property
    def psa_ticket_url(self) -> str | None:
        return self.external.url if self.external else None


class ExternalTicket(Base):
    """A ticket in a PSA, with the internal ticket it belongs to: where it is (provider, id, number,
    URL) and what is known of it (the status at the last poll, deleted in the PSA, resolved and by
    whom). Every run linked to it shares this one row. ``external_id`` is NULL for a ticket number
    entered by hand and not looked up (never polled)."""

    __tablename__ = "external_tickets"
    __table_args__ = (
        one_of("provider", ExternalProvider),
        one_of("resolution_origin", ResolutionOrigin, nullable=True),
        # A resolved ticket always says who resolved it (Resolved by PSA / by Backupchecks).
        CheckConstraint("(resolved_at IS NULL) = (resolution_origin IS NULL)", name="resolution_origin_set"),
        Index("ix_external_tickets_provider_external_id", "provider", "external_id"),
        # An internal ticket mirrors at most one PSA ticket.
        Index("uq_external_tickets_ticket", "ticket_id", unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    provider: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[int | None] = mapped_column(BigInteger)
    number: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime | None]
    created_by: Mapped[str | None] = mapped_column(Text)
    last_polled_at: Mapped[datetime | None]
    status_snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    deleted_in_psa_at: Mapped[datetime | None]
    resolution_origin: Mapped[str | None] = mapped_column(String(16))
    resolved_at: Mapped[datetime | None]
    # An operator's Resolve is talking to the PSA since then (a second one waits; no row lock held).
    resolve_started_at: Mapped[datetime | None]

    ticket: Mapped[Ticket | None] = relationship(back_populates="external")


class TicketScope(_NoteScope, Base):
    __tablename__ = "ticket_scopes"
    _note_table = "tickets"
    __table_args__ = (Index("uq_ticket_scopes_ticket_job", "ticket_id", "job_id", unique=True),)


class TicketJobRun(_NoteRunLink, Base):
    __tablename__ = "ticket_job_runs"
    _note_table = "tickets"


class Remark(_Note, Base):
    __tablename__ = "remarks"


class RemarkScope(_NoteScope, Base):
    __tablename__ = "remark_scopes"
    _note_table = "remarks"
    __table_args__ = (Index("uq_remark_scopes_remark_job", "remark_id", "job_id", unique=True),)


class RemarkJobRun(_NoteRunLink, Base):
    __tablename__ = "remark_job_runs"
    _note_table = "remarks"


class TicketCodeCounter(Base):
    """Daily sequence behind ticket codes; an upsert makes it safe under concurrency."""

    __tablename__ = "ticket_code_counters"

    day: Mapped[date] = mapped_column(primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer)


# --- PSA ticket creation, Graph state, audit ---------------------------------------------------------------------


class PsaTicketCreation(Base):
    """The one attempt to create a run's PSA ticket (the primary key makes it one).

    Taken before the PSA is called, so concurrent requests cannot both create; an attempt whose
    outcome was lost (``unknown``), or one left behind by a crash, is continued by looking for
    the ticket in the PSA before creating again."""

    __tablename__ = "psa_ticket_creations"
    __table_args__ = (
        one_of("outcome", Literal["pending", "unknown", "created", "failed"]),
        one_of("provider", ExternalProvider),
    )

    job_run_id: Mapped[int] = mapped_column(ForeignKey("job_runs.id", ondelete="CASCADE"), primary_key=True)
    reference: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16), server_default="pending")
    started_at: Mapped[datetime] = mapped_column(server_default=func.now())
    started_by: Mapped[str] = mapped_column(Text)
    finished_at: Mapped[datetime | None]
    provider: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[int | None] = mapped_column(BigInteger)


class GraphSubscription(Base):
    __tablename__ = "graph_subscriptions"

    id: Mapped[str] = mapped_column(Text, primary_key=True)  # Graph's subscription id
    resource: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    last_renewed_at: Mapped[datetime | None]


class MailSyncState(Base):
    __tablename__ = "mail_sync_state"

    folder: Mapped[str] = mapped_column(Text, primary_key=True)  # "<mailbox>/<folder>"
    delta_link: Mapped[str | None] = mapped_column(Text)  # the whole link, as Graph gave it
    last_synced_at: Mapped[datetime | None]
    last_full_sync_at: Mapped[datetime | None]


class AuditLog(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(server_default=func.now(), index=True)
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    entity_type: Mapped[str] = mapped_column(Text)
    entity_id: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    correlation_id: Mapped[str | None] = mapped_column(String(64))


# --- mail ingestion (issue 5) -------------------------------------------------------------------------


class MailContent(Base):
    """A stored mail's raw RFC 5322 bytes, kept so the Inbox can re-parse it after a parser improves.

    A table of its own keeps mail_messages rows narrow for the Inbox and Run Checks queries; it goes
    with its mail (ON DELETE CASCADE), so the purge order of the technical notes is unchanged."""

    __tablename__ = "mail_contents"

    mail_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("mail_messages.id", ondelete="CASCADE"), primary_key=True
    )
    mime: Mapped[bytes] = mapped_column(LargeBinary)


PipelineEventKind = Literal["catch_up", "lifecycle"]


class PipelineEvent(Base):
    """What the mail pipeline did when nobody watched: each catch-up's outcome, each lifecycle
    notification Graph sent. GET /api/status reads the newest of them."""

    __tablename__ = "pipeline_events"
    __table_args__ = (
        one_of("kind", PipelineEventKind),
        Index("ix_pipeline_events_kind_at", "kind", text("at DESC")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(server_default=func.now())
    outcome: Mapped[str] = mapped_column(Text)  # catch_up: ok | failed; lifecycle: the event's name
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


# --- customer reports (SPEC §7a) ----------------------------------------------------------------------

DeliveryState = Literal["pending", "sending", "sent", "failed", "unknown"]
AttemptOutcome = Literal["sent", "failed", "unknown"]


class ReportRecipients(Base):
    """Who receives a customer's monthly report (addresses validated when an operator sets them)."""

    __tablename__ = "report_recipients"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    addresses: Mapped[list[str]] = mapped_column(ARRAY(Text))
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
    updated_by: Mapped[str] = mapped_column(Text)


class ReportDelivery(Base):
    """A customer's monthly report mail: one row per customer and month, claimed before Graph is
    called, so that a timer running twice or a retried send cannot mail a customer twice."""

    __tablename__ = "report_deliveries"
    __table_args__ = (
        one_of("state", DeliveryState),
        CheckConstraint("EXTRACT(DAY FROM month) = 1", name="month_first_day"),
        Index("uq_report_deliveries_customer_month", "customer_id", "month", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    month: Mapped[date]  # the first day of the reported month
    state: Mapped[str] = mapped_column(String(16), server_default="pending")
    recipients: Mapped[list[str]] = mapped_column(ARRAY(Text))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    claimed_at: Mapped[datetime | None]  # when the current attempt started (state 'sending')
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    created_by: Mapped[str] = mapped_column(Text)


class ReportDeliveryAttempt(Base):
    """Each try to send a delivery through Graph, whatever came of it."""

    __tablename__ = "report_delivery_attempts"
    __table_args__ = (one_of("outcome", AttemptOutcome),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("report_deliveries.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(server_default=func.now())
    actor: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)


# --- parsing rules (issue 22) ---------------------------------------------------------------------------


class ParsingRule(Timestamps, Base):
    """An operator's parsing rule for a sender no built-in parser knows. ``spec`` is the current
    version (``parsers.rule_engine.RuleSpec`` as JSON); every version is kept in
    ``parsing_rule_versions``. Disabled, never deleted: mails it parsed keep naming it."""

    __tablename__ = "parsing_rules"
    __table_args__ = (Index("uq_parsing_rules_name", ci_key(text("name")), unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    sender: Mapped[str] = mapped_column(Text, index=True)  # spec.match.sender, for the sender's lookups
    enabled: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    spec: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_by: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(Text)


class ParsingRuleVersion(CreatedAt, Base):
    """One saved version of a rule, as it was written."""

    __tablename__ = "parsing_rule_versions"

    rule_id: Mapped[int] = mapped_column(ForeignKey("parsing_rules.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean)
    spec: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_by: Mapped[str] = mapped_column(Text)


# --- feedback (issue 26) ------------------------------------------------------------------------------

FeedbackKind = Literal["bug", "feature", "question"]
FeedbackStatus = Literal["open", "planned", "done", "declined"]
# What an attachment's bytes were found to be (never what the upload claimed).
ImageType = Literal["image/png", "image/jpeg", "image/gif", "image/webp"]


class _Authored:
    """Who wrote it, from the token: the stable subject (for "own" and votes) and a name to show."""

    author_subject: Mapped[str] = mapped_column(Text)
    author_name: Mapped[str] = mapped_column(Text)

    def written_by(self, subject: str) -> bool:
        return self.author_subject == subject


class FeedbackItem(_Authored, Timestamps, SoftDelete, Base):
    """A problem or wish about the tool itself, reported by an operator."""

    __tablename__ = "feedback_items"
    __table_args__ = (one_of("kind", FeedbackKind), one_of("status", FeedbackStatus))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), server_default="open")


class FeedbackVote(Base):
    """One vote per user per item: the primary key says so, and a second vote is ON CONFLICT DO NOTHING."""

    __tablename__ = "feedback_votes"

    item_id: Mapped[int] = mapped_column(ForeignKey("feedback_items.id"), primary_key=True)
    voter_subject: Mapped[str] = mapped_column(Text, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class FeedbackReply(_Authored, CreatedAt, SoftDelete, Base):
    __tablename__ = "feedback_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("feedback_items.id"), index=True)
    body: Mapped[str] = mapped_column(Text)


class FeedbackAttachment(_Authored, CreatedAt, SoftDelete, Base):
    """A screenshot's facts; its bytes and thumbnail are in ``feedback_attachment_contents``, so a
    query over attachments never reads them."""

    __tablename__ = "feedback_attachments"
    __table_args__ = (
        one_of("content_type", ImageType),
        CheckConstraint("(item_id IS NULL) <> (reply_id IS NULL)", name="one_owner"),
        CheckConstraint("size_bytes > 0 AND width > 0 AND height > 0", name="positive_sizes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("feedback_items.id"), index=True)
    reply_id: Mapped[int | None] = mapped_column(ForeignKey("feedback_replies.id"), index=True)
    file_name: Mapped[str] = mapped_column(Text)  # as uploaded (cleaned of control characters)
    content_type: Mapped[str] = mapped_column(String(16))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)


class FeedbackAttachmentContent(Base):
    """A screenshot's bytes and its thumbnail (PNG), deleted with its attachment row."""

    __tablename__ = "feedback_attachment_contents"

    attachment_id: Mapped[int] = mapped_column(
        ForeignKey("feedback_attachments.id", ondelete="CASCADE"), primary_key=True
    )
    content: Mapped[bytes] = mapped_column(LargeBinary)
    thumbnail: Mapped[bytes] = mapped_column(LargeBinary)


event.listen(Base.metadata, "before_create", DDL(NATURAL_SORT_KEY_FUNCTION))
