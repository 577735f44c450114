"""mail soft deletion: location and deleted_at agree

Revision ID: 0003
Revises: 0002

Deleting a job used to set its mails' deleted_at without moving them to the 'deleted' location;
existing rows are brought into line before the constraint holds the two together.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("UPDATE mail_messages SET location = 'deleted' WHERE deleted_at IS NOT NULL")
    op.execute("UPDATE mail_messages SET deleted_at = now() WHERE location = 'deleted' AND deleted_at IS NULL")
    op.create_check_constraint(
        "ck_mail_messages_deleted_location", "mail_messages", "(location = 'deleted') = (deleted_at IS NOT NULL)"
    )


def downgrade() -> None:
    op.drop_constraint("ck_mail_messages_deleted_location", "mail_messages", type_="check")
