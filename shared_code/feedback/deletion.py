"""Deleting feedback: soft delete (undone by restore) by default; permanent delete only of what is
already soft-deleted, which removes everything under it, the screenshots' bytes included, and
says what it removed. The admin purge removes all soft-deleted feedback the same way."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, cast

from pydantic import BaseModel
from sqlalchemy import CursorResult, Delete, delete, func, select
from sqlalchemy.orm import Session

from shared_code import audit
from shared_code.db.models import (
    FeedbackAttachment,
    FeedbackAttachmentContent,
    FeedbackItem,
    FeedbackReply,
    FeedbackVote,
)
from shared_code.errors import Conflict, NotFound
from shared_code.feedback.items import Caller, attachment_of

Kind = Literal["item", "reply", "attachment"]


@dataclass(frozen=True)
class _Deletable:
    model: Any
    noun: str
    entity_type: str


KINDS: dict[Kind, _Deletable] = {
    "item": _Deletable(FeedbackItem, "feedback item", "feedback_item"),
    "reply": _Deletable(FeedbackReply, "reply", "feedback_reply"),
    "attachment": _Deletable(FeedbackAttachment, "screenshot", "feedback_attachment"),
}


class RemovedFeedback(BaseModel):
    """Rows removed per table, and the screenshot bytes (with their thumbnails) removed with them."""

    feedback_items: int
    feedback_replies: int
    feedback_votes: int
    feedback_attachments: int
    feedback_attachment_bytes: int


def _row(session: Session, kind: Kind, item_id: int, row_id: int) -> Any:
    """The row, soft-deleted or not, if it belongs to the item (an item belongs to itself)."""
    deletable = KINDS[kind]
    model = deletable.model
    statement = select(model).where(model.id == row_id)
    if kind == "reply":
        statement = statement.where(FeedbackReply.item_id == item_id)
    elif kind == "attachment":
        statement = statement.where(attachment_of(item_id))
    elif row_id != item_id:
        raise NotFound(f"no such {deletable.noun}: {row_id}")
    row = session.scalars(statement.with_for_update()).first()
    if row is None:
        raise NotFound(f"no such {deletable.noun}: {row_id}")
    return row


def soft_delete(session: Session, kind: Kind, item_id: int, row_id: int, caller: Caller) -> None:
    """Hide it (and what hangs under it); idempotent."""
    row = _row(session, kind, item_id, row_id)
    if row.deleted_at is None:
        row.deleted_at = datetime.now(UTC)
        audit.record(session, caller.name, "delete", KINDS[kind].entity_type, row_id)


def restore(session: Session, kind: Kind, item_id: int, row_id: int, caller: Caller) -> None:
    """Undo a soft delete; idempotent."""
    row = _row(session, kind, item_id, row_id)
    if row.deleted_at is not None:
        row.deleted_at = None
        audit.record(session, caller.name, "restore", KINDS[kind].entity_type, row_id)


def delete_permanently(
    session: Session, kind: Kind, item_id: int, row_id: int, caller: Caller
) -> RemovedFeedback:
    row = _row(session, kind, item_id, row_id)
    noun = KINDS[kind].noun
    if row.deleted_at is None:
        raise Conflict(f"the {noun} {row_id} is not deleted; delete it first, then delete it permanently")
    removed = remove(session, **{f"{kind}_ids": [row_id]})
    audit.record(
        session, caller.name, "delete_permanently", KINDS[kind].entity_type, row_id, removed.model_dump()
    )
    return removed


def remove_soft_deleted(session: Session) -> RemovedFeedback:
    """Everything soft-deleted, with what hangs under it (the admin purge)."""
    return remove(
        session,
        item_ids=session.scalars(select(FeedbackItem.id).where(~FeedbackItem.live)),
        reply_ids=session.scalars(select(FeedbackReply.id).where(~FeedbackReply.live)),
        attachment_ids=session.scalars(select(FeedbackAttachment.id).where(~FeedbackAttachment.live)),
    )


def remove(
    session: Session,
    *,
    item_ids: Iterable[int] = (),
    reply_ids: Iterable[int] = (),
    attachment_ids: Iterable[int] = (),
) -> RemovedFeedback:
    """Delete these rows and everything under them: the items' votes and replies, the screenshots of
    the items and replies (their bytes go with them, ON DELETE CASCADE), children first."""
    items = set(item_ids)
    replies = set(reply_ids) | set(
        session.scalars(select(FeedbackReply.id).where(FeedbackReply.item_id.in_(items)))
    )
    attachments = set(attachment_ids) | set(
        session.scalars(
            select(FeedbackAttachment.id).where(
                FeedbackAttachment.item_id.in_(items) | FeedbackAttachment.reply_id.in_(replies)
            )
        )
    )
    stored = session.scalar(
        select(
            func.coalesce(
                func.sum(
                    func.octet_length(FeedbackAttachmentContent.content)
                    + func.octet_length(FeedbackAttachmentContent.thumbnail)
                ),
                0,
            )
        ).where(FeedbackAttachmentContent.attachment_id.in_(attachments))
    )
    removed_attachments = _count(
        session, delete(FeedbackAttachment).where(FeedbackAttachment.id.in_(attachments))
    )
    removed_replies = _count(session, delete(FeedbackReply).where(FeedbackReply.id.in_(replies)))
    removed_votes = _count(session, delete(FeedbackVote).where(FeedbackVote.item_id.in_(items)))
    removed_items = _count(session, delete(FeedbackItem).where(FeedbackItem.id.in_(items)))
    return RemovedFeedback(
        feedback_items=removed_items,
        feedback_replies=removed_replies,
        feedback_votes=removed_votes,
        feedback_attachments=removed_attachments,
        feedback_attachment_bytes=int(stored or 0),
    )


def _count(session: Session, statement: Delete) -> int:
    # A DELETE's result is a CursorResult (its row count); Session.execute is typed as any Result.
    return cast(CursorResult[Any], session.execute(statement)).rowcount
