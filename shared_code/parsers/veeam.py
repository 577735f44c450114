"""Veeam: Backup & Replication, Veeam Agent for Windows / Linux, Veeam Backup for Microsoft 365.

All three send one layout: a title "<Kind> job: <name>" with the run's result beside
it, a summary block, a "Details" table with one row per object, and a footer naming
the product and its version. The subject is a template the customer may change, so
it only serves as the last fallback for the status.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from shared_code.parsers.base import ParseResult, run_status
from shared_code.parsers.tables import object_table
from shared_code.parsers.vocabulary import Status, status_of_word

if TYPE_CHECKING:
    from shared_code.parsers.html_text import TextDocument
    from shared_code.parsers.mime import DecodedMail

_TITLE = re.compile(
    r"^(?P<kind>[A-Za-z][A-Za-z0-9 ]{0,40}?) (?:job|policy): (?P<name>\S.{0,400})$", re.IGNORECASE
)
_JOB_KINDS = re.compile(r"backup|replica|copy|tape", re.IGNORECASE)
_RETRY = re.compile(r"\s*\(Retry \d{1,4}\)$", re.IGNORECASE)
_PROCESSED = re.compile(r"\d{1,9} of \d{1,9} \S{1,40} processed", re.IGNORECASE)
# The title is at the top; in text mails the result follows within a few lines.
_TITLE_WITHIN = 50
_STATUS_WITHIN = 6
_MAX_STATUS_WORDS = 4

_M365, _AGENT, _SERVER = "m365", "agent", "server"
_FOOTERS = (
    ("veeam backup for microsoft 365", _M365),
    ("veeam backup for microsoft office 365", _M365),
    ("veeam agent for", _AGENT),
    ("veeam backup & replication", _SERVER),
    ("veeam backup and replication", _SERVER),
)
_SERVER_TYPES = {
    "backup": "Backup Job",
    "backup copy": "Backup Copy Job",
    "replication": "Replication Job",
    "configuration backup": "Configuration Backup",
}


class VeeamParser:
    def claims(self, mail: DecodedMail) -> bool:
        document = mail.document
        return _product(document) is not None and _title(document) is not None

    def parse(self, mail: DecodedMail) -> ParseResult | None:
        document = mail.document
        product = _product(document)
        title = _title(document)
        if product is None or title is None:
            return None
        index, match = title
        objects = object_table(document.rows)
        stated = _stated_status(document, index)
        return ParseResult(
            software="Veeam",
            backup_type=_backup_type(match.group("kind"), product),
            job_name=_RETRY.sub("", match.group("name")).strip(),
            status=run_status(stated, objects, mail.subject),
            objects=objects,
            status_stated=stated is not None,
        )


def _product(document: TextDocument) -> str | None:
    """Which Veeam product sent the mail, from its footer (or the agent's header line)."""
    if "veeam " not in document.folded:
        return None
    for line in reversed(document.lines):
        folded = line[:60].casefold()
        if folded.startswith("veeam "):
            for prefix, product in _FOOTERS:
                if folded.startswith(prefix):
                    return product
    return None


def _title(document: TextDocument) -> tuple[int, re.Match[str]] | None:
    for index, line in enumerate(document.lines[:_TITLE_WITHIN]):
        match = _TITLE.match(line)
        if match and _JOB_KINDS.search(match.group("kind")):
            return index, match
    return None


def _stated_status(document: TextDocument, title_index: int) -> Status | None:
    """The result Veeam prints beside the title (HTML) or on the line above "N of N ... processed" (text)."""
    title = document.lines[title_index]
    for row in document.rows:
        if len(row) >= 2 and row[0].startswith(title):
            processed = _PROCESSED.search(row[1])
            return status_of_word(row[1][: processed.start()] if processed else row[1])
    following = document.lines[title_index + 1 : title_index + 1 + _STATUS_WITHIN]
    for above, line in zip((title, *following), following, strict=False):
        if _PROCESSED.match(line):
            return status_of_word(above) if above.count(" ") < _MAX_STATUS_WORDS else None
    return None


def _backup_type(kind: str, product: str) -> str:
    key = " ".join(kind.casefold().split())
    if product == _M365:
        return "Microsoft 365 Backup Copy" if "copy" in key else "Microsoft 365 Backup"
    if product == _AGENT or "agent" in key.split():  # "Agent Backup", "Windows Agent Backup", ...
        return "Agent Backup"
    known = _SERVER_TYPES.get(key)
    if known is not None:
        return known
    displayed = " ".join(kind.split())
    return f"{displayed[:1].upper()}{displayed[1:]} Job"  # "SureBackup" -> "SureBackup Job"


PARSER = VeeamParser()
