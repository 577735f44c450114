"""Autotask ticket creation: one attempt per run, and the hours until a new ticket is due

Revision ID: 0006
Revises: 0005

``autotask_ticket_creations`` holds the one attempt to create a run's ticket (its primary key
is the run), so concurrent requests cannot both reach the PSA. ``settings.autotask_due_hours``
sets ``dueDateTime``, which many Autotask tenants require on a new ticket.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "settings", sa.Column("autotask_due_hours", sa.Integer(), server_default=sa.text("24"), nullable=True)
    )
    op.create_table(
        "autotask_ticket_creations",
        sa.Column("job_run_id", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("started_by", sa.Text(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("autotask_ticket_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('pending', 'unknown', 'created', 'failed')",
            name=op.f("ck_autotask_ticket_creations_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["job_run_id"],
            ["job_runs.id"],
            name=op.f("fk_autotask_ticket_creations_job_run_id_job_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_run_id", name=op.f("pk_autotask_ticket_creations")),
    )


def downgrade() -> None:
    op.drop_table("autotask_ticket_creations")
    op.drop_column("settings", "autotask_due_hours")
