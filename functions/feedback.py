"""The Feedback module under /api/feedback: items, votes, replies, screenshots, deletion.

Viewers read and vote, operators post (and edit what they wrote), admins change an item's status
and delete. Screenshots are uploaded as multipart/form-data (several at once, under ``files``)
and served by ``shared_code.api.downloads`` so that the browser can only show them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import azure.functions as func

from functions.http import api_route, named
from shared_code.api.auth import Role
from shared_code.api.downloads import file_response
from shared_code.api.routing import Call, RawResponse, Upload

if TYPE_CHECKING:
    from shared_code.feedback.attachments import UploadResult
    from shared_code.feedback.deletion import Kind, RemovedFeedback
    from shared_code.feedback.items import Caller, FeedbackList, ItemDetail, ReplyView, VoteResult

bp = func.Blueprint()
ITEMS = "shared_code.feedback.items"
ATTACHMENTS = "shared_code.feedback.attachments"
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
# Multipart framing around the files: part headers and boundaries, generously.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


def caller(call: Call) -> Caller:
    from shared_code.feedback.items import Caller

    principal = call.principal
    return Caller(subject=principal.subject, name=principal.name, admin=principal.can(Role.ADMIN))


def upload_limit() -> int:
    """The largest upload body: as many screenshots as one post may have, each as large as allowed."""
    from shared_code.config import get_settings

    settings = get_settings()
    return (
        settings.feedback_max_screenshots * settings.feedback_max_screenshot_bytes + MULTIPART_OVERHEAD_BYTES
    )


SCREENSHOTS = Upload(max_body_bytes=upload_limit)


@api_route(
    bp,
    "GET",
    "feedback",
    role=Role.VIEWER,
    tag="feedback",
    query=f"{ITEMS}:FeedbackListQuery",
    response=f"{ITEMS}:FeedbackList",
)
def feedback_list(call: Call) -> FeedbackList:
    """Feedback items with their vote counts; filter by status and kind, sort by votes or date."""
    from shared_code.feedback.items import list_items

    return list_items(call.db, call.query, caller(call))


@api_route(
    bp,
    "POST",
    "feedback",
    role=Role.OPERATOR,
    tag="feedback",
    body=f"{ITEMS}:FeedbackCreate",
    response=f"{ITEMS}:ItemDetail",
    status=201,
)
def feedback_create(call: Call) -> ItemDetail:
    """Report a problem, a wish or a question about this tool (screenshots are uploaded after)."""
    from shared_code.feedback.items import create_item

    return create_item(call.db, call.body, caller(call))


@api_route(
    bp, "GET", "feedback/{item_id:int}", role=Role.VIEWER, tag="feedback", response=f"{ITEMS}:ItemDetail"
)
def feedback_get(call: Call) -> ItemDetail:
    """A feedback item with its replies and the facts of its screenshots (not their bytes)."""
    from shared_code.feedback.items import item_detail

    return item_detail(call.db, call.path["item_id"], caller(call))


@api_route(
    bp,
    "PATCH",
    "feedback/{item_id:int}",
    role=Role.OPERATOR,
    tag="feedback",
    body=f"{ITEMS}:FeedbackEdit",
    response=f"{ITEMS}:ItemDetail",
)
def feedback_edit(call: Call) -> ItemDetail:
    """Edit your own item's kind, title or description; an Admin also changes its status."""
    from shared_code.feedback.items import edit_item

    return edit_item(call.db, call.path["item_id"], call.body, caller(call))


@api_route(
    bp, "PUT", "feedback/{item_id:int}/vote", role=Role.VIEWER, tag="feedback", response=f"{ITEMS}:VoteResult"
)
def feedback_vote(call: Call) -> VoteResult:
    """Vote for an item (one vote per person: voting again changes nothing)."""
    from shared_code.feedback.items import vote

    return vote(call.db, call.path["item_id"], caller(call))


@api_route(
    bp,
    "DELETE",
    "feedback/{item_id:int}/vote",
    role=Role.VIEWER,
    tag="feedback",
    response=f"{ITEMS}:VoteResult",
)
def feedback_unvote(call: Call) -> VoteResult:
    """Take your vote back (again changes nothing)."""
    from shared_code.feedback.items import unvote

    return unvote(call.db, call.path["item_id"], caller(call))


@api_route(
    bp,
    "POST",
    "feedback/{item_id:int}/replies",
    role=Role.OPERATOR,
    tag="feedback",
    body=f"{ITEMS}:ReplyCreate",
    response=f"{ITEMS}:ReplyView",
    status=201,
)
def feedback_reply(call: Call) -> ReplyView:
    """Reply to an item."""
    from shared_code.feedback.items import add_reply

    return add_reply(call.db, call.path["item_id"], call.body, caller(call))


@api_route(
    bp,
    "POST",
    "feedback/{item_id:int}/attachments",
    role=Role.OPERATOR,
    tag="feedback",
    upload=SCREENSHOTS,
    response=f"{ATTACHMENTS}:UploadResult",
    status=201,
)
def feedback_item_upload(call: Call) -> UploadResult:
    """Add screenshots to your item (multipart, field 'files'): all are stored, or none."""
    from shared_code.feedback.attachments import upload_to_item

    return upload_to_item(call.db, call.path["item_id"], call.files, caller(call))


@api_route(
    bp,
    "POST",
    "feedback/{item_id:int}/replies/{reply_id:int}/attachments",
    role=Role.OPERATOR,
    tag="feedback",
    upload=SCREENSHOTS,
    response=f"{ATTACHMENTS}:UploadResult",
    status=201,
)
def feedback_reply_upload(call: Call) -> UploadResult:
    """Add screenshots to your reply (multipart, field 'files'): all are stored, or none."""
    from shared_code.feedback.attachments import upload_to_reply

    return upload_to_reply(call.db, call.path["item_id"], call.path["reply_id"], call.files, caller(call))


@api_route(
    bp,
    "GET",
    "feedback/{item_id:int}/attachments/{attachment_id:int}",
    role=Role.VIEWER,
    tag="feedback",
    raw_content_type=IMAGE_TYPES,
)
def feedback_download(call: Call) -> RawResponse:
    """A screenshot as uploaded, with its checked type; shown, never run."""
    from shared_code.feedback.attachments import stored_file

    stored = stored_file(
        call.db, call.path["item_id"], call.path["attachment_id"], caller(call), thumbnail=False
    )
    return file_response(stored.data, stored.content_type, stored.file_name)


@api_route(
    bp,
    "GET",
    "feedback/{item_id:int}/attachments/{attachment_id:int}/thumbnail",
    role=Role.VIEWER,
    tag="feedback",
    raw_content_type="image/png",
)
def feedback_thumbnail(call: Call) -> RawResponse:
    """A screenshot's thumbnail (PNG, at most 400×300), made when it was uploaded."""
    from shared_code.feedback.attachments import stored_file

    stored = stored_file(
        call.db, call.path["item_id"], call.path["attachment_id"], caller(call), thumbnail=True
    )
    return file_response(stored.data, stored.content_type, stored.file_name)


def declare_deletion_routes(kind: Kind, noun: str, path: str, row_id: str) -> None:
    """Soft delete, its undo, and the permanent delete of what is already soft-deleted (Admin)."""

    def delete_handler(call: Call) -> None:
        from shared_code.feedback.deletion import soft_delete

        soft_delete(call.db, kind, call.path["item_id"], call.path[row_id], caller(call))

    def restore_handler(call: Call) -> None:
        from shared_code.feedback.deletion import restore

        restore(call.db, kind, call.path["item_id"], call.path[row_id], caller(call))

    def permanent_handler(call: Call) -> RemovedFeedback:
        from shared_code.feedback.deletion import delete_permanently

        return delete_permanently(call.db, kind, call.path["item_id"], call.path[row_id], caller(call))

    api_route(bp, "DELETE", path, role=Role.ADMIN, tag="feedback")(
        named(f"feedback_{kind}_delete", f"Delete a {noun} (soft: it can be restored).", delete_handler)
    )
    api_route(bp, "POST", f"{path}/restore", role=Role.ADMIN, tag="feedback")(
        named(f"feedback_{kind}_restore", f"Restore a deleted {noun} (undo).", restore_handler)
    )
    api_route(
        bp,
        "DELETE",
        f"{path}/permanent",
        role=Role.ADMIN,
        tag="feedback",
        response="shared_code.feedback.deletion:RemovedFeedback",
        errors=(409,),
    )(
        named(
            f"feedback_{kind}_delete_permanently",
            f"Delete a deleted {noun} for good, with what hangs under it (screenshot bytes included).",
            permanent_handler,
        )
    )


# Replies and screenshots live under their item's path: one shape of path per method can match a URL.
ITEM = "feedback/{item_id:int}"
declare_deletion_routes("item", "feedback item", ITEM, "item_id")
declare_deletion_routes("reply", "reply", f"{ITEM}/replies/{{reply_id:int}}", "reply_id")
declare_deletion_routes(
    "attachment", "screenshot", f"{ITEM}/attachments/{{attachment_id:int}}", "attachment_id"
)
