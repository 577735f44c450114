"""The parser registry's documentation, with the operators' parsing rules beside it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import azure.functions as func

from functions.http import api_route
from shared_code.api.auth import Role
from shared_code.api.routing import Call

if TYPE_CHECKING:
    from shared_code.mail.parsing_rules import ParserList

bp = func.Blueprint()


@api_route(
    bp,
    "GET",
    "parsers",
    role=Role.VIEWER,
    response="shared_code.mail.parsing_rules:ParserList",
    tag="parsers",
)
def list_parsers(call: Call) -> ParserList:
    """Every parser, in the order they are tried (name, products, a sample subject), then the rules."""
    from shared_code.mail.parsing_rules import parser_list

    return parser_list(call.db)
