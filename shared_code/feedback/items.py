"""Feedback items, votes and replies: list, detail, create, edit, status, vote, reply.

Anyone may read and vote (one vote per person per item: the votes' primary key, written with
ON CONFLICT, so concurrent votes by one person still count once); operators post and edit what
they wrote; only an Admin changes an item's status, and only an Admin sees what is soft-deleted."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field
from sqlalchemy import ColumnElement, Select, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from shared_code import audit
from shared_code.db.models import (
    FeedbackAttachment,
    FeedbackItem,
    FeedbackKind,
    FeedbackReply,
    FeedbackStatus,
    FeedbackVote,
)
from shared_code.errors import NotAllowed, NotFound
from shared_code.schema.fields import Name, Text, comma_separated
from shared_code.schema.models import RequestModel, ResponseModel
from shared_code.schema.paging import PageInfo, PageQuery, page_of, paginated

Title = Annotated[Name, Field(description="One line: what is wrong or wished for.")]


@dataclass(frozen=True)
class Caller:
    """Who acts, from the token: the subject identifies (votes, "own"), the name is shown."""

    subject: str
    name: str
    admin: bool


# --- request and response models ------------------------------------------------------------------


class FeedbackCreate(RequestModel):
    kind: FeedbackKind
    title: Title
    description: Text


class FeedbackEdit(RequestModel):
    """What changes; left out stays. Text by its author (or an Admin), status by an Admin only."""

    kind: FeedbackKind | None = None
    title: Title | None = None
    description: Text | None = None
    status: FeedbackStatus | None = Field(None, description="Admin only.")


class ReplyCreate(RequestModel):
    body: Text


class FeedbackListQuery(PageQuery):
    status: Annotated[list[FeedbackStatus], BeforeValidator(comma_separated), Field(min_length=1)] | None = (
        Field(None, description="Only items in one of these states (comma-separated, e.g. open,planned).")
    )
    kind: Annotated[list[FeedbackKind], BeforeValidator(comma_separated), Field(min_length=1)] | None = Field(
        None, description="Only items of these kinds (comma-separated)."
    )
    sort: Literal["votes", "date"] = Field("date", description="Most votes first, or newest first.")
    deleted: bool = Field(False, description="Soft-deleted items instead of live ones (Admin only).")


class AttachmentView(ResponseModel):
    id: int
    file_name: str
    content_type: str
    size_bytes: int
    width: int
    height: int
    author_name: str
    created_at: datetime
    deleted_at: datetime | None


class ReplyView(ResponseModel):
    id: int
    body: str
    author_name: str
    own: bool
    created_at: datetime
    deleted_at: datetime | None
    attachments: list[AttachmentView]


class ItemSummary(ResponseModel):
    id: int
    kind: str
    title: str
    status: str
    author_name: str
    own: bool = Field(description="Written by the caller (who may then edit it).")
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    votes: int
    voted: bool = Field(description="Whether the caller has voted for it.")
    replies: int
    attachments: int


class ItemDetail(ItemSummary):
    description: str
    reply_list: list[ReplyView]
    attachment_list: list[AttachmentView]


class FeedbackList(BaseModel):
    items: list[ItemSummary]
    page: PageInfo


class VoteResult(BaseModel):
    voted: bool
    votes: int


# --- lookups ---------------------------------------------------------------------------------------


def visible_item(session: Session, item_id: int, caller: Caller, *, lock: bool = False) -> FeedbackItem:
    """The item, live; soft-deleted only for an Admin. ``lock`` holds its row for the transaction."""
    statement = select(FeedbackItem).where(FeedbackItem.id == item_id)
    if not caller.admin:
        statement = statement.where(FeedbackItem.live)
    if lock:
        statement = statement.with_for_update()
    item = session.scalars(statement).first()
    if item is None:
        raise NotFound(f"no such feedback item: {item_id}")
    return item


def live_item(session: Session, item_id: int, *, lock: bool = False) -> FeedbackItem:
    """The item if not soft-deleted, for anything that adds to it (votes, replies, screenshots)."""
    statement = select(FeedbackItem).where(FeedbackItem.id == item_id, FeedbackItem.live)
    item = session.scalars(statement.with_for_update() if lock else statement).first()
    if item is None:
        raise NotFound(f"no such feedback item: {item_id}")
    return item


def attachment_of(item_id: int) -> ColumnElement[bool]:
    """An attachment belongs to an item when it is the item's or one of its replies'."""
    replies = select(FeedbackReply.id).where(FeedbackReply.item_id == item_id)
    return (FeedbackAttachment.item_id == item_id) | FeedbackAttachment.reply_id.in_(replies)


def _vote_count() -> Any:
    return (
        select(func.count())
        .where(FeedbackVote.item_id == FeedbackItem.id)
        .correlate(FeedbackItem)
        .scalar_subquery()
    )


def _summaries(caller: Caller) -> Select[Any]:
    votes = _vote_count().label("votes")
    voted = (
        select(func.count() > 0)
        .where(FeedbackVote.item_id == FeedbackItem.id, FeedbackVote.voter_subject == caller.subject)
        .correlate(FeedbackItem)
        .scalar_subquery()
        .label("voted")
    )
    replies = (
        select(func.count())
        .where(FeedbackReply.item_id == FeedbackItem.id, FeedbackReply.live)
        .correlate(FeedbackItem)
        .scalar_subquery()
        .label("replies")
    )
    attachments = (
        select(func.count())
        .where(FeedbackAttachment.item_id == FeedbackItem.id, FeedbackAttachment.live)
        .correlate(FeedbackItem)
        .scalar_subquery()
        .label("attachments")
    )
    return select(FeedbackItem, votes, voted, replies, attachments)


def _summary(row: Any, caller: Caller) -> dict[str, Any]:
    item: FeedbackItem = row[0]
    return {
        **{name: getattr(item, name) for name in ItemSummary.model_fields if hasattr(item, name)},
        "own": item.written_by(caller.subject),
        "votes": row.votes,
        "voted": row.voted,
        "replies": row.replies,
        "attachments": row.attachments,
    }


# --- services --------------------------------------------------------------------------------------


def list_items(session: Session, query: FeedbackListQuery, caller: Caller) -> FeedbackList:
    if query.deleted and not caller.admin:
        raise NotAllowed(
            "only an Admin sees deleted feedback",
            details=[{"field": "query.deleted", "message": "Admin only"}],
        )
    statement = _summaries(caller).where(FeedbackItem.live if not query.deleted else ~FeedbackItem.live)
    if query.status:
        statement = statement.where(FeedbackItem.status.in_(query.status))
    if query.kind:
        statement = statement.where(FeedbackItem.kind.in_(query.kind))
    if query.sort == "votes":
        statement = statement.order_by(
            _vote_count().desc(), FeedbackItem.created_at.desc(), FeedbackItem.id.desc()
        )
    else:
        statement = statement.order_by(FeedbackItem.created_at.desc(), FeedbackItem.id.desc())
    rows, page = page_of(list(session.execute(paginated(statement, query))), query)
    return FeedbackList(items=[ItemSummary.model_validate(_summary(row, caller)) for row in rows], page=page)


def item_detail(session: Session, item_id: int, caller: Caller) -> ItemDetail:
    visible_item(session, item_id, caller)
    row = session.execute(_summaries(caller).where(FeedbackItem.id == item_id)).one()
    replies = list(
        session.scalars(
            select(FeedbackReply)
            .where(FeedbackReply.item_id == item_id, *([] if caller.admin else [FeedbackReply.live]))
            .order_by(FeedbackReply.created_at, FeedbackReply.id)
        )
    )
    attachments = _attachments_of(session, item_id, caller)
    return ItemDetail.model_validate(
        {
            **_summary(row, caller),
            "description": row[0].description,
            "reply_list": [_reply_view(reply, caller, attachments[("reply", reply.id)]) for reply in replies],
            "attachment_list": attachments[("item", item_id)],
        }
    )


def _attachments_of(
    session: Session, item_id: int, caller: Caller
) -> dict[tuple[str, int], list[AttachmentView]]:
    """The attachments of an item and of its replies, by owner; the bytes stay in their own table."""
    statement = select(FeedbackAttachment).where(attachment_of(item_id)).order_by(FeedbackAttachment.id)
    if not caller.admin:
        statement = statement.where(FeedbackAttachment.live)
    found: dict[tuple[str, int], list[AttachmentView]] = defaultdict(list)
    for attachment in session.scalars(statement):
        owner = (
            ("item", attachment.item_id) if attachment.item_id is not None else ("reply", attachment.reply_id)
        )
        found[owner].append(AttachmentView.model_validate(attachment))  # type: ignore[index]
    return found


def create_item(session: Session, body: FeedbackCreate, caller: Caller) -> ItemDetail:
    item = FeedbackItem(
        kind=body.kind,
        title=body.title,
        description=body.description,
        author_subject=caller.subject,
        author_name=caller.name,
    )
    session.add(item)
    session.flush()
    audit.record(
        session, caller.name, "create", "feedback_item", item.id, {"kind": body.kind, "title": body.title}
    )
    return item_detail(session, item.id, caller)


def edit_item(session: Session, item_id: int, body: FeedbackEdit, caller: Caller) -> ItemDetail:
    item = live_item(session, item_id, lock=True)
    changes = body.model_dump(exclude_none=True)
    if "status" in changes and not caller.admin:
        raise NotAllowed(
            "only an Admin changes a feedback item's status",
            details=[{"field": "body.status", "message": "Admin only"}],
        )
    if changes.keys() - {"status"} and not (caller.admin or item.written_by(caller.subject)):
        raise NotAllowed("only its author or an Admin edits a feedback item")
    changed = {name: value for name, value in changes.items() if getattr(item, name) != value}
    for name, value in changed.items():
        setattr(item, name, value)
    if changed:
        session.flush()
        action = "status" if changed.keys() == {"status"} else "edit"
        audit.record(session, caller.name, action, "feedback_item", item.id, changed)
    return item_detail(session, item.id, caller)


def vote(session: Session, item_id: int, caller: Caller) -> VoteResult:
    """Vote for an item; voting again changes nothing (the primary key, ON CONFLICT DO NOTHING)."""
    live_item(session, item_id)
    added = session.execute(
        insert(FeedbackVote)
        .values(item_id=item_id, voter_subject=caller.subject)
        .on_conflict_do_nothing(index_elements=["item_id", "voter_subject"])
        .returning(FeedbackVote.item_id)
    ).first()
    if added is not None:
        audit.record(session, caller.name, "vote", "feedback_item", item_id)
    return _vote_result(session, item_id, caller)


def unvote(session: Session, item_id: int, caller: Caller) -> VoteResult:
    """Take a vote back; taking it back twice changes nothing."""
    live_item(session, item_id)
    removed = session.execute(
        delete(FeedbackVote)
        .where(FeedbackVote.item_id == item_id, FeedbackVote.voter_subject == caller.subject)
        .returning(FeedbackVote.item_id)
    ).first()
    if removed is not None:
        audit.record(session, caller.name, "unvote", "feedback_item", item_id)
    return _vote_result(session, item_id, caller)


def _vote_result(session: Session, item_id: int, caller: Caller) -> VoteResult:
    voters = list(session.scalars(select(FeedbackVote.voter_subject).where(FeedbackVote.item_id == item_id)))
    return VoteResult(voted=caller.subject in voters, votes=len(voters))


def add_reply(session: Session, item_id: int, body: ReplyCreate, caller: Caller) -> ReplyView:
    live_item(session, item_id)
    reply = FeedbackReply(
        item_id=item_id, body=body.body, author_subject=caller.subject, author_name=caller.name
    )
    session.add(reply)
    session.flush()
    audit.record(session, caller.name, "reply", "feedback_item", item_id, {"reply_id": reply.id})
    return _reply_view(reply, caller, [])


def _reply_view(reply: FeedbackReply, caller: Caller, attachments: list[AttachmentView]) -> ReplyView:
    return ReplyView(
        id=reply.id,
        body=reply.body,
        author_name=reply.author_name,
        own=reply.written_by(caller.subject),
        created_at=reply.created_at,
        deleted_at=reply.deleted_at,
        attachments=attachments,
    )
