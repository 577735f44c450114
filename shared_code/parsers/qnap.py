"""QNAP Notification Center mails: Hybrid Backup Sync 3 jobs and firmware notices.

Every Notification Center mail carries the same fields: "Severity level"
(Information / Warning / Error), "NAS name", "Application", "Message" (the event,
tagged "[Hybrid Backup Sync]" or "[Firmware Update]") and, for problems, "Reason".
Source and destination lines describe the job, never an object.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from shared_code.parsers.base import ParsedObject, ParseResult, first_quoted, message_or_none, run_status
from shared_code.parsers.vocabulary import Status, notice_status, status_in_text, status_of_word

if TYPE_CHECKING:
    from shared_code.parsers.mime import DecodedMail

_SEVERITY = ("severity level", "severity", "schweregrad", "ernstniveau", "niveau", "ernst")
_NAS_NAME = ("nas name", "nas-name", "nas naam", "nas-naam", "device name", "gerätename", "hostname")
_EVENT = ("message", "nachricht", "bericht", "meldung", "event", "ereignis", "gebeurtenis")
_REASON = ("reason", "grund", "ursache", "reden", "oorzaak")
# "NAS01: [Hybrid Backup Sync] ..." - the NAS that sent it, when the body has no field.
_SUBJECT_NAS = re.compile(r"^\s*([^\s:\[\]]{1,63}):\s*\[")
_HYBRID_BACKUP_SYNC = "hybrid backup sync"
_FIRMWARE_TAGS = (
    "[firmware update]",
    "[firmware-update]",
    "[firmware-aktualisierung]",
    "[firmware bijwerken]",
)
_QNAP_MARKERS = ("qnap", "notification center", "benachrichtigungscenter", "meldingencentrum", "qts", "quts")
_DETECT_WITHIN = 40


class QnapBackupParser:
    """Hybrid Backup Sync: one job, one NAS; the severity states the result."""

    def claims(self, mail: DecodedMail) -> bool:
        return _HYBRID_BACKUP_SYNC in mail.subject.casefold() or _HYBRID_BACKUP_SYNC in mail.document.folded

    def parse(self, mail: DecodedMail) -> ParseResult | None:
        document = mail.document
        event = document.field(*_EVENT) or mail.subject
        job_name = first_quoted(event) or first_quoted(mail.subject)
        if job_name is None:
            return None  # an HBS notice about the app itself, not about a job run
        _, named, outcome = event.partition(job_name)  # status words after the name, not in it
        if not named:
            outcome = event
        stated = status_of_word(document.field(*_SEVERITY)) or status_in_text(outcome)
        status = run_status(stated, [], mail.subject)
        return ParseResult(
            software="QNAP",
            backup_type="Hybrid Backup Sync",
            job_name=job_name,
            status=status,
            objects=_nas_object(mail, status, message_or_none(document.field(*_REASON))),
            status_stated=stated is not None,
        )


class QnapFirmwareParser:
    """Firmware notices: informational; the notice words state the result."""

    def claims(self, mail: DecodedMail) -> bool:
        text = "\n".join((mail.subject, *mail.document.lines[:_DETECT_WITHIN])).casefold()
        if any(tag in text for tag in _FIRMWARE_TAGS):
            return True
        return "firmware" in text and any(marker in text for marker in _QNAP_MARKERS)

    def parse(self, mail: DecodedMail) -> ParseResult | None:
        document = mail.document
        status = (
            notice_status(document.field(*_EVENT) or "")
            or status_of_word(document.field(*_SEVERITY))
            or notice_status(mail.subject)
        )
        if status is None:
            return None
        return ParseResult(
            software="QNAP",
            backup_type="Updates",
            job_name="QNAP Firmware Update",
            status=status,
            informational=True,
            objects=_nas_object(mail, status, None),
        )


def _nas_object(mail: DecodedMail, status: Status, message: str | None) -> list[ParsedObject]:
    tagged = _SUBJECT_NAS.match(mail.subject)
    name = mail.document.field(*_NAS_NAME) or (tagged.group(1) if tagged else None) or mail.from_name.strip()
    return [ParsedObject(name=name, status=status, message=message)] if name else []


BACKUP = QnapBackupParser()
FIRMWARE = QnapFirmwareParser()
