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
    from shared_code.mail.mime import DecodedMail

_SUBJECT = re.compile(r"^Duplicati (?P<operation>\S{1,40}) report for (?P<name>\S.{0,400})$")
_PARSED_RESULTS: dict[str, Status] = {
    "success": SUCCESS,
    "warning": WARNING,
    "error": FAILED,
    "fatal": FAILED,
}
_FAILED_PREFIX = "Failed: "
_ENTRY_INDENT = "    "
_CUT_LIST = "..."


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
    """The serialised result: its unindented ``Key: value`` fields and where each line is."""

    def __init__(self, body: str) -> None:
        self.lines = body.split("\n")
        self.fields: dict[str, str] = {}
        self.positions: dict[str, int] = {}
        for index, line in enumerate(self.lines):
            key, colon, value = line.partition(": ")
            if colon and key and not key[0].isspace() and " " not in key and key not in self.fields:
                self.fields[key] = value.strip()
                self.positions[key] = index
        first = next((line for line in self.lines if line.strip()), "")
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
        start = self.positions.get(key)
        if start is None or self.fields[key] != "[":
            return None
        entries: list[list[str]] = []
        cut = False
        for line in self.lines[start + 1 :]:
            end = line.rstrip()
            if end == "]" or end == _CUT_LIST:
                cut = end == _CUT_LIST
                break
            if line.startswith(_ENTRY_INDENT) and not line[len(_ENTRY_INDENT) :][:1].isspace():
                entries.append([end])
            elif entries:
                entries[-1].append(end)
        # Every entry but the last of the whole list ends in the separator comma.
        for entry in entries if cut else entries[:-1]:
            entry[-1] = entry[-1].removesuffix(",")
        return " ".join(" ".join(entry) for entry in entries) or None


PARSER = DuplicatiParser()
