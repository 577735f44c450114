"""Acronis Cyber Protect backup notifications (one plan run on one device).

The mail opens with the outcome ("Backup failed" / "Backup succeeded with warnings")
and lists labelled fields: "Device" / "Gerät", "Plan name" / "Plan-Name", "Status",
and for problems "Details".
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from shared_code.parsers.base import ParsedObject, ParseResult, message_or_none, required, run_status
from shared_code.parsers.vocabulary import status_in_text, status_of_word

if TYPE_CHECKING:
    from shared_code.parsers.mime import DecodedMail

_PLAN = ("plan name", "plan-name", "planname", "plannaam", "backup plan", "protection plan", "schutzplan")
_DEVICE = ("device", "device name", "gerät", "gerätename", "apparaat", "apparaatnaam", "machine", "computer")
_STATUS = ("status", "backup status", "backup-status")
_DETAILS = (
    "details",
    "einzelheiten",
    "error",
    "error message",
    "fehler",
    "fehlermeldung",
    "fout",
    "foutmelding",
)
_MARKERS = ("cyber protect", "acronis")
# 'Backup failed: "<plan>" on <device>' - the device at the end of the subject, the last fallback.
_SUBJECT_DEVICE = re.compile(r"\s(?:on|auf|op)\s+(\S{1,100})\s*$", re.IGNORECASE)


class AcronisParser:
    def claims(self, mail: DecodedMail) -> bool:
        return mail.document.field(*_PLAN) is not None and _is_acronis(mail)

    def parse(self, mail: DecodedMail) -> ParseResult:
        document = mail.document
        plan = required(document.field(*_PLAN), "plan name")
        headline = document.lines[0] if document.lines else ""
        stated = status_of_word(document.field(*_STATUS)) or status_in_text(headline)
        status = run_status(stated, [], mail.subject)
        device = document.field(*_DEVICE) or _subject_device(mail.subject)
        objects = []
        if device:
            objects.append(
                ParsedObject(name=device, status=status, message=message_or_none(document.field(*_DETAILS)))
            )
        return ParseResult(
            software="Acronis",
            backup_type="Backup",
            job_name=plan,
            status=status,
            objects=objects,
            status_stated=stated is not None,
        )


def _is_acronis(mail: DecodedMail) -> bool:
    sender_and_subject = f"{mail.from_name}\n{mail.subject}".casefold()
    return any(marker in sender_and_subject or marker in mail.document.folded for marker in _MARKERS)


def _subject_device(subject: str) -> str | None:
    match = _SUBJECT_DEVICE.search(subject)
    return match.group(1) if match else None


PARSER = AcronisParser()
