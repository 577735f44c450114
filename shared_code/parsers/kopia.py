"""Kopia notifications: snapshot reports and error notifications (0.18 to 0.21).

Kopia writes HTML by default (plain text when the profile asks for it). A snapshot report has one
row per source, ``<tr class="snapshotstatus-<code>">`` with the path in its first cell, and below a
source its ``Error:`` and ``Failed Entries:`` rows (text: a ``Path:`` block per source with its
``Status:``, ``Error:`` and ``- <entry>: <error>`` lines); the body states no overall result, so the run
is the worst source. Status codes changed in 0.19 (``ok`` / ``error`` became ``success`` /
``warnings``; 0.18's ``error`` is an ignored error, a warning). The subject names no status that
can be trusted (``Successfully created …`` stays when a source warns) but ends in the host, which
is the job. ``Kopia has encountered an error during <operation> on <host>`` is a failed run of
that operation, the host its one object and the ``Message:`` paragraph its message.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from shared_code.parsers.base import ParsedObject, ParseResult, SubjectParser, message_or_none
from shared_code.parsers.vocabulary import FAILED, SUCCESS, WARNING, Status, worst

if TYPE_CHECKING:
    from shared_code.parsers.mime import DecodedMail

_HOST = r" on (?P<host>[^ ]{1,255})$"
_SUBJECT = re.compile(
    r"^(?:(?P<error>Kopia has encountered an error during (?P<operation>.{1,100}?))"
    r"|Successfully created (?:a snapshot of .{1,1000}?|\d{1,6} snapshots)"
    r"|Failed to create (?:a snapshot of .{1,1000}?|\d{1,6} of \d{1,6} snapshots)"
    r"|Kopia created \d{1,6} snapshots?(?:\(s\))?)" + _HOST
)
_FOOTER = re.compile(r"^Generated at .{1,80} by Kopia \S{1,40}$")
_SOURCE_ROW = re.compile(r"<tr class=\"snapshotstatus-(?P<code>[a-z]{1,20})\">")
_CODES: dict[str, Status] = {
    "success": SUCCESS,
    "ok": SUCCESS,
    "warnings": WARNING,
    "error": WARNING,  # 0.18: errors the policy ignores
    "incomplete": WARNING,
    "fatal": FAILED,
}
_ERROR_LABEL = "Error: "
_TEXT_PATH = "Path: "
_TEXT_STATUS = "Status: "
_ENTRIES_LABEL = "Failed Entries:"


class KopiaParser(SubjectParser):
    subject = _SUBJECT

    def parse_subject(self, mail: DecodedMail, subject: re.Match[str]) -> ParseResult | None:
        if not any(_FOOTER.match(line) for line in mail.document.lines[-3:]):
            return None
        host = subject.group("host")
        if subject.group("error"):
            return _error_notification(mail, subject.group("operation"), host)
        objects = _html_sources(mail) if mail.html_body else _text_sources(mail)
        status = worst(item.status for item in objects)
        if status is None:
            return None
        return ParseResult(
            software="Kopia", backup_type="Snapshot", job_name=host, status=status, objects=objects
        )


def _error_notification(mail: DecodedMail, operation: str, host: str) -> ParseResult:
    message = mail.document.field("message") if mail.html_body else _text_error_details(mail.text_body or "")
    return ParseResult(
        software="Kopia",
        backup_type="Maintenance" if operation.casefold() == "maintenance" else "Error Notification",
        job_name=host,
        status=FAILED,
        objects=[ParsedObject(name=host, status=FAILED, message=message_or_none(message))],
    )


def _text_error_details(body: str) -> str | None:
    """The text format's first line of the error details: after the blank line that follows Finished:."""
    lines = body.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("Finished:"):
            rest = lines[index + 1 :]
            while rest and rest[0].strip():
                rest.pop(0)
            return next((line for line in rest if line.strip()), None)
    return None


def _html_sources(mail: DecodedMail) -> list[ParsedObject]:
    """One object per source row; the one-cell rows below it hold its error and failed entries."""
    codes = [match.group("code") for match in _SOURCE_ROW.finditer(mail.html_body or "")]
    rows = [row for row in mail.document.rows if row[:1] != ("Source",)]
    if len(codes) != len(rows):
        return []
    sources: list[tuple[str, Status, list[str]]] = []
    for code, row in zip(codes, rows, strict=True):
        if len(row) > 1:
            sources.append((row[0], _CODES.get(code, FAILED), []))
        elif sources:
            sources[-1][2].append(_unlabelled(row[0]))
    return [
        ParsedObject(name=name, status=status, message=message_or_none(" ".join(parts)))
        for name, status, parts in sources
    ]


def _text_sources(mail: DecodedMail) -> list[ParsedObject]:
    """The text format: a ``Path:`` block per source, its ``Status:``, ``Error:`` and ``- `` failed entries."""
    sources: list[tuple[str, Status, list[str]]] = []
    for line in mail.document.lines:
        if line.startswith(_TEXT_PATH):
            sources.append((line.removeprefix(_TEXT_PATH).strip(), FAILED, []))
        elif not sources or line.startswith("Generated at "):
            continue
        elif line.startswith(_TEXT_STATUS):
            name, _, parts = sources[-1]
            sources[-1] = (
                name,
                _CODES.get(line.removeprefix(_TEXT_STATUS).strip().casefold(), FAILED),
                parts,
            )
        elif line.startswith(_ERROR_LABEL):
            sources[-1][2].append(_unlabelled(line))
        elif line.startswith("- "):
            sources[-1][2].append(line.removeprefix("- "))
    return [
        ParsedObject(name=name, status=status, message=message_or_none(" ".join(parts)))
        for name, status, parts in sources
        if name
    ]


def _unlabelled(cell: str) -> str:
    return cell.removeprefix(_ERROR_LABEL).removeprefix(_ENTRIES_LABEL).strip()


PARSER = KopiaParser()
