"""Customer reports: recipients per customer, and one delivery per customer and month

Revision ID: 0012
Revises: 0011

``report_recipients`` holds who receives a customer's monthly report. ``report_deliveries`` has
one row per customer and month (a unique index), inserted before Graph is called, so that the
monthly timer running twice or a retried send mails a customer once; ``report_delivery_attempts``
records every try to send it.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _customer_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["customer_id"], ["customers.id"], name=op.f(f"fk_{table}_customer_id_customers"), ondelete="CASCADE"
    )


def _now(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "report_recipients",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("addresses", postgresql.ARRAY(sa.Text()), nullable=False),
        _now("updated_at"),
        sa.Column("updated_by", sa.Text(), nullable=False),
        _customer_fk("report_recipients"),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_report_recipients")),
    )
    op.create_table(
        "report_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("recipients", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        _now("created_at"),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "state IN ('pending', 'sending', 'sent', 'failed', 'unknown')",
            name=op.f("ck_report_deliveries_state"),
        ),
        sa.CheckConstraint("EXTRACT(DAY FROM month) = 1", name=op.f("ck_report_deliveries_month_first_day")),
        _customer_fk("report_deliveries"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_deliveries")),
    )
    op.create_index(
        "uq_report_deliveries_customer_month", "report_deliveries", ["customer_id", "month"], unique=True
    )
    op.create_table(
        "report_delivery_attempts",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        _now("at"),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('sent', 'failed', 'unknown')", name=op.f("ck_report_delivery_attempts_outcome")
        ),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["report_deliveries.id"],
            name=op.f("fk_report_delivery_attempts_delivery_id_report_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_delivery_attempts")),
    )
    op.create_index(
        op.f("ix_report_delivery_attempts_delivery_id"), "report_delivery_attempts", ["delivery_id"]
    )


def downgrade() -> None:
    op.drop_table("report_delivery_attempts")
    op.drop_table("report_deliveries")
    op.drop_table("report_recipients")
