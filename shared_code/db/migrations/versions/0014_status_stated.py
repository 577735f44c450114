"""mail_messages.status_stated: whether a parsed mail stated its run status in words (format drift)

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: mail parsed before this revision says nothing either way (drift needs a stated mail).
    op.add_column("mail_messages", sa.Column("status_stated", sa.Boolean(), nullable=True))


def downgrade() -> None:
    op.drop_column("mail_messages", "status_stated")
