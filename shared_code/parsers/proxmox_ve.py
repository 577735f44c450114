"""Proxmox VE vzdump backup runs (scheduled backup jobs and manual backups).

The subject is ``vzdump backup status (<node FQDN>): backup successful`` or
``backup failed[: <job error> | : multiple problems]`` (PVE <= 8.0 writes ``(<node>) :``).
The body lists one row per guest under "VMID | Name | Status | ..." (``ok`` / ``err``,
``OK`` / ``FAILED`` in the legacy HTML table, ``todo`` for guests an aborted job never
reached) and then the per-guest logs, where a failed guest has the line
``<vmid>: <date> <time> ERROR: Backup of VM <vmid> failed - <error>``. A job-level error
stands above the table. The mail names no job, so the node in the subject is the job.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from shared_code.parsers.base import ParsedObject, ParseResult, SubjectParser, message_or_none, run_status
from shared_code.parsers.tables import rows_below
from shared_code.parsers.vocabulary import FAILED, status_of_word

if TYPE_CHECKING:
    from shared_code.parsers.html_text import TextDocument
    from shared_code.parsers.mime import DecodedMail

_SUBJECT = re.compile(
    r"^vzdump backup status \((?P<node>[^()\s]{1,253})\)\s?: "
    r"backup (?:successful|failed(?:: (?P<error>.+))?)$"
)
_GUEST_ERROR_MARK = "ERROR: Backup of VM "
# "<vmid>: <date> <time> ERROR: Backup of VM <vmid> failed - <error>"; the date was
# "Jun 14" before PVE 5 and "2024-06-14" since: one to three words before the time.
_GUEST_ERROR = re.compile(
    r"^(?P<vmid>\d{1,10}): (?:\S{1,30} ){1,4}ERROR: Backup of VM (?P=vmid) failed - (?P<error>.+)$"
)
# A guest an aborted job never reached keeps its initial state "todo": not backed up.
_ROW_STATUS = {"todo": FAILED}
_TABLE_STARTS = frozenset({"details", "vmid"})
# Legacy HTML: a failed row merges Size and Filename into one cell holding the error.
_LEGACY_FAILED_CELLS = 5


class ProxmoxVeParser(SubjectParser):
    subject = _SUBJECT

    def parse_subject(self, mail: DecodedMail, subject: re.Match[str]) -> ParseResult | None:
        document = mail.document
        objects = _guests(document)
        job_failed = subject.group("error") is not None or _job_error_above_table(document)
        return ParseResult(
            software="Proxmox",
            backup_type="VE Backup",
            job_name=subject.group("node"),
            # The subject this parser requires always states the result: status_stated stays True.
            status=run_status(FAILED if job_failed else None, objects, mail.subject),
            objects=objects,
        )


def _guests(document: TextDocument) -> list[ParsedObject]:
    errors = _guest_errors(document)
    guests: list[ParsedObject] = []
    for row in rows_below(document.rows, "vmid", "name", "status"):
        if len(row) < 3 or not row[0].isdigit() or not row[1]:
            continue  # the legacy TOTAL row, or a row of another table
        status = _ROW_STATUS.get(row[2].casefold()) or status_of_word(row[2])
        if status is None:
            continue
        merged_cell = row[4] if len(row) == _LEGACY_FAILED_CELLS and status == FAILED else None
        message = errors.get(row[0], merged_cell) if status == FAILED else None
        guests.append(ParsedObject(name=row[1], status=status, message=message_or_none(message)))
    return guests


def _guest_errors(document: TextDocument) -> dict[str, str]:
    """VMID -> the error of its "Backup of VM <vmid> failed - <error>" log line (the first one)."""
    errors: dict[str, str] = {}
    for line in document.lines:
        if _GUEST_ERROR_MARK not in line:
            continue
        match = _GUEST_ERROR.match(line)
        if match is not None:
            errors.setdefault(match.group("vmid"), match.group("error"))
    return errors


def _job_error_above_table(document: TextDocument) -> bool:
    """A multi-line job error is printed above the "Details" heading (the legacy table's header)."""
    if not document.lines:
        return False
    return document.lines[0].split(" ", 1)[0].casefold() not in _TABLE_STARTS


PARSER = ProxmoxVeParser()
