"""mail ingestion: raw MIME of stored mails (re-parse)

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mail_contents",
        sa.Column("mail_id", sa.BigInteger(), nullable=False),
        sa.Column("mime", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["mail_id"],
            ["mail_messages.id"],
            name=op.f("fk_mail_contents_mail_id_mail_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("mail_id", name=op.f("pk_mail_contents")),
    )


def downgrade() -> None:
    op.drop_table("mail_contents")
