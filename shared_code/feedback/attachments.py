"""Screenshots: uploaded several at once to an item or a reply, all or none; downloaded (or their
thumbnail) by anyone who may see what they belong to.

An upload is checked whole before anything is written: every file by its bytes (``images``), and
the owner's count against the limit with the owner's row locked, so two uploads at once cannot
pass it together. A refusal names each file and its reason and stores nothing."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared_code import audit
from shared_code.config import get_settings
from shared_code.db.models import FeedbackAttachment, FeedbackAttachmentContent, FeedbackItem, FeedbackReply
from shared_code.errors import InvalidInput, NotAllowed, NotFound
from shared_code.feedback.images import CheckedImage, Refused, check_image
from shared_code.feedback.items import AttachmentView, Caller, live_item
from shared_code.schema.uploads import UploadedFile

MAX_NAME_LENGTH = 200


class UploadResult(BaseModel):
    attachments: list[AttachmentView]


@dataclass(frozen=True)
class StoredFile:
    data: bytes
    content_type: str
    file_name: str


@dataclass(frozen=True)
class _Owner:
    """What screenshots are added to: an item or a reply, by the column that points at it."""

    column: str
    id: int
    noun: str


def upload_to_item(
    session: Session, item_id: int, files: Sequence[UploadedFile], caller: Caller
) -> UploadResult:
    item = live_item(session, item_id, lock=True)
    _may_add_to(item.written_by(caller.subject), caller, "item")
    return _store(session, _Owner("item_id", item.id, "feedback item"), files, caller)


def upload_to_reply(
    session: Session, item_id: int, reply_id: int, files: Sequence[UploadedFile], caller: Caller
) -> UploadResult:
    live_item(session, item_id)
    reply = session.scalars(
        select(FeedbackReply)
        .where(FeedbackReply.id == reply_id, FeedbackReply.item_id == item_id, FeedbackReply.live)
        .with_for_update()
    ).first()
    if reply is None:
        raise NotFound(f"no such reply: {reply_id}")
    _may_add_to(reply.written_by(caller.subject), caller, "reply")
    return _store(session, _Owner("reply_id", reply.id, "reply"), files, caller)


def _may_add_to(own: bool, caller: Caller, noun: str) -> None:
    if not (own or caller.admin):
        raise NotAllowed(f"only the author of a {noun} (or an Admin) adds screenshots to it")


def clean_name(name: str) -> str:
    """The name as uploaded, without a client's folder path or control characters, kept short."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if unicodedata.category(ch)[0] != "C")
    return base.strip()[:MAX_NAME_LENGTH] or "screenshot"


def _store(session: Session, owner: _Owner, files: Sequence[UploadedFile], caller: Caller) -> UploadResult:
    settings = get_settings()
    if not files:
        raise InvalidInput(
            "No screenshot was sent: send one or more files in the form field 'files'.",
            details=[{"field": "body.files", "message": "at least one file is required"}],
        )
    names = [clean_name(file.name) for file in files]
    refusals: list[dict[str, Any]] = []
    checked: list[CheckedImage] = []
    for index, (file, name) in enumerate(zip(files, names, strict=True)):
        try:
            checked.append(
                check_image(
                    file.data,
                    max_bytes=settings.feedback_max_screenshot_bytes,
                    max_pixels=settings.feedback_max_image_pixels,
                )
            )
        except Refused as reason:
            refusals.append({"field": f"body.files[{index}]", "file": name, "message": f"{name} {reason}"})
    held = session.scalar(
        select(func.count()).where(
            getattr(FeedbackAttachment, owner.column) == owner.id, FeedbackAttachment.live
        )
    )
    limit = settings.feedback_max_screenshots
    for index in range(max(0, limit - (held or 0)), len(files)):
        refusals.append(
            {
                "field": f"body.files[{index}]",
                "file": names[index],
                "message": f"{names[index]} would be screenshot {(held or 0) + index + 1} of this {owner.noun}; "
                f"it may have at most {limit}",
            }
        )
    if refusals:
        refusals.sort(key=lambda refusal: int(refusal["field"].rsplit("[", 1)[1].rstrip("]")))
        raise InvalidInput(
            "Nothing was stored: " + "; ".join(refusal["message"] for refusal in refusals) + ".",
            details=refusals,
            code="upload_refused",
        )
    views = [
        _add(session, owner, name, image, file, caller)
        for file, name, image in zip(files, names, checked, strict=True)
    ]
    return UploadResult(attachments=views)


def _add(
    session: Session, owner: _Owner, name: str, image: CheckedImage, file: UploadedFile, caller: Caller
) -> AttachmentView:
    attachment = FeedbackAttachment(
        file_name=name,
        content_type=image.content_type,
        size_bytes=len(file.data),
        sha256=image.sha256,
        width=image.width,
        height=image.height,
        author_subject=caller.subject,
        author_name=caller.name,
        **{owner.column: owner.id},
    )
    session.add(attachment)
    session.flush()
    session.add(
        FeedbackAttachmentContent(attachment_id=attachment.id, content=file.data, thumbnail=image.thumbnail)
    )
    audit.record(
        session,
        caller.name,
        "upload",
        "feedback_attachment",
        attachment.id,
        {
            owner.column: owner.id,
            "file_name": name,
            "content_type": image.content_type,
            "size_bytes": len(file.data),
        },
    )
    session.flush()
    session.refresh(attachment)
    return AttachmentView.model_validate(attachment)


def stored_file(
    session: Session, item_id: int, attachment_id: int, caller: Caller, *, thumbnail: bool
) -> StoredFile:
    """A screenshot's bytes (or its thumbnail's) if the caller may see what it belongs to: everything
    live, or anything for an Admin (who sees soft-deleted rows to restore or remove them)."""
    column = FeedbackAttachmentContent.thumbnail if thumbnail else FeedbackAttachmentContent.content
    owner_item = func.coalesce(FeedbackAttachment.item_id, FeedbackReply.item_id)
    statement = (
        select(column, FeedbackAttachment.content_type, FeedbackAttachment.file_name)
        .join(FeedbackAttachmentContent, FeedbackAttachmentContent.attachment_id == FeedbackAttachment.id)
        .outerjoin(FeedbackReply, FeedbackReply.id == FeedbackAttachment.reply_id)
        .join(FeedbackItem, FeedbackItem.id == owner_item)
        .where(FeedbackAttachment.id == attachment_id, FeedbackItem.id == item_id)
    )
    if not caller.admin:
        statement = statement.where(
            FeedbackAttachment.live, FeedbackItem.live, FeedbackReply.id.is_(None) | FeedbackReply.live
        )
    row = session.execute(statement).first()
    if row is None:
        raise NotFound(f"no such screenshot: {attachment_id}")
    data, content_type, file_name = row
    if thumbnail:
        return StoredFile(data, "image/png", f"{file_name.rsplit('.', 1)[0]}-thumbnail.png")
    return StoredFile(data, content_type, file_name)
