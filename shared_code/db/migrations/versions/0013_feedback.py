"""feedback: items, votes (one per user per item), replies, screenshots with their bytes apart

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feedback_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="open", nullable=False),
        sa.Column("author_subject", sa.Text(), nullable=False),
        sa.Column("author_name", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('bug', 'feature', 'question')", name=op.f("ck_feedback_items_kind")),
        sa.CheckConstraint(
            "status IN ('open', 'planned', 'done', 'declined')", name=op.f("ck_feedback_items_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_items")),
    )
    op.create_table(
        "feedback_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author_subject", sa.Text(), nullable=False),
        sa.Column("author_name", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"], ["feedback_items.id"], name=op.f("fk_feedback_replies_item_id_feedback_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_replies")),
    )
    op.create_index(op.f("ix_feedback_replies_item_id"), "feedback_replies", ["item_id"], unique=False)
    op.create_table(
        "feedback_votes",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("voter_subject", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["feedback_items.id"], name=op.f("fk_feedback_votes_item_id_feedback_items")
        ),
        sa.PrimaryKeyConstraint("item_id", "voter_subject", name=op.f("pk_feedback_votes")),
    )
    op.create_table(
        "feedback_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("reply_id", sa.Integer(), nullable=True),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("content_type", sa.String(length=16), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("author_subject", sa.Text(), nullable=False),
        sa.Column("author_name", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "content_type IN ('image/png', 'image/jpeg', 'image/gif', 'image/webp')",
            name=op.f("ck_feedback_attachments_content_type"),
        ),
        sa.CheckConstraint(
            "(item_id IS NULL) <> (reply_id IS NULL)", name=op.f("ck_feedback_attachments_one_owner")
        ),
        sa.CheckConstraint(
            "size_bytes > 0 AND width > 0 AND height > 0", name=op.f("ck_feedback_attachments_positive_sizes")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["feedback_items.id"], name=op.f("fk_feedback_attachments_item_id_feedback_items")
        ),
        sa.ForeignKeyConstraint(
            ["reply_id"],
            ["feedback_replies.id"],
            name=op.f("fk_feedback_attachments_reply_id_feedback_replies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_attachments")),
    )
    op.create_index(
        op.f("ix_feedback_attachments_item_id"), "feedback_attachments", ["item_id"], unique=False
    )
    op.create_index(
        op.f("ix_feedback_attachments_reply_id"), "feedback_attachments", ["reply_id"], unique=False
    )
    op.create_table(
        "feedback_attachment_contents",
        sa.Column("attachment_id", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("thumbnail", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["attachment_id"],
            ["feedback_attachments.id"],
            name=op.f("fk_feedback_attachment_contents_attachment_id_feedback_attachments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("attachment_id", name=op.f("pk_feedback_attachment_contents")),
    )
    # Images are compressed already: store them out of line without trying to compress them again.
    op.execute("ALTER TABLE feedback_attachment_contents ALTER COLUMN content SET STORAGE EXTERNAL")
    op.execute("ALTER TABLE feedback_attachment_contents ALTER COLUMN thumbnail SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.drop_table("feedback_attachment_contents")
    op.drop_index(op.f("ix_feedback_attachments_reply_id"), table_name="feedback_attachments")
    op.drop_index(op.f("ix_feedback_attachments_item_id"), table_name="feedback_attachments")
    op.drop_table("feedback_attachments")
    op.drop_table("feedback_votes")
    op.drop_index(op.f("ix_feedback_replies_item_id"), table_name="feedback_replies")
    op.drop_table("feedback_replies")
    op.drop_table("feedback_items")
