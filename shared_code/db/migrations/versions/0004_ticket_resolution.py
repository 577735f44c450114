"""Autotask ticket resolution: a resolved run's ticket always carries its origin

Revision ID: 0004
Revises: 0003

Phase 2 shows "Resolved by PSA" or "Resolved by Backupchecks" on every resolved run; the two
columns are one fact. Rows from before the rule (none are expected) with a time and no origin are
taken as resolved by the PSA, and an origin without a time loses the origin.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "UPDATE job_runs SET ticket_resolution_origin = 'psa'"
        " WHERE ticket_resolved_at IS NOT NULL AND ticket_resolution_origin IS NULL"
    )
    op.execute(
        "UPDATE job_runs SET ticket_resolution_origin = NULL"
        " WHERE ticket_resolved_at IS NULL AND ticket_resolution_origin IS NOT NULL"
    )
    op.create_check_constraint(
        op.f("ck_job_runs_resolution_origin"),
        "job_runs",
        "(ticket_resolved_at IS NULL) = (ticket_resolution_origin IS NULL)",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_job_runs_resolution_origin"), "job_runs", type_="check")
