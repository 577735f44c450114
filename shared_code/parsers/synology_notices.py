"""Synology DSM notices that are not backup runs: updates and Account Protection (EN, NL, DE).

Informational: DSM update, package and drive-firmware notices (``Updates``) and
Account Protection notices (an address blocked after failed sign-ins). They never
take part in schedule learning, but operators still see them in Run Checks.
Other system notices (a degraded pool, a full volume) are left unparsed.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from shared_code.parsers.base import ParsedObject, ParseResult, required
from shared_code.parsers.synology import host_hints, hosts_after_preposition
from shared_code.parsers.vocabulary import WARNING, Status, notice_status

if TYPE_CHECKING:
    from shared_code.parsers.mime import DecodedMail

_ACCOUNT_PROTECTION = re.compile(
    r"account protection|accountbeveiliging|kontoschutz|"
    r"ip[ -]?(?:address|adres|adresse)\b.{0,200}?\b(?:blocked|geblokkeerd|gesperrt|blockiert)",
    re.IGNORECASE,
)
_DRIVE_FIRMWARE = re.compile(
    r"(?:drive|disk|schijf|laufwerks?|festplatten?)[ -]?firmware|"
    r"firmware\b.{0,120}?\b(?:drive|disk|schijf|laufwerk|festplatte)",
    re.IGNORECASE,
)
_UPDATE = re.compile(
    r"dsm[ -]update|dsm-aktualisierung|dsm version|new dsm|nieuwe dsm|neue dsm|"
    r"automatic update|automatische update|automatisches update|"
    r"packages? on|pakketten op|pakete auf|package center|pakketcentrum|paketzentrum|"
    r"out-of-date|verouderd|veraltet",
    re.IGNORECASE,
)
_SYNOLOGY = ("synology", "dsm")
# The notices are short; their first lines say all there is to detect.
_DETECT_WITHIN = 40

_UPDATES = "Updates"
_ACCOUNT = "Account Protection"


class SynologyNoticeParser:
    def claims(self, mail: DecodedMail) -> bool:
        text = _notice_text(mail)
        return any(marker in text for marker in _SYNOLOGY) and _notice_kind(text) is not None

    def parse(self, mail: DecodedMail) -> ParseResult | None:
        text = _notice_text(mail)
        kind = _notice_kind(text)
        if kind is None:
            return None
        backup_type, job_name = kind
        status = WARNING if backup_type == _ACCOUNT else _status(mail)
        if status is None:
            return None  # an update notice that states nothing we know how to read
        host = required(_named_host(mail), "NAS name")
        return ParseResult(
            software="Synology",
            backup_type=backup_type,
            job_name=job_name,
            status=status,
            informational=True,
            objects=[ParsedObject(name=host, status=status, message=None)],
        )


def _notice_text(mail: DecodedMail) -> str:
    lines = mail.document.lines[:_DETECT_WITHIN]
    return "\n".join((mail.subject, *lines)).casefold()


def _notice_kind(text: str) -> tuple[str, str] | None:
    if _ACCOUNT_PROTECTION.search(text):
        return _ACCOUNT, "Synology Account Protection"
    if _DRIVE_FIRMWARE.search(text):
        return _UPDATES, "Synology Firmware Update"
    if _UPDATE.search(text):
        return _UPDATES, "Synology Automatic Update"
    return None


def _status(mail: DecodedMail) -> Status | None:
    body = "\n".join(mail.document.lines[:_DETECT_WITHIN])
    return notice_status(body) or notice_status(mail.subject)


def _named_host(mail: DecodedMail) -> str | None:
    """The NAS the notice names ("on NAS01" / "op" / "auf"), checked against the subject and signature
    so that a phrase like "click on Control Panel" does not name a NAS."""
    named = [
        host for line in mail.document.lines[:_DETECT_WITHIN] for host, _ in hosts_after_preposition(line)
    ]
    hints = host_hints(mail)
    confirmed = next((host for host in named if host in hints), None)
    return confirmed or next(iter(named + hints), None)


PARSER = SynologyNoticeParser()
