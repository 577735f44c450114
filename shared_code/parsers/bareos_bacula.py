"""Bareos and Bacula job reports, mailed by the Director after every job.

The body is the job's log, ``<date> <time> <daemon> JobId <n>: <text>`` entries (a message can
continue on the next lines), then the report: a first line ``… JobId <n>: [Error: ]<Bareos|Bacula>
<director> <version> (<date>):`` (Admin and Consolidate jobs: ``BAREOS <version> (<date>): <time>``)
and a block of ``  Label:   value`` lines ending in ``Termination:``. The termination states the
result and names the job type (``Backup OK -- with warnings``, ``*** Backup Error ***``,
``Copying OK``); the subject is the site's ``mailcommand`` template and only a last fallback. The
job is ``Job:`` (copies and migrations: ``Current Job:``) without the run's date suffix; the client
in ``Client:`` is the one object, its message the log's problem entries.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from shared_code.parsers.base import (
    ParsedObject,
    ParseError,
    ParseResult,
    first_quoted,
    message_or_none,
    required,
)
from shared_code.parsers.vocabulary import FAILED, SUCCESS, WARNING, Status

if TYPE_CHECKING:
    from shared_code.parsers.mime import DecodedMail

_ENTRY = re.compile(r"^\d{1,2}-[A-Za-z]{3}(?:-\d{4})? \d\d:\d\d \S{1,128} JobId \d{1,12}: (?P<text>.*)$")
_REPORT_START = re.compile(
    r"^(?:Error: )?(?P<product>Bareos|Bacula) \S{1,128} \S{1,40} \([^)]{1,20}\):\s*$"
    r"|^(?P<short>BAREOS|Bacula) \S{1,40} \([^)]{1,20}\): .{0,60}$"
)
# One per line of the report's text; findall hands back (label, value) pairs without a Python step per line.
_REPORT_LINE = re.compile(r"^ {2}([A-Za-z][A-Za-z0-9 ()/\-.]{0,60}):[ \t]*(.*)$", re.MULTILINE)
_PROBLEM_LABELS = ("Fatal error: ", "Error: ", "Warning: ")
_NOT_SAVED = re.compile(r"^\s+(?:Could not|Cannot open)")
_RUN_SUFFIX = re.compile(r"\.\d{4}-\d\d-\d\d_\d\d\.\d\d\.\d\d_\d{1,4}$")
# The Termination's first word -> the job type as the products name it in their configuration.
_TYPES = {
    "backup": "Backup",
    "restore": "Restore",
    "verify": "Verify",
    "copying": "Copy",
    "copy": "Copy",
    "migration": "Migrate",
    "migrate": "Migrate",
    "consolidate": "Consolidate",
    "admin": "Admin",
}
# The default subject "<Product>: %t %e of %c %l": the exit word, the last fallback for the status.
_SUBJECT = re.compile(
    r"^(?:Bareos|Bacula): (?P<type>\S{1,20}) (?P<exit>OK -- with warnings|OK|Differences|Fatal Error|Error"
    r"|Canceled|Incomplete)\b"
)
_SUBJECT_STATUS: dict[str, Status] = {
    "OK": SUCCESS,
    "OK -- with warnings": WARNING,
    "Differences": WARNING,
}


class BareosBaculaParser:
    def claims(self, mail: DecodedMail) -> bool:
        body = mail.text_body or ""
        return "\n  Termination:" in body and " JobId " in body

    def parse(self, mail: DecodedMail) -> ParseResult | None:
        lines = (mail.text_body or "").splitlines()
        found = _report_start(lines)
        if found is None:
            return None
        start, product = found
        report = _report_fields(lines[start + 1 :])
        termination = report.get("termination")
        subject = _SUBJECT.match(mail.subject)
        if termination:
            job_type, status = _termination(termination)
        elif subject is not None:
            job_type, status = None, _SUBJECT_STATUS.get(subject.group("exit"), FAILED)
        else:
            raise ParseError("no Termination line and no exit word in the subject")
        job_type = job_type or _TYPES.get((subject.group("type") if subject else "").casefold())
        job = required(report.get("current job") or report.get("job"), "Job")
        client = first_quoted(report.get("client"))
        objects = []
        if client:
            message = message_or_none(" ".join(_problem_entries(lines[:start])))
            objects.append(ParsedObject(name=client, status=status, message=message))
        return ParseResult(
            software=product,
            backup_type=required(job_type, "job type"),
            job_name=_RUN_SUFFIX.sub("", job),
            status=status,
            objects=objects,
            status_stated=bool(termination),  # else the exit word of a site-configured subject
        )


def _report_start(lines: list[str]) -> tuple[int, str] | None:
    """The index of the report's first line and the product it names (the last such line wins)."""
    for index in range(len(lines) - 1, -1, -1):
        if "Ba" not in lines[index] and "BA" not in lines[index]:
            continue  # names no product (Bareos, Bacula, BAREOS): most lines, skipped without a regex
        entry = _ENTRY.match(lines[index])
        match = _REPORT_START.match(entry.group("text") if entry else lines[index])
        if match is not None:
            return index, (match.group("product") or match.group("short")).capitalize()
    return None


def _report_fields(lines: list[str]) -> dict[str, str]:
    pairs = _REPORT_LINE.findall("\n".join(lines))
    return {label.strip().casefold(): value.strip() for label, value in reversed(pairs)}  # the first one wins


def _termination(value: str) -> tuple[str | None, Status]:
    """The job type and status the Termination line states."""
    words = value.strip("* ").split(" ", 1)
    job_type = _TYPES.get(words[0].casefold())
    rest = words[1].strip() if len(words) > 1 else ""
    if value.startswith("***") or job_type is None:
        return job_type, FAILED  # "*** Backup Error ***", "Inappropriate … term code …"
    if rest == "OK" or rest.startswith("-- no files"):
        return job_type, SUCCESS
    if rest.startswith("OK") or rest.casefold() in ("warnings", "differences"):
        return job_type, WARNING
    return job_type, FAILED  # Canceled, failed -- incomplete, Incomplete


def _problem_entries(log: list[str]) -> list[str]:
    """The log's error, warning and not-saved-file entries, each with its continuation lines."""
    entries: list[list[str]] = []
    keep = False
    for line in log:
        entry = _ENTRY.match(line)
        if entry is None:
            if keep:
                entries[-1].append(line)
            continue
        text = entry.group("text")
        keep = text.startswith(_PROBLEM_LABELS) or _NOT_SAVED.match(text) is not None
        if keep:
            entries.append([text])
    return [" ".join(" ".join(parts).split()) for parts in entries]


PARSER = BareosBaculaParser()
