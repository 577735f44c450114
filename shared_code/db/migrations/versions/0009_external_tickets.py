"""The PSA ticket link becomes provider-neutral: one ``external_tickets`` row per PSA ticket

Revision ID: 0009
Revises: 0008

Up, every row kept:
- each internal ticket that mirrored an Autotask ticket (an id, or a number typed by hand) gets
  its ``external_tickets`` row (provider ``autotask``);
- every run with an Autotask ticket points at the row of that ticket id (the open internal ticket's
  row, else the newest; a ticket without an internal ticket gets a row of its own). What the runs
  knew of the ticket (created, last poll, status snapshot, deleted in the PSA, resolved and by whom)
  moves onto the row, from the run that knew the most (resolved, else deleted, else polled last):
  the runs of one ticket carry the same state, because every change was made to all of them;
- ``autotask_ticket_creations`` becomes ``psa_ticket_creations`` (with the provider), the
  customers' ``autotask_company_*`` columns become ``psa_company_*`` (with the provider), and the
  settings' ``autotask_enabled`` becomes ``psa_provider`` (none | autotask | connectwise), and the
  settings row gets ConnectWise PSA's settings (its private key encrypted like the Autotask secret).
Down puts the same values back where they were; links of another provider than Autotask have no
place there and are dropped.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RUN_STATE = (  # job_runs column -> external_tickets column
    ("autotask_ticket_created_at", "created_at"),
    ("autotask_ticket_created_by", "created_by"),
    ("ticket_last_polled_at", "last_polled_at"),
    ("ticket_status_snapshot", "status_snapshot"),
    ("autotask_ticket_deleted_at", "deleted_in_psa_at"),
    ("ticket_resolution_origin", "resolution_origin"),
    ("ticket_resolved_at", "resolved_at"),
)
CONNECTWISE_SETTINGS = (
    ("connectwise_site", sa.Text()),
    ("connectwise_company_id", sa.Text()),
    ("connectwise_public_key", sa.Text()),
    ("connectwise_secret_ref", sa.Text()),
    ("connectwise_secret_encrypted", sa.LargeBinary()),
    ("connectwise_client_id", sa.Text()),
    ("connectwise_board_id", sa.Integer()),
    ("connectwise_new_status_id", sa.Integer()),
    ("connectwise_closed_status_id", sa.Integer()),
    ("connectwise_priority_warning_id", sa.Integer()),
    ("connectwise_priority_failed_id", sa.Integer()),
    ("connectwise_source_id", sa.Integer()),
    ("connectwise_reference_data", postgresql.JSONB(astext_type=sa.Text())),
    ("connectwise_reference_refreshed_at", sa.DateTime(timezone=True)),
)
CUSTOMER_COLUMNS = (
    ("autotask_company_id", "psa_company_id"),
    ("autotask_company_name", "psa_company_name"),
    ("autotask_mapping_status", "psa_mapping_status"),
    ("autotask_checked_at", "psa_checked_at"),
)


def upgrade() -> None:
    _create_external_tickets()
    op.add_column("job_runs", sa.Column("external_ticket_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        op.f("fk_job_runs_external_ticket_id_external_tickets"),
        "job_runs",
        "external_tickets",
        ["external_ticket_id"],
        ["id"],
    )
    op.execute(
        "INSERT INTO external_tickets (ticket_id, provider, external_id, number, url)"
        " SELECT id, 'autotask', autotask_ticket_id, autotask_ticket_number, autotask_ticket_url FROM tickets"
        " WHERE autotask_ticket_id IS NOT NULL OR autotask_ticket_number IS NOT NULL"
    )
    # A ticket id on runs that no internal ticket mirrors: a row of its own.
    op.execute(
        "INSERT INTO external_tickets (provider, external_id)"
        " SELECT DISTINCT 'autotask', r.autotask_ticket_id FROM job_runs r"
        " WHERE r.autotask_ticket_id IS NOT NULL AND NOT EXISTS"
        " (SELECT 1 FROM external_tickets e WHERE e.external_id = r.autotask_ticket_id)"
    )
    op.execute(
        "UPDATE job_runs r SET external_ticket_id = ("
        " SELECT e.id FROM external_tickets e LEFT JOIN tickets t ON t.id = e.ticket_id"
        " WHERE e.external_id = r.autotask_ticket_id"
        " ORDER BY (t.resolved_at IS NULL) DESC, e.id DESC LIMIT 1)"
        " WHERE r.autotask_ticket_id IS NOT NULL"
    )
    assignments = ", ".join(f"{new} = s.{old}" for old, new in RUN_STATE)
    op.execute(
        f"UPDATE external_tickets e SET {assignments},"  # noqa: S608  (column names from RUN_STATE)
        " number = COALESCE(e.number, s.autotask_ticket_number), url = COALESCE(e.url, s.autotask_ticket_url)"
        " FROM (SELECT DISTINCT ON (external_ticket_id) * FROM job_runs WHERE external_ticket_id IS NOT NULL"
        "  ORDER BY external_ticket_id, ticket_resolved_at DESC NULLS LAST,"
        "  autotask_ticket_deleted_at DESC NULLS LAST, ticket_last_polled_at DESC NULLS LAST, id DESC) s"
        " WHERE s.external_ticket_id = e.id"
    )
    op.drop_index("ix_job_runs_autotask_ticket", table_name="job_runs")
    op.drop_constraint(op.f("ck_job_runs_resolution_origin"), "job_runs", type_="check")
    op.drop_constraint(op.f("ck_job_runs_ticket_resolution_origin"), "job_runs", type_="check")
    for old, _ in RUN_STATE:
        op.drop_column("job_runs", old)
    op.drop_column("job_runs", "autotask_ticket_id")
    op.drop_column("job_runs", "autotask_ticket_number")
    op.drop_column("job_runs", "autotask_ticket_url")
    op.create_index(
        "ix_job_runs_external_ticket",
        "job_runs",
        ["external_ticket_id"],
        postgresql_where=sa.text("external_ticket_id IS NOT NULL"),
    )
    op.drop_index(op.f("ix_tickets_autotask_ticket_id"), table_name="tickets")
    for column in ("autotask_ticket_id", "autotask_ticket_number", "autotask_ticket_url"):
        op.drop_column("tickets", column)
    _creations_up()
    _customers_up()
    _settings_up()


def _create_external_tickets() -> None:
    op.create_table(
        "external_tickets",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.BigInteger(), nullable=True),
        sa.Column("number", sa.Text(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.Column("last_polled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status_snapshot", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("deleted_in_psa_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution_origin", sa.String(length=16), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolve_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "provider IN ('autotask', 'connectwise')", name=op.f("ck_external_tickets_provider")
        ),
        sa.CheckConstraint(
            "resolution_origin IS NULL OR resolution_origin IN ('psa', 'backupchecks')",
            name=op.f("ck_external_tickets_resolution_origin"),
        ),
        sa.CheckConstraint(
            "(resolved_at IS NULL) = (resolution_origin IS NULL)",
            name=op.f("ck_external_tickets_resolution_origin_set"),
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_external_tickets_ticket_id_tickets"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_external_tickets")),
    )
    op.create_index(
        "ix_external_tickets_provider_external_id", "external_tickets", ["provider", "external_id"]
    )
    op.create_index("uq_external_tickets_ticket", "external_tickets", ["ticket_id"], unique=True)


def _creations_up() -> None:
    op.rename_table("autotask_ticket_creations", "psa_ticket_creations")
    op.execute(
        "ALTER TABLE psa_ticket_creations RENAME CONSTRAINT pk_autotask_ticket_creations TO pk_psa_ticket_creations"
    )
    op.execute(
        "ALTER TABLE psa_ticket_creations RENAME CONSTRAINT ck_autotask_ticket_creations_outcome"
        " TO ck_psa_ticket_creations_outcome"
    )
    op.execute(
        "ALTER TABLE psa_ticket_creations RENAME CONSTRAINT fk_autotask_ticket_creations_job_run_id_job_runs"
        " TO fk_psa_ticket_creations_job_run_id_job_runs"
    )
    op.add_column(
        "psa_ticket_creations",
        sa.Column("provider", sa.String(length=16), server_default="autotask", nullable=False),
    )
    op.alter_column("psa_ticket_creations", "provider", server_default=None)
    op.create_check_constraint(
        op.f("ck_psa_ticket_creations_provider"),
        "psa_ticket_creations",
        "provider IN ('autotask', 'connectwise')",
    )
    op.alter_column(
        "psa_ticket_creations", "autotask_ticket_id", new_column_name="external_id", type_=sa.BigInteger()
    )


def _customers_up() -> None:
    op.drop_constraint(op.f("ck_customers_autotask_mapping_status"), "customers", type_="check")
    for old, new in CUSTOMER_COLUMNS:
        op.alter_column("customers", old, new_column_name=new)
    op.add_column("customers", sa.Column("psa_company_provider", sa.String(length=16), nullable=True))
    op.execute("UPDATE customers SET psa_company_provider = 'autotask' WHERE psa_company_id IS NOT NULL")
    op.create_check_constraint(
        op.f("ck_customers_psa_mapping_status"),
        "customers",
        "psa_mapping_status IN ('ok', 'renamed', 'missing', 'inactive', 'unmapped')",
    )
    op.create_check_constraint(
        op.f("ck_customers_psa_company_provider"),
        "customers",
        "psa_company_provider IS NULL OR psa_company_provider IN ('autotask', 'connectwise')",
    )


def _settings_up() -> None:
    op.add_column(
        "settings", sa.Column("psa_provider", sa.String(length=16), server_default="none", nullable=False)
    )
    op.execute("UPDATE settings SET psa_provider = 'autotask' WHERE autotask_enabled")
    op.drop_column("settings", "autotask_enabled")
    for name, column_type in CONNECTWISE_SETTINGS:
        op.add_column("settings", sa.Column(name, column_type, nullable=True))
    op.create_check_constraint(
        op.f("ck_settings_psa_provider"), "settings", "psa_provider IN ('none', 'autotask', 'connectwise')"
    )


def downgrade() -> None:
    op.add_column(
        "settings",
        sa.Column("autotask_enabled", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.execute("UPDATE settings SET autotask_enabled = (psa_provider = 'autotask')")
    op.drop_constraint(op.f("ck_settings_psa_provider"), "settings", type_="check")
    op.drop_column("settings", "psa_provider")
    for name, _ in CONNECTWISE_SETTINGS:
        op.drop_column("settings", name)
    _customers_down()
    _creations_down()
    _tickets_down()


def _customers_down() -> None:
    op.drop_constraint(op.f("ck_customers_psa_company_provider"), "customers", type_="check")
    op.drop_constraint(op.f("ck_customers_psa_mapping_status"), "customers", type_="check")
    op.execute(
        "UPDATE customers SET psa_company_id = NULL, psa_company_name = NULL,"
        " psa_mapping_status = 'unmapped', psa_checked_at = NULL WHERE psa_company_provider <> 'autotask'"
    )
    op.drop_column("customers", "psa_company_provider")
    for old, new in CUSTOMER_COLUMNS:
        op.alter_column("customers", new, new_column_name=old)
    op.create_check_constraint(
        op.f("ck_customers_autotask_mapping_status"),
        "customers",
        "autotask_mapping_status IN ('ok', 'renamed', 'missing', 'inactive', 'unmapped')",
    )


def _creations_down() -> None:
    op.execute("DELETE FROM psa_ticket_creations WHERE provider <> 'autotask'")
    op.drop_constraint(op.f("ck_psa_ticket_creations_provider"), "psa_ticket_creations", type_="check")
    op.drop_column("psa_ticket_creations", "provider")
    op.alter_column(
        "psa_ticket_creations", "external_id", new_column_name="autotask_ticket_id", type_=sa.Integer()
    )
    op.execute(
        "ALTER TABLE psa_ticket_creations RENAME CONSTRAINT pk_psa_ticket_creations TO pk_autotask_ticket_creations"
    )
    op.execute(
        "ALTER TABLE psa_ticket_creations RENAME CONSTRAINT ck_psa_ticket_creations_outcome"
        " TO ck_autotask_ticket_creations_outcome"
    )
    op.execute(
        "ALTER TABLE psa_ticket_creations RENAME CONSTRAINT fk_psa_ticket_creations_job_run_id_job_runs"
        " TO fk_autotask_ticket_creations_job_run_id_job_runs"
    )
    op.rename_table("psa_ticket_creations", "autotask_ticket_creations")


def _tickets_down() -> None:
    op.add_column("tickets", sa.Column("autotask_ticket_id", sa.Integer(), nullable=True))
    op.add_column("tickets", sa.Column("autotask_ticket_number", sa.Text(), nullable=True))
    op.add_column("tickets", sa.Column("autotask_ticket_url", sa.Text(), nullable=True))
    op.create_index(op.f("ix_tickets_autotask_ticket_id"), "tickets", ["autotask_ticket_id"], unique=False)
    op.execute(
        "UPDATE tickets t SET autotask_ticket_id = e.external_id, autotask_ticket_number = e.number,"
        " autotask_ticket_url = e.url FROM external_tickets e WHERE e.ticket_id = t.id AND e.provider = 'autotask'"
    )
    op.add_column("job_runs", sa.Column("autotask_ticket_id", sa.Integer(), nullable=True))
    op.add_column("job_runs", sa.Column("autotask_ticket_number", sa.Text(), nullable=True))
    op.add_column("job_runs", sa.Column("autotask_ticket_url", sa.Text(), nullable=True))
    op.add_column(
        "job_runs", sa.Column("autotask_ticket_created_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("job_runs", sa.Column("autotask_ticket_created_by", sa.Text(), nullable=True))
    op.add_column(
        "job_runs", sa.Column("autotask_ticket_deleted_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("job_runs", sa.Column("ticket_last_polled_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "job_runs",
        sa.Column("ticket_status_snapshot", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )
    op.add_column("job_runs", sa.Column("ticket_resolution_origin", sa.String(length=16), nullable=True))
    op.add_column("job_runs", sa.Column("ticket_resolved_at", sa.DateTime(timezone=True), nullable=True))
    assignments = ", ".join(f"{old} = e.{new}" for old, new in RUN_STATE)
    op.execute(
        f"UPDATE job_runs r SET autotask_ticket_id = e.external_id, autotask_ticket_number = e.number,"  # noqa: S608
        f" autotask_ticket_url = e.url, {assignments}"
        " FROM external_tickets e WHERE e.id = r.external_ticket_id AND e.provider = 'autotask'"
    )
    op.create_check_constraint(
        op.f("ck_job_runs_ticket_resolution_origin"),
        "job_runs",
        "ticket_resolution_origin IS NULL OR ticket_resolution_origin IN ('psa', 'backupchecks')",
    )
    op.create_check_constraint(
        op.f("ck_job_runs_resolution_origin"),
        "job_runs",
        "(ticket_resolved_at IS NULL) = (ticket_resolution_origin IS NULL)",
    )
    op.create_index(
        "ix_job_runs_autotask_ticket",
        "job_runs",
        ["autotask_ticket_id"],
        postgresql_where=sa.text("autotask_ticket_id IS NOT NULL"),
    )
    op.drop_index("ix_job_runs_external_ticket", table_name="job_runs")
    op.drop_constraint(
        op.f("fk_job_runs_external_ticket_id_external_tickets"), "job_runs", type_="foreignkey"
    )
    op.drop_column("job_runs", "external_ticket_id")
    op.drop_index("uq_external_tickets_ticket", table_name="external_tickets")
    op.drop_index("ix_external_tickets_provider_external_id", table_name="external_tickets")
    op.drop_table("external_tickets")
