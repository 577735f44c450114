"""Parsing rules as operators manage them (``/api/parsing-rules``): list, test, create, change, disable.

A rule is tested live before it is saved: against the Inbox mail the operator started from and
every other mail waiting from the same sender ("parses 14 of 15; the 15th: no status word found").
Saving (a new rule, a new version, enabling) re-parses the sender's waiting mail, which then shows
in the Inbox ready for approval like any parsed mail; mail of a known job is booked at once.
Every save is a new version, kept, and audited; a rule is disabled, never deleted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared_code import audit
from shared_code.db.models import ParsingRule, ParsingRuleVersion, ci_key
from shared_code.errors import Conflict, InvalidInput, NotFound
from shared_code.mail.inbox import IN_INBOX, reparse
from shared_code.mail.rule_parsing import rule_parser_name, stored_spec
from shared_code.parsers.base import ParserDoc, ParseResult
from shared_code.parsers.rule_engine import RuleSpec
from shared_code.schema.fields import DisplayName, Id
from shared_code.schema.models import RequestModel, ResponseModel

WAITING_TESTED = 200  # newest waiting mails of a sender a test reads
SHOWN_MISSES = 3


class RuleCreate(RequestModel):
    name: DisplayName = Field(max_length=100)
    spec: RuleSpec


class RuleChange(RequestModel):
    name: DisplayName | None = Field(None, max_length=100)
    spec: RuleSpec | None = None
    enabled: bool | None = None


class RuleTestBody(RequestModel):
    mail_id: Id | None = Field(
        None, description="The mail the rule is written from; without it, the sender's waiting mail only."
    )
    spec: RuleSpec


class RuleView(ResponseModel):
    id: int
    name: str
    enabled: bool
    version: int
    spec: dict[str, Any]
    parser_name: str = Field(description="How mails this version parses name their parser.")
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


class RuleList(BaseModel):
    items: list[RuleView]


class ParserList(BaseModel):
    """``GET /api/parsers``: the built-in parsers, then the rules."""

    items: list[ParserDoc] = Field(description="Built-in parsers, in the order they are tried.")
    rules: list[RuleView] = Field(description="Operators' parsing rules, tried after every built-in parser.")


class MailTried(BaseModel):
    mail_id: int
    subject: str | None
    received_at: datetime
    parsed: bool
    result: ParseResult | None = None
    reason: str | None = None


class RuleTest(BaseModel):
    parsed: int
    total: int
    summary: str = Field(description='e.g. "parses 14 of 15; mail 812 (…): no status word found"')
    mails: list[MailTried]


class RuleSaved(BaseModel):
    rule: RuleView
    reparsed: int = Field(description="Waiting mails of the sender parsed again.")
    parsed: int = Field(description="Of those, how many now parse (by any parser or rule).")
    booked: int = Field(description="Of those, how many belonged to a known job and became runs.")


# --- reading ------------------------------------------------------------------------------------------


def view(rule: ParsingRule) -> RuleView:
    columns = {name: getattr(rule, name) for name in RuleView.model_fields if name != "parser_name"}
    return RuleView.model_validate({**columns, "parser_name": rule_parser_name(rule)})


def list_rules(session: Session) -> RuleList:
    rules = session.scalars(select(ParsingRule).order_by(ParsingRule.id)).all()
    return RuleList(items=[view(rule) for rule in rules])


def parser_list(session: Session) -> ParserList:
    from shared_code.parsers.registry import parser_docs

    return ParserList(items=parser_docs(), rules=list_rules(session).items)


def get_rule(session: Session, rule_id: int) -> RuleView:
    return view(_rule(session, rule_id))


def _rule(session: Session, rule_id: int, *, lock: bool = False) -> ParsingRule:
    rule = session.get(ParsingRule, rule_id, with_for_update=lock)
    if rule is None:
        raise NotFound(f"no such parsing rule: {rule_id}")
    return rule


# --- testing ------------------------------------------------------------------------------------------


def test_rule(session: Session, body: RuleTestBody) -> RuleTest:
    """The rule against the given mail and every mail waiting from the same sender (without a mail:
    every mail waiting from the senders the rule takes), nothing saved."""
    from shared_code.db.models import MailContent, MailMessage
    from shared_code.parsers.mime import decode_mail
    from shared_code.parsers.rule_engine import RuleMiss, evaluate

    if body.mail_id is not None:
        first = session.get(MailMessage, body.mail_id)
        if first is None or not first.live:
            raise NotFound(f"no such mail: {body.mail_id}")
        others = waiting_mails(session, first.from_address or "")
        mails = [first, *(mail for mail in others if mail.id != first.id)]
    else:
        mails = [
            mail for address in senders_taken(session, body.spec) for mail in waiting_mails(session, address)
        ]
    tried: list[MailTried] = []
    for mail in mails:
        content = session.get(MailContent, mail.id)
        outcome = MailTried(mail_id=mail.id, subject=mail.subject, received_at=mail.received_at, parsed=False)
        if content is None:
            tried.append(outcome.model_copy(update={"reason": "stored without its raw content"}))
            continue
        try:
            result = evaluate(body.spec, decode_mail(content.mime))
        except RuleMiss as miss:
            tried.append(outcome.model_copy(update={"reason": str(miss)}))
        except Exception as exc:  # shown to the operator as that mail's reason, like a miss
            tried.append(
                outcome.model_copy(update={"reason": f"the rule failed: {type(exc).__name__}: {exc}"})
            )
        else:
            tried.append(outcome.model_copy(update={"parsed": True, "result": result}))
    parsed = sum(item.parsed for item in tried)
    return RuleTest(parsed=parsed, total=len(tried), summary=_summary(tried, parsed), mails=tried)


def _summary(tried: list[MailTried], parsed: int) -> str:
    summary = f"parses {parsed} of {len(tried)}"
    misses = [item for item in tried if not item.parsed]
    for item in misses[:SHOWN_MISSES]:
        summary += f"; mail {item.mail_id} ({(item.subject or '')[:50]!r}): {item.reason}"
    if len(misses) > SHOWN_MISSES:
        summary += f"; {len(misses) - SHOWN_MISSES} more not parsed"
    return summary


def waiting_mails(session: Session, address: str) -> list[Any]:
    """Inbox mails from this sender that no built-in parser took, newest first."""
    from shared_code.db.models import MailMessage

    return list(
        session.scalars(
            select(MailMessage)
            .where(
                *IN_INBOX,
                ci_key(MailMessage.from_address) == address.strip().casefold(),
                (MailMessage.parse_status != "parsed") | MailMessage.parser_name.startswith("rule "),
            )
            .order_by(MailMessage.received_at.desc(), MailMessage.id.desc())
            .limit(WAITING_TESTED)
        )
    )


# --- saving -------------------------------------------------------------------------------------------


def create_rule(session: Session, body: RuleCreate, actor: str) -> RuleSaved:
    rule = ParsingRule(
        name=body.name,
        sender=body.spec.match.sender,
        spec=body.spec.model_dump(mode="json"),
        version=1,
        enabled=True,
        created_by=actor,
        updated_by=actor,
    )
    session.add(rule)
    _flush_name(session, body.name)
    return _saved(session, rule, actor, "create")


def change_rule(session: Session, rule_id: int, body: RuleChange, actor: str) -> RuleSaved:
    """A new version with the changes; enabling or changing re-parses the sender's waiting mail."""
    rule = _rule(session, rule_id, lock=True)
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    if not changes:
        raise InvalidInput("nothing to change", details={"field": "body"})
    if body.name is not None:
        rule.name = body.name
    if body.spec is not None:
        rule.spec, rule.sender = body.spec.model_dump(mode="json"), body.spec.match.sender
    if body.enabled is not None:
        rule.enabled = body.enabled
    rule.version += 1
    rule.updated_by = actor
    _flush_name(session, rule.name)
    return _saved(session, rule, actor, "update")


def disable_rule(session: Session, rule_id: int, actor: str) -> RuleView:
    """Stop using the rule for new mail; what it parsed stays parsed. Disabling twice changes nothing."""
    rule = _rule(session, rule_id, lock=True)
    if rule.enabled:
        rule.enabled, rule.version, rule.updated_by = False, rule.version + 1, actor
        _keep_version(session, rule, actor)
        audit.record(session, actor, "disable", "parsing_rule", rule.id, {"version": rule.version})
        session.flush()
    return view(rule)


def _saved(session: Session, rule: ParsingRule, actor: str, action: str) -> RuleSaved:
    _keep_version(session, rule, actor)
    audit.record(
        session, actor, action, "parsing_rule", rule.id, {"version": rule.version, "name": rule.name}
    )
    session.flush()
    reparsed = parsed = booked = 0
    spec = stored_spec(rule)
    if rule.enabled and spec is not None:
        for address in senders_taken(session, spec):
            for mail in waiting_mails(session, address):
                try:
                    done = reparse(session, mail.id, actor)
                except Conflict:  # stored without its raw content: it stays as it is
                    continue
                reparsed += 1
                parsed += done.mail.parse_status == "parsed"
                booked += done.run_id is not None
    session.refresh(rule)
    return RuleSaved(rule=view(rule), reparsed=reparsed, parsed=parsed, booked=booked)


def senders_taken(session: Session, spec: RuleSpec) -> list[str]:
    """Senders of Inbox mail the rule takes: its address, or any address in its domain."""
    from shared_code.db.models import MailMessage

    sender = spec.match.sender.removeprefix("@")
    address = ci_key(MailMessage.from_address)
    condition = address == sender if "@" in sender else address.endswith(sender)
    found = session.scalars(select(address).where(*IN_INBOX, condition).distinct().order_by(address))
    return [each for each in found if spec.match.takes(each)]


def _keep_version(session: Session, rule: ParsingRule, actor: str) -> None:
    session.add(
        ParsingRuleVersion(
            rule_id=rule.id,
            version=rule.version,
            name=rule.name,
            enabled=rule.enabled,
            spec=rule.spec,
            created_by=actor,
        )
    )


def _flush_name(session: Session, name: str) -> None:
    """Flush, turning the unique name index's refusal into a 409 naming the field."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(
            f"a parsing rule named {name!r} exists already", code="name_taken", details={"field": "name"}
        ) from None
