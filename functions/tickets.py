"""Internal tickets and remarks: the same four routes for each, under /api/tickets and /api/remarks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import azure.functions as func

from functions.http import api_route
from shared_code.api.auth import Role
from shared_code.api.routing import Call, Handler

if TYPE_CHECKING:
    from pydantic import BaseModel

    from shared_code.tickets.kinds import NoteKind
    from shared_code.tickets.notes import LinkResult, NoteView

bp = func.Blueprint()
NOTES = "shared_code.tickets.notes"


def _named(name: str, doc: str, handler: Handler) -> Handler:
    """Route names and summaries come from the handler; each kind gets its own."""
    handler.__name__, handler.__doc__ = name, doc
    return handler


def declare_note_routes(name: str, plural: str) -> None:
    """The routes of one kind of note (``NoteKind.name`` and ``.plural``); the kind, its models
    and the services load on the first call."""
    view, listing = f"{NOTES}:{name.capitalize()}View", f"{NOTES}:{name.capitalize()}List"
    tag, path = plural, plural

    def kind() -> NoteKind:
        from shared_code.tickets.kinds import KINDS

        return KINDS[plural]

    def list_handler(call: Call) -> BaseModel:
        from shared_code.tickets.notes import list_model, list_notes

        items, page = list_notes(call.db, kind(), call.query)
        # The items are the kind's own views, which list_notes types as any note's view.
        return list_model(kind()).model_validate({"items": items, "page": page})

    def create_handler(call: Call) -> NoteView:
        from shared_code.tickets.notes import create_note

        return create_note(call.db, kind(), call.body, call.actor)

    def resolve_handler(call: Call) -> NoteView:
        from shared_code.tickets.notes import resolve_note

        return resolve_note(call.db, kind(), call.path["note_id"], call.actor)

    def link_handler(call: Call) -> LinkResult:
        from shared_code.tickets.notes import link_note

        return link_note(call.db, kind(), call.path["note_id"], call.body, call.actor)

    api_route(bp, "GET", path, role=Role.VIEWER, tag=tag, query=f"{NOTES}:NoteListQuery", response=listing)(
        _named(f"list_{plural}", f"{plural.capitalize()}, newest first; open ones by default.", list_handler)
    )
    api_route(
        bp, "POST", path, role=Role.OPERATOR, tag=tag, body=f"{NOTES}:NoteCreate", response=view, status=201
    )(_named(f"create_{name}", f"Create a {name} scoped to jobs, optionally linked to runs.", create_handler))
    api_route(
        bp,
        "POST",
        f"{path}/{{note_id:int}}/resolve",
        role=Role.OPERATOR,
        tag=tag,
        response=view,
        errors=(409,),
    )(_named(f"resolve_{name}", f"Resolve a {name}: it stops propagating to new runs at once.", resolve_handler))
    api_route(
        bp,
        "POST",
        f"{path}/{{note_id:int}}/links",
        role=Role.OPERATOR,
        tag=tag,
        body=f"{NOTES}:NoteLinks",
        response=f"{NOTES}:LinkResult",
        errors=(409,),
    )(_named(f"link_{name}", f"Link a {name} to runs (idempotent).", link_handler))


declare_note_routes("ticket", "tickets")
declare_note_routes("remark", "remarks")
