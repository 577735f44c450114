"""Operator parsing rules: list, read, test live, create, change, disable."""

from __future__ import annotations

from typing import TYPE_CHECKING

import azure.functions as func

from functions.http import api_route
from shared_code.api.auth import Role
from shared_code.api.routing import Call

if TYPE_CHECKING:
    from shared_code.mail.parsing_rules import RuleList, RuleSaved, RuleTest, RuleView

bp = func.Blueprint()
RULES = "shared_code.mail.parsing_rules"


@api_route(bp, "GET", "parsing-rules", role=Role.VIEWER, tag="parsers", response=f"{RULES}:RuleList")
def parsing_rules_list(call: Call) -> RuleList:
    """Every parsing rule, enabled or not, oldest first (the order they are tried in)."""
    from shared_code.mail.parsing_rules import list_rules

    return list_rules(call.db)


@api_route(
    bp,
    "GET",
    "parsing-rules/{rule_id:int}",
    role=Role.VIEWER,
    tag="parsers",
    response=f"{RULES}:RuleView",
)
def parsing_rules_get(call: Call) -> RuleView:
    """One parsing rule, its current version."""
    from shared_code.mail.parsing_rules import get_rule

    return get_rule(call.db, call.path["rule_id"])


@api_route(
    bp,
    "POST",
    "parsing-rules/test",
    role=Role.OPERATOR,
    tag="parsers",
    body=f"{RULES}:RuleTestBody",
    response=f"{RULES}:RuleTest",
)
def parsing_rules_test(call: Call) -> RuleTest:
    """Try a rule, unsaved, on an Inbox mail and every mail waiting from the same sender."""
    from shared_code.mail.parsing_rules import test_rule

    return test_rule(call.db, call.body)


@api_route(
    bp,
    "POST",
    "parsing-rules",
    role=Role.OPERATOR,
    tag="parsers",
    body=f"{RULES}:RuleCreate",
    response=f"{RULES}:RuleSaved",
    status=201,
    errors=(409,),
)
def parsing_rules_create(call: Call) -> RuleSaved:
    """Save a new rule; the sender's waiting mail is parsed again at once."""
    from shared_code.mail.parsing_rules import create_rule

    return create_rule(call.db, call.body, call.actor)


@api_route(
    bp,
    "PATCH",
    "parsing-rules/{rule_id:int}",
    role=Role.OPERATOR,
    tag="parsers",
    body=f"{RULES}:RuleChange",
    response=f"{RULES}:RuleSaved",
    errors=(409,),
)
def parsing_rules_change(call: Call) -> RuleSaved:
    """Save a new version of a rule (name, spec, enabled); the sender's waiting mail is parsed again."""
    from shared_code.mail.parsing_rules import change_rule

    return change_rule(call.db, call.path["rule_id"], call.body, call.actor)


@api_route(
    bp,
    "POST",
    "parsing-rules/{rule_id:int}/disable",
    role=Role.OPERATOR,
    tag="parsers",
    response=f"{RULES}:RuleView",
)
def parsing_rules_disable(call: Call) -> RuleView:
    """Stop using a rule for new mail; what it parsed stays. Disabling twice changes nothing."""
    from shared_code.mail.parsing_rules import disable_rule

    return disable_rule(call.db, call.path["rule_id"], call.actor)
