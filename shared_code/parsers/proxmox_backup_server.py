"""Proxmox Backup Server job notifications: sync, verify, prune, garbage collection, tape backup.

Every job mail has a subject naming the job kind and datastore and ending in
``successful`` / ``failed``, labelled lines ("Job ID", "Datastore", ...) and one
closing sentence that states the result: "Synchronization successful." /
"Synchronization failed: <error>", "Verification failed on these snapshots/groups:"
followed by the list, likewise "Pruning", "Garbage collection", "Tape Backup". The
HTML part is the same text in ``<pre>``. The local datastore is the one object; the
job is its "Job ID", or the datastore when there is none (garbage collection, a tape
backup started by hand). Package, tape-load, certificate and test mails are no runs.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from shared_code.parsers.base import ParsedObject, ParseResult, SubjectParser, message_or_none
from shared_code.parsers.vocabulary import FAILED, SUCCESS, Status

if TYPE_CHECKING:
    from shared_code.parsers.html_text import TextDocument
    from shared_code.parsers.mime import DecodedMail

_NAME = r"'[^'\n]{1,200}'"
_SUBJECT = re.compile(
    rf"^(?:Sync remote {_NAME} datastore|Sync local datastore|Verify Datastore|Pruning datastore"
    rf"|Garbage Collect Datastore|Tape Backup (?:{_NAME} )?datastore) {_NAME} (?P<result>successful|failed)$"
)
# The closing sentence's subject -> the job kind.
_KINDS = {
    "synchronization": "Sync Job",
    "verification": "Verify Job",
    "pruning": "Prune Job",
    "garbage collection": "Garbage Collection",
    "tape backup": "Tape Backup Job",
}
_SENTENCE = re.compile(
    r"^(?P<kind>Synchronization|Verification|Pruning|Garbage collection|Tape Backup) "
    r"(?:(?P<success>successful\.)|failed(?: on these snapshots/groups)?:\s?(?P<error>.*))$"
)
_CLOSING = "please visit the web interface"


class ProxmoxBackupServerParser(SubjectParser):
    subject = _SUBJECT

    def parse_subject(self, mail: DecodedMail, subject: re.Match[str]) -> ParseResult | None:
        document = mail.document
        found = _closing_sentence(document)
        datastore = document.field("datastore")
        if found is None or not datastore:
            return None
        index, sentence = found
        status: Status = SUCCESS if sentence.group("success") else FAILED
        message = None if status == SUCCESS else _error(document, index, sentence)
        return ParseResult(
            software="Proxmox",
            backup_type=_KINDS[sentence.group("kind").casefold()],
            job_name=document.field("job id") or datastore,
            status=status,
            objects=[ParsedObject(name=datastore, status=status, message=message_or_none(message))],
        )


def _closing_sentence(document: TextDocument) -> tuple[int, re.Match[str]] | None:
    for index, line in enumerate(document.lines):
        match = _SENTENCE.match(line)
        if match is not None:
            return index, match
    return None


def _error(document: TextDocument, index: int, sentence: re.Match[str]) -> str:
    """The error after "failed:" with its continuation lines, or the failed snapshots and groups."""
    parts = [sentence.group("error")]
    for line in document.lines[index + 1 :]:
        if line.casefold().startswith(_CLOSING):
            break
        parts.append(line)
    return " ".join(part for part in parts if part)


PARSER = ProxmoxBackupServerParser()
