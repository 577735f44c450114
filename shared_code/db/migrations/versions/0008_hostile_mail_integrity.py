"""Data integrity: distinct mails sharing a Message-ID are both kept; one open internal ticket
per hand-entered Autotask ticket number

Revision ID: 0008
Revises: 0007

A second mail reusing a Message-ID with another sender, subject or body was dropped as a
duplicate. The Message-ID is no longer unique on its own: with a digest of what the mail says
(sender, subject, bodies) it identifies one mail delivered twice; a different mail under a used
Message-ID is stored and points at the earlier one. Existing rows get their digest here, computed
as ingestion computes it (shared_code.mail.ingest.message_digest).

Lists sort names naturally ("Job 9" before "Job 10"): natural_sort_key(name), defined in
shared_code.db.models (NATURAL_SORT_KEY_FUNCTION).

Linking the same manual ticket number to a run from parallel requests made one internal ticket
per request. The unique index makes it one: an open ticket without an Autotask ticket id (a
number typed by hand) is unique by its number. Duplicates made before are merged into the
oldest one (their job scopes and run links move to it) before the index is built.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared_code.db.models import NATURAL_SORT_KEY_FUNCTION

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN_MANUAL = "resolved_at IS NULL AND autotask_ticket_id IS NULL AND autotask_ticket_number IS NOT NULL"


def upgrade() -> None:
    op.add_column("mail_messages", sa.Column("message_digest", sa.String(length=64), nullable=True))
    op.add_column("mail_messages", sa.Column("message_id_collision_of", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        op.f("fk_mail_messages_message_id_collision_of_mail_messages"),
        "mail_messages",
        "mail_messages",
        ["message_id_collision_of"],
        ["id"],
        ondelete="SET NULL",
    )
    op.execute(
        """
        UPDATE mail_messages SET message_digest = encode(sha256(convert_to(concat_ws(
            E'\\x1f', coalesce(from_address, ''), coalesce(subject, ''), coalesce(text_body, ''),
            coalesce(html_body, '')), 'UTF8')), 'hex')
        """
    )
    op.drop_constraint("uq_mail_messages_internet_message_id", "mail_messages", type_="unique")
    op.create_index(
        "uq_mail_messages_message_id_digest",
        "mail_messages",
        ["internet_message_id", "message_digest"],
        unique=True,
    )
    op.execute(NATURAL_SORT_KEY_FUNCTION)
    _merge_duplicate_manual_tickets()
    op.create_index(
        "uq_tickets_open_manual_number",
        "tickets",
        ["autotask_ticket_number"],
        unique=True,
        postgresql_where=sa.text(_OPEN_MANUAL),
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION natural_sort_key(text)")
    # 0009 moved the number to external_tickets (dropping this index with the column it was on)
    op.execute("DROP INDEX IF EXISTS uq_tickets_open_manual_number")
    # Only the first mail of each Message-ID can keep it under the old unique constraint.
    op.execute(
        "UPDATE mail_messages SET internet_message_id = NULL WHERE message_id_collision_of IS NOT NULL"
    )
    op.drop_index("uq_mail_messages_message_id_digest", table_name="mail_messages")
    op.create_unique_constraint(
        "uq_mail_messages_internet_message_id", "mail_messages", ["internet_message_id"]
    )
    op.drop_constraint(
        op.f("fk_mail_messages_message_id_collision_of_mail_messages"), "mail_messages", type_="foreignkey"
    )
    op.drop_column("mail_messages", "message_id_collision_of")
    op.drop_column("mail_messages", "message_digest")


def _merge_duplicate_manual_tickets() -> None:
    op.execute(
        """
        CREATE TEMPORARY TABLE ticket_merges AS
        SELECT id AS duplicate, min(id) OVER (PARTITION BY autotask_ticket_number) AS keeper
        FROM tickets
        WHERE resolved_at IS NULL AND autotask_ticket_id IS NULL AND autotask_ticket_number IS NOT NULL
        """
    )
    op.execute("DELETE FROM ticket_merges WHERE duplicate = keeper")
    op.execute(
        """
        INSERT INTO ticket_scopes (ticket_id, job_id, created_at, resolved_at)
        SELECT m.keeper, s.job_id, s.created_at, s.resolved_at
        FROM ticket_scopes s JOIN ticket_merges m ON m.duplicate = s.ticket_id
        ON CONFLICT DO NOTHING
        """
    )
    op.execute(
        """
        INSERT INTO ticket_job_runs (ticket_id, job_run_id, linked_at)
        SELECT m.keeper, r.job_run_id, r.linked_at
        FROM ticket_job_runs r JOIN ticket_merges m ON m.duplicate = r.ticket_id
        ON CONFLICT DO NOTHING
        """
    )
    op.execute("DELETE FROM tickets WHERE id IN (SELECT duplicate FROM ticket_merges)")
    op.execute("DROP TABLE ticket_merges")
