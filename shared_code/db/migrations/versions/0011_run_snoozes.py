"""Snoozed runs: known trouble, waiting for the job's next run

Revision ID: 0011
Revises: 0010

A snoozed run leaves Run Checks without being reviewed; who snoozed it, when and why stay on the
run (the job's page lists them) and in the audit log. The job's next run comes in as usual.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("job_runs", sa.Column("snoozed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("job_runs", sa.Column("snoozed_by", sa.Text(), nullable=True))
    op.add_column("job_runs", sa.Column("snooze_reason", sa.Text(), nullable=True))
    op.create_check_constraint(
        op.f("ck_job_runs_snoozed_by_whom"),
        "job_runs",
        "(snoozed_at IS NULL) = (snoozed_by IS NULL) AND (snoozed_at IS NULL) = (snooze_reason IS NULL)",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_job_runs_snoozed_by_whom"), "job_runs", type_="check")
    op.drop_column("job_runs", "snooze_reason")
    op.drop_column("job_runs", "snoozed_by")
    op.drop_column("job_runs", "snoozed_at")
