"""pipeline events: catch-up outcomes and Graph lifecycle notifications, for GET /api/status

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pipeline_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.CheckConstraint("kind IN ('catch_up', 'lifecycle')", name=op.f("ck_pipeline_events_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_events")),
    )
    op.create_index("ix_pipeline_events_kind_at", "pipeline_events", ["kind", sa.text("at DESC")])


def downgrade() -> None:
    op.drop_index("ix_pipeline_events_kind_at", table_name="pipeline_events")
    op.drop_table("pipeline_events")
