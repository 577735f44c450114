"""The parser registry's documentation."""

from __future__ import annotations

import azure.functions as func
from pydantic import BaseModel

from functions.http import api_route
from shared_code.api.auth import Role
from shared_code.api.routing import Call
from shared_code.parsers.base import ParserDoc
from shared_code.parsers.registry import parser_docs

bp = func.Blueprint()


class ParserList(BaseModel):
    items: list[ParserDoc]


@api_route(bp, "GET", "parsers", role=Role.VIEWER, response=ParserList, tag="parsers")
def list_parsers(call: Call) -> ParserList:
    """Every parser, in the order they are tried: name, products, a sample subject."""
    return ParserList(items=parser_docs())
