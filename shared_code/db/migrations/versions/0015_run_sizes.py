"""Run sizes: the size a report states, for "success, but" size drift

Revision ID: 0015
Revises: 0014

The parse result's size (bytes) is kept beside its status on the mail, so a re-parse rewrites both;
a run reads it through its mail. Mails stored before this migration have none.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("mail_messages", sa.Column("parsed_size_bytes", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("mail_messages", "parsed_size_bytes")
