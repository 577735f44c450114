"""Synology task reports: Active Backup for Business and Hyper Backup (English, Dutch, German).

Both open with one sentence that states the result: "Backup task <task> on <NAS>
completed." / "Back-uptaak <task> op <NAS> voltooid." / "... auf <NAS> ...", followed
by labelled fields. The task's name comes from its field ("Task", "Taaknaam",
"Aufgabenname", ...); the sentence gives the NAS and the result.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from shared_code.parsers.base import ParsedObject, ParseResult, message_or_none, run_status
from shared_code.parsers.tables import object_table
from shared_code.parsers.vocabulary import Status, status_in_text

if TYPE_CHECKING:
    from shared_code.parsers.html_text import TextDocument
    from shared_code.parsers.mime import DecodedMail

_TASK_LABELS = ("task", "task name", "taak", "taaknaam", "aufgabe", "aufgabenname", "sicherungsaufgabe")
_DEVICE_LABELS = ("device", "device name", "apparaat", "apparaatnaam", "gerät", "gerätename", "computer")
_MESSAGE_LABELS = (
    "error",
    "warning",
    "error message",
    "fout",
    "waarschuwing",
    "foutmelding",
    "fehler",
    "warnung",
    "fehlermeldung",
)
# "... task <task> on <NAS> ..." in the subject, the last fallback for the task's name.
_SUBJECT_TASK = re.compile(
    r"(?:backup task|back-uptaak|backuptaak|sicherungsaufgabe|backup-aufgabe)\s+(?P<task>\S.{0,200}?)\s+(?:on|op|auf)\s+\S",
    re.IGNORECASE,
)
_HOST_AFTER = re.compile(r"(?<!\S)(?:on|op|auf)\s+\[?([A-Za-z0-9][A-Za-z0-9._-]{0,62})", re.IGNORECASE)
# Words that follow "on" / "op" / "auf" in a sentence but are no NAS name
# (German "Update auf DSM 7.2" means "update to DSM 7.2").
_NOT_HOSTS = frozenset(
    {"the", "a", "an", "your", "this", "de", "het", "een", "uw", "je", "dsm"}
    | {"dem", "der", "den", "die", "das", "ihrem", "ihrer", "ihr", "einem", "einer"}
)
_PRODUCTS = ("active backup for business", "hyper backup")
_SUBJECT_TAG = re.compile(r"^\s*\[([^\]\s]{1,63})\]")
_MAX_SENTENCE = 500


def hosts_after_preposition(text: str) -> Iterator[tuple[str, int]]:
    """Each NAS named as "... on NAS01 ..." / "op NAS01" / "auf NAS01", with where its name ends."""
    for match in _HOST_AFTER.finditer(text[:_MAX_SENTENCE]):
        host = match.group(1).rstrip("._-")
        if host.casefold() not in _NOT_HOSTS and any(char.isalpha() for char in host):
            yield host, match.end()


def host_hints(mail: DecodedMail) -> list[str]:
    """Where else a Synology mail names its NAS, most telling first: "on NAS01" in the subject,
    the subject's "[NAS01]" tag, the "Synology NAS01" signature, the sender's name."""
    hints: list[str] = []
    named = next(hosts_after_preposition(mail.subject), None)
    if named is not None:
        hints.append(named[0])
    tag = _SUBJECT_TAG.match(mail.subject)
    if tag is not None:
        hints.append(tag.group(1))
    for line in reversed(mail.document.lines[-5:]):
        signer, _, host = line.partition(" ")
        if signer == "Synology" and host and " " not in host:
            hints.append(host)
            break
    if mail.from_name.strip():
        hints.append(mail.from_name.strip())
    return hints


class SynologyTaskParser:
    """One Synology task report; ``per_device``: Active Backup's device or VM table, else the NAS."""

    def __init__(self, product: str, backup_type: str, per_device: bool) -> None:
        self._product = product.casefold()
        self._backup_type = backup_type
        self._per_device = per_device

    def claims(self, mail: DecodedMail) -> bool:
        # The subject names the product; the body may name the other one too (Hyper Backup
        # backs up the Active Backup package), so the body decides only when the subject is silent.
        subject = mail.subject.casefold()
        if any(product in subject for product in _PRODUCTS):
            return self._product in subject
        return self._product in mail.document.folded

    def parse(self, mail: DecodedMail) -> ParseResult | None:
        document = mail.document
        task = document.field(*_TASK_LABELS) or _subject_task(mail.subject)
        if task is None:
            return None  # a product notice that is no task report (licence, storage, ...)
        host, stated = _result_sentence(document, task)
        # One source (the device of a PC / server task, the NAS of Hyper Backup), else the VM table.
        if self._per_device:
            source = document.field(*_DEVICE_LABELS)
        else:
            source = host or next(iter(host_hints(mail)), None)
        table = object_table(document.rows) if self._per_device and source is None else []
        status = run_status(stated, table, mail.subject)
        objects = table
        if source is not None:
            message = message_or_none(document.field(*_MESSAGE_LABELS))
            objects = [ParsedObject(name=source, status=status, message=message)]
        return ParseResult(
            software="Synology",
            backup_type=self._backup_type,
            job_name=task,
            status=status,
            objects=objects,
            status_stated=stated is not None,
        )


def _subject_task(subject: str) -> str | None:
    match = _SUBJECT_TASK.search(subject)
    return match.group("task") if match else None


def _result_sentence(document: TextDocument, task: str) -> tuple[str | None, Status | None]:
    """The NAS and the result of the opening sentence "<task> on <NAS> <result>"."""
    for line in document.lines:
        if len(line) > _MAX_SENTENCE or task not in line:
            continue
        tail = line[line.index(task) + len(task) :]
        named = next(hosts_after_preposition(tail), None)
        if named is not None:
            host, end = named
            return host, status_in_text(tail[end:])
    return None, None


ACTIVE_BACKUP = SynologyTaskParser("Active Backup for Business", "Active Backup", per_device=True)
HYPER_BACKUP = SynologyTaskParser("Hyper Backup", "Hyper Backup", per_device=False)
