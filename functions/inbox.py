"""The Inbox and stored mail: list, approve, re-parse, delete; one mail with its objects."""

from __future__ import annotations

import azure.functions as func

from functions.http import api_route
from shared_code.api.auth import Role
from shared_code.api.routing import Call
from shared_code.mail.inbox import (
    Approval,
    ApproveBody,
    DeleteBody,
    Deletion,
    InboxPage,
    InboxQuery,
    MailView,
    Reparse,
    approve,
    delete_mails,
    get_mail,
    list_inbox,
    reparse,
)

bp = func.Blueprint()


@api_route(bp, "GET", "inbox", role=Role.VIEWER, tag="inbox", query=InboxQuery, response=InboxPage)
def list_inbox_mail(call: Call) -> InboxPage:
    """Mail waiting in the Inbox, newest first, with its parse result."""
    return list_inbox(call.db, call.query)


@api_route(
    bp,
    "POST",
    "inbox/{mail_id:long}/approve",
    role=Role.OPERATOR,
    tag="inbox",
    body=ApproveBody,
    response=Approval,
    errors=(409,),
)
def approve_inbox_mail(call: Call) -> Approval:
    """Approve a new job for a customer: every Inbox mail of the job becomes a run."""
    return approve(call.db, call.path["mail_id"], call.body, call.actor)


@api_route(
    bp,
    "POST",
    "inbox/{mail_id:long}/reparse",
    role=Role.OPERATOR,
    tag="inbox",
    response=Reparse,
    errors=(409,),
)
def reparse_inbox_mail(call: Call) -> Reparse:
    """Run the current parsers on a stored Inbox mail again; a known job's mail is booked."""
    return reparse(call.db, call.path["mail_id"], call.actor)


@api_route(bp, "POST", "inbox/delete", role=Role.OPERATOR, tag="inbox", body=DeleteBody, response=Deletion)
def delete_inbox_mail(call: Call) -> Deletion:
    """Soft-delete Inbox mail (booked mail stays with its run)."""
    return delete_mails(call.db, call.body.mail_ids, call.actor)


@api_route(bp, "GET", "mails/{mail_id:long}", role=Role.VIEWER, tag="inbox", response=MailView)
def get_stored_mail(call: Call) -> MailView:
    """A stored mail: bodies, parse result and objects, and the run it became."""
    return get_mail(call.db, call.path["mail_id"])
