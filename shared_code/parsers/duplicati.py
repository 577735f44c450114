"""Duplicati backup reports (the send-mail module's default subject and ``%RESULT%`` body).

The subject is ``Duplicati Backup report for <backup name>``; the plain-text body is the
result object serialised as ``Key: value`` lines (``MainOperation: Backup``,
``ParsedResult: Success|Warning|Error|Fatal``) with the lists ``LimitedMessages``,
``LimitedWarnings`` and ``LimitedErrors`` printed as ``[``, one entry per line indented
by four spaces (an exception's text on the next, unindented line), ``,`` after every
entry but the last, at most 10 entries and then ``...``, and ``]``. A fatal run starts
with ``Failed: <message>`` / ``Details: <exception>``; up to 2.0.7 that is the whole
report, without ``ParsedResult``. The report names no machine, so the backup is the one
object. Dates and numbers follow the sender's locale and are not read.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from shared_code.parsers.base import ParsedObject, ParseResult, SubjectParser, message_or_none
from shared_code.parsers.vocabulary import FAILED, SUCCESS, WARNING, Status

if TYPE_CHECKING:
    from shared_code.parsers.mime import DecodedMail

_SUBJECT = re.compile(r"^Duplicati (?P<operation>\S{1,40}) report for (?P<name>\S.{0,400})$")
_PARSED_RESULTS: dict[str, Status] = {
    "success": SUCCESS,
    "warning": WARNING,
    "error": FAILED,
    "fatal": FAILED,
}
_FAILED_PREFIX = "Failed: "
# The result's own "Key: value" lines start at the margin; list entries are indented and an
# entry's exception line names a dotted type ("System.IO.IOException: ...").
# Searched in "\n" + body: a pattern that starts with a literal is found by a fast scan.
_FIELD = re.compile(r"\n(?P<key>[A-Za-z][A-Za-z0-9]{0,60}): ?(?P<value>[^\n]*)")
# A list ends at "]" alone on a line, or at "..." when it was cut at 10 entries.
_LIST_END = re.compile(r"\n(?:\]|(?P<cut>\.\.\.))[ \t]*(?=\n|$)")
_ENTRY_START = re.compile(r"\n(?=    \S)")


class DuplicatiParser(SubjectParser):
    subject = _SUBJECT

    def parse_subject(self, mail: DecodedMail, subject: re.Match[str]) -> ParseResult | None:
        if subject.group("operation").casefold() != "backup" or not mail.text_body:
            return None
        report = _Report(mail.text_body)
        operation = report.fields.get("MainOperation")
        if operation is not None and operation.casefold() != "backup":
            return None
        status = report.status()
        if status is None:
            return None
        name = subject.group("name").strip()
        return ParseResult(
            software="Duplicati",
            backup_type="Backup",
            job_name=name,
            status=status,
            objects=[ParsedObject(name=name, status=status, message=message_or_none(report.message(status)))],
        )


class _Report:
    """The serialised result: its unindented ``Key: value`` fields and where each one ends."""

    def __init__(self, body: str) -> None:
        self.body = body
        self.fields: dict[str, str] = {}
        self.ends: dict[str, int] = {}
        for match in _FIELD.finditer("\n" + body):
            key = match.group("key")
            if key not in self.fields:
                self.fields[key] = match.group("value").strip()
                self.ends[key] = match.end() - 1  # in body, without the "\n" put in front
        first = body.lstrip().partition("\n")[0]
        self.failed = first[len(_FAILED_PREFIX) :] if first.startswith(_FAILED_PREFIX) else None

    def parsed_result(self) -> str:
        return self.fields.get("ParsedResult", "").casefold()

    def status(self) -> Status | None:
        """The stated ParsedResult; a report that opens with "Failed:" and states none failed."""
        stated = _PARSED_RESULTS.get(self.parsed_result())
        if stated is None and self.failed is not None and "ParsedResult" not in self.fields:
            return FAILED
        return stated

    def message(self, status: Status) -> str | None:
        if status == WARNING:
            return self.entries("LimitedWarnings")
        if status == SUCCESS:
            return None
        if self.failed is not None and self.parsed_result() in ("fatal", ""):
            return self.failed
        return self.entries("LimitedErrors")

    def entries(self, key: str) -> str | None:
        """A list's entries joined by spaces, without the separator commas and the "..." of a cut list."""
        start = self.ends.get(key)
        if start is None or self.fields[key] != "[":
            return None
        end = _LIST_END.search(self.body, start)
        block = self.body[start + 1 : len(self.body) if end is None else end.start()]
        entries = [entry.rstrip() for entry in _ENTRY_START.split(block) if entry.strip()]
        # Every entry but the last of the whole list ends in the separator comma.
        separated = len(entries) if end is not None and end.group("cut") else len(entries) - 1
        for index in range(separated):
            entries[index] = entries[index].removesuffix(",")
        return " ".join(entries) or None


PARSER = DuplicatiParser()
