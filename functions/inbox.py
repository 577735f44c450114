"""The Inbox and stored mail: list, approve, re-parse, delete; one mail with its objects."""

from __future__ import annotations

from typing import TYPE_CHECKING

import azure.functions as func

from functions.http import api_route
from shared_code.api.auth import Role
from shared_code.api.routing import Call, RawResponse

if TYPE_CHECKING:
    from shared_code.mail.inbox import Approval, Deletion, InboxGroups, InboxPage, MailView, Reparse

bp = func.Blueprint()
INBOX = "shared_code.mail.inbox"
RFC822 = "message/rfc822"


@api_route(
    bp,
    "GET",
    "inbox",
    role=Role.VIEWER,
    tag="inbox",
    query=f"{INBOX}:InboxQuery",
    response=f"{INBOX}:InboxPage",
)
def list_inbox_mail(call: Call) -> InboxPage:
    """Mail waiting in the Inbox, newest first, with its parse result."""
    from shared_code.mail.inbox import list_inbox

    return list_inbox(call.db, call.query)


@api_route(bp, "GET", "inbox/groups", role=Role.VIEWER, tag="inbox", response=f"{INBOX}:InboxGroups")
def list_inbox_groups(call: Call) -> InboxGroups:
    """Parsed Inbox mail grouped by the job it would create, with counts and a suggested customer."""
    from shared_code.mail.inbox import inbox_groups

    return inbox_groups(call.db)


@api_route(
    bp,
    "POST",
    "inbox/{mail_id:long}/approve",
    role=Role.OPERATOR,
    tag="inbox",
    body=f"{INBOX}:ApproveBody",
    response=f"{INBOX}:Approval",
    errors=(409,),
)
def approve_inbox_mail(call: Call) -> Approval:
    """Approve a new job for a customer: every Inbox mail of the job becomes a run."""
    from shared_code.mail.inbox import approve

    return approve(call.db, call.path["mail_id"], call.body, call.actor)


@api_route(
    bp,
    "POST",
    "inbox/{mail_id:long}/reparse",
    role=Role.OPERATOR,
    tag="inbox",
    response=f"{INBOX}:Reparse",
    errors=(409,),
)
def reparse_inbox_mail(call: Call) -> Reparse:
    """Run the current parsers on a stored Inbox mail again; a known job's mail is booked."""
    from shared_code.mail.inbox import reparse

    return reparse(call.db, call.path["mail_id"], call.actor)


@api_route(
    bp,
    "POST",
    "inbox/delete",
    role=Role.OPERATOR,
    tag="inbox",
    body=f"{INBOX}:DeleteBody",
    response=f"{INBOX}:Deletion",
)
def delete_inbox_mail(call: Call) -> Deletion:
    """Soft-delete Inbox mail (booked mail stays with its run)."""
    from shared_code.mail.inbox import delete_mails

    return delete_mails(call.db, call.body.mail_ids, call.actor)


@api_route(
    bp,
    "GET",
    "mails/{mail_id:long}",
    role=Role.VIEWER,
    tag="inbox",
    query=f"{INBOX}:MailQuery",
    response=f"{INBOX}:MailView",
)
def get_stored_mail(call: Call) -> MailView:
    """A stored mail: bodies (capped), parse result, a page of its objects, and the run it became."""
    from shared_code.mail.inbox import get_mail

    return get_mail(call.db, call.path["mail_id"], call.query)


@api_route(bp, "GET", "mails/{mail_id:long}/raw", role=Role.VIEWER, tag="inbox", raw_content_type=RFC822)
def get_raw_mail(call: Call) -> RawResponse:
    """The stored raw mail, as received (message/rfc822), whatever its size."""
    from shared_code.mail.inbox import raw_mail

    mime = raw_mail(call.db, call.path["mail_id"])
    disposition = f'attachment; filename="mail-{call.path["mail_id"]}.eml"'
    return RawResponse(mime, content_type=RFC822, headers={"Content-Disposition": disposition})
