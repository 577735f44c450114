"""Internal tickets and remarks: the same four routes for each, under /api/tickets and /api/remarks."""

from __future__ import annotations

from collections.abc import Callable

import azure.functions as func
from pydantic import BaseModel, create_model

from functions.http import api_route
from shared_code.api.auth import Role
from shared_code.api.routing import Call
from shared_code.schema.paging import PageInfo
from shared_code.tickets.kinds import REMARKS, TICKETS, NoteKind
from shared_code.tickets.notes import (
    LinkResult,
    NoteCreate,
    NoteLinks,
    NoteListQuery,
    create_note,
    link_note,
    list_notes,
    resolve_note,
    view_model,
)

bp = func.Blueprint()


def _named(name: str, doc: str, handler: Callable[[Call], object]) -> Callable[[Call], object]:
    """Route names and summaries come from the handler; each kind gets its own."""
    handler.__name__, handler.__doc__ = name, doc
    return handler


def declare_note_routes(kind: NoteKind) -> None:
    view = view_model(kind)
    listing: type[BaseModel] = create_model(
        f"{view.__name__[:-4]}List", items=(list[view], ...), page=(PageInfo, ...)
    )
    tag, path = kind.plural, kind.plural

    def list_handler(call: Call) -> BaseModel:
        items, page = list_notes(call.db, kind, call.query)
        return listing(items=items, page=page)

    def create_handler(call: Call) -> object:
        return create_note(call.db, kind, call.body, call.actor)

    def resolve_handler(call: Call) -> object:
        return resolve_note(call.db, kind, call.path["note_id"], call.actor)

    def link_handler(call: Call) -> object:
        return link_note(call.db, kind, call.path["note_id"], call.body, call.actor)

    api_route(bp, "GET", path, role=Role.VIEWER, tag=tag, query=NoteListQuery, response=listing)(
        _named(
            f"list_{kind.plural}",
            f"{kind.plural.capitalize()}, newest first; open ones by default.",
            list_handler,
        )
    )
    api_route(bp, "POST", path, role=Role.OPERATOR, tag=tag, body=NoteCreate, response=view, status=201)(
        _named(
            f"create_{kind.name}",
            f"Create a {kind.name} scoped to jobs, optionally linked to runs.",
            create_handler,
        )
    )
    api_route(
        bp,
        "POST",
        f"{path}/{{note_id:int}}/resolve",
        role=Role.OPERATOR,
        tag=tag,
        response=view,
        errors=(409,),
    )(
        _named(
            f"resolve_{kind.name}",
            f"Resolve a {kind.name}: it stops propagating to new runs at once.",
            resolve_handler,
        )
    )
    api_route(
        bp,
        "POST",
        f"{path}/{{note_id:int}}/links",
        role=Role.OPERATOR,
        tag=tag,
        body=NoteLinks,
        response=LinkResult,
        errors=(409,),
    )(_named(f"link_{kind.name}", f"Link a {kind.name} to runs (idempotent).", link_handler))


declare_note_routes(TICKETS)
declare_note_routes(REMARKS)
