"""What a parser promises and returns, and the rules every parser applies the same way.

The result models are the boundary to storage and API: ``ParseResult.model_dump(mode="json")``
is exactly the corpus's expected-result format (same keys, same order).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Protocol

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared_code.parsers.vocabulary import Status, status_in_text, worst

if TYPE_CHECKING:
    from shared_code.parsers.mime import DecodedMail

# Names are shown as displayed: trimmed by the parser, never empty.
DisplayName = Annotated[str, StringConstraints(min_length=1, pattern=r"^\S(?:.*\S)?$")]

_PLACEHOLDERS = frozenset({"", "-", "–", "—"})
_QUOTED = re.compile(r"[\"“„]([^\"“”„]{1,300})[\"”“]")


class ParsedObject(BaseModel):
    """One row of a report: a VM, computer, mailbox, device or NAS."""

    model_config = ConfigDict(frozen=True)

    name: DisplayName
    status: Status
    message: str | None = None


class ParseResult(BaseModel):
    """One backup run (or informational notice) read from one mail."""

    model_config = ConfigDict(frozen=True)

    software: DisplayName
    backup_type: DisplayName
    job_name: DisplayName
    status: Status
    informational: bool = False
    objects: list[ParsedObject] = []
    # Not in the corpus format: format drift compares it from one mail of a job to the next.
    status_stated: bool = Field(
        True,
        exclude=True,
        description="The mail states the run's status in words; False: it was derived from a fallback "
        "(the objects' worst, or the subject's word, where the report's own status line says none).",
    )
    # The run's size as the report states it (parsers/sizes.py). Stored, but left out of every dump,
    # so the corpus format and the API's parse results stay as they were.
    size_bytes: int | None = Field(default=None, exclude=True)


class ParserDoc(BaseModel):
    """How the registry documents a parser (``GET /api/parsers``)."""

    model_config = ConfigDict(frozen=True)

    name: str
    products: list[str]
    sample_subject: str
    informational: bool = False
    description: str


class Parser(Protocol):
    """A parser for one product family."""

    def claims(self, mail: DecodedMail) -> bool:
        """Cheap first test: does the mail look like this product's report?"""
        ...

    def parse(self, mail: DecodedMail) -> ParseResult | None:
        """The run the mail reports, or None when a closer look shows it is not one."""
        ...


class SubjectParser:
    """A parser that knows its product's mail by the subject alone (a fixed, product-written subject).

    ``claims`` is one match of ``subject``; ``parse_subject`` reads the body of a claimed mail.
    """

    subject: re.Pattern[str]

    def claims(self, mail: DecodedMail) -> bool:
        return self.subject.match(mail.subject) is not None

    def parse(self, mail: DecodedMail) -> ParseResult | None:
        subject = self.subject.match(mail.subject)
        return None if subject is None else self.parse_subject(mail, subject)

    def parse_subject(self, mail: DecodedMail, subject: re.Match[str]) -> ParseResult | None:
        raise NotImplementedError


class ParseError(ValueError):
    """The mail is this product's report, but a part every report has is missing."""


def run_status(stated: Status | None, objects: Iterable[ParsedObject], subject: str) -> Status:
    """The corpus rule: the status the body states, else the worst object, else the subject's word.

    A result built from it records ``status_stated=stated is not None``: the fallbacks are drift."""
    status = stated or worst(item.status for item in objects) or status_in_text(subject)
    if status is None:
        raise ParseError("no run status in the body, the objects or the subject")
    return status


def message_or_none(text: str | None) -> str | None:
    """An object's message as the mail gives it; empty cells and placeholders are no message."""
    if not text:
        return None
    text = " ".join(text.split())
    return None if text in _PLACEHOLDERS else text


def required(value: str | None, what: str) -> str:
    """A value every report of the product carries; its absence is a parse error."""
    if not value:
        raise ParseError(f"no {what} found")
    return value


def first_quoted(text: str | None) -> str | None:
    """The first "double-quoted" (or “curly-quoted”) name in a line, trimmed."""
    match = _QUOTED.search(text or "")
    if match is None:
        return None
    return " ".join(match.group(1).split()) or None
