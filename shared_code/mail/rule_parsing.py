"""Operator parsing rules in the pipeline: tried after the built-in parsers, on mail none of them
recognised (never on noise, never over a built-in result or error).

A rule that raises is logged and skipped: it never stops ingestion, and the mail stays unparsed in
the Inbox as it would have without the rule. The first enabled rule (oldest first) whose sender
matches and that reads a run wins; mails it parses name it as their parser (``rule <id> v<n>``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared_code.db.models import ParsingRule

if TYPE_CHECKING:
    from shared_code.parsers.mime import DecodedMail
    from shared_code.parsers.registry import ParseOutcome
    from shared_code.parsers.rule_engine import RuleSpec

log = logging.getLogger(__name__)


def rule_parser_name(rule: ParsingRule) -> str:
    return f"rule {rule.id} v{rule.version}: {rule.name}"


def apply_rules(session: Session, mail: DecodedMail, outcome: ParseOutcome) -> ParseOutcome:
    """The built-in outcome, or the first enabled rule's result when no built-in parser recognised it."""
    from shared_code.parsers.registry import ParseOutcome, recognised_by_none
    from shared_code.parsers.rule_engine import RuleMiss, evaluate

    if not recognised_by_none(outcome):
        return outcome
    for rule, spec in enabled_rules_for(session, mail.from_address or ""):
        try:
            result = evaluate(spec, mail)
        except RuleMiss:
            continue
        except Exception:  # a rule must never stop ingestion: the mail stays unparsed
            log.exception("parsing rule %s failed on a mail from %s", rule.id, mail.from_address)
            continue
        return ParseOutcome(kind="parsed", parser_name=rule_parser_name(rule), result=result)
    return outcome


def enabled_rules_for(session: Session, address: str) -> list[tuple[ParsingRule, RuleSpec]]:
    """Enabled rules whose sender (address or domain) takes this address, oldest first."""
    # A handful of rules at most: the spec decides, in Python, whether its sender takes the address.
    rules = session.scalars(select(ParsingRule).where(ParsingRule.enabled).order_by(ParsingRule.id)).all()
    found = []
    for rule in rules:
        spec = stored_spec(rule)
        if spec is not None and spec.match.takes(address):
            found.append((rule, spec))
    return found


def stored_spec(rule: ParsingRule) -> RuleSpec | None:
    """The rule's current spec, or None (logged) when it no longer validates, e.g. under new limits."""
    from shared_code.parsers.rule_engine import RuleSpec

    try:
        return RuleSpec.model_validate(rule.spec)
    except ValidationError:
        log.warning("parsing rule %s has a spec that no longer validates; it is skipped", rule.id)
        return None
