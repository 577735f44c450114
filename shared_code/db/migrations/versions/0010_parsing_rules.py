"""parsing rules: operator-written rules for senders no built-in parser knows, with their versions

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "parsing_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("sender", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("spec", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parsing_rules")),
    )
    op.create_index("uq_parsing_rules_name", "parsing_rules", [sa.text("lower(btrim(name))")], unique=True)
    op.create_index(op.f("ix_parsing_rules_sender"), "parsing_rules", ["sender"])
    op.create_table(
        "parsing_rule_versions",
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("spec", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["rule_id"], ["parsing_rules.id"], name=op.f("fk_parsing_rule_versions_rule_id_parsing_rules")
        ),
        sa.PrimaryKeyConstraint("rule_id", "version", name=op.f("pk_parsing_rule_versions")),
    )


def downgrade() -> None:
    op.drop_table("parsing_rule_versions")
    op.drop_index(op.f("ix_parsing_rules_sender"), table_name="parsing_rules")
    op.drop_index("uq_parsing_rules_name", table_name="parsing_rules")
    op.drop_table("parsing_rules")
