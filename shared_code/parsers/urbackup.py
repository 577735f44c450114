"""UrBackup Server backup reports (``report.lua`` since 2.2, the built-in report before).

The subject ``UrBackup: <Incremental|Full|Resumed …> <file|image> backup of "<client>" - <success|
failed>`` is folded before `` - `` and is the only place that states success or failure, without a
warning state. The body opens with ``UrBackup just did … backup of "<client>".``, then ``Report:``
and the counter line ``( <n> infos, <n> warnings, <n> errors)``, which turns a ``success`` into a
warning when it counts a warning or an error. The log's ``(warning)`` and ``(error)`` lines are the
client's message; ``(info)`` lines are job-level text.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from shared_code.parsers.base import ParsedObject, ParseResult, SubjectParser, first_quoted, message_or_none
from shared_code.parsers.vocabulary import FAILED, SUCCESS, WARNING, Status

if TYPE_CHECKING:
    from shared_code.parsers.mime import DecodedMail

_SUBJECT = re.compile(
    r"^UrBackup: (?:Incremental|Full|Resumed incremental|Resumed full) (?P<kind>file|image) backup of "
    r"\"[^\"]{1,255}\"\s{0,4}- (?P<result>success|failed)$"
)
_OPENING = re.compile(r"^UrBackup just did an? .{1,60} backup of \"[^\"]{1,255}\"\.$")
_COUNTERS = re.compile(
    r"^\( ?\d{1,9} infos?, (?P<warnings>\d{1,9}) warnings?, (?P<errors>\d{1,9}) errors? ?\)$"
)
_PROBLEM = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\((?:warning|error)\): (?P<text>.*)$")
_KINDS = {"file": "File Backup", "image": "Image Backup"}


class UrBackupParser(SubjectParser):
    subject = _SUBJECT

    def parse_subject(self, mail: DecodedMail, subject: re.Match[str]) -> ParseResult | None:
        lines = mail.document.lines
        opening = next((line for line in lines[:3] if _OPENING.match(line)), None)
        client = first_quoted(opening)
        if client is None:
            return None
        counters = next((match for match in map(_COUNTERS.match, lines) if match), None)
        status = _status(subject.group("result"), counters)
        problems = [match.group("text") for match in map(_PROBLEM.match, lines) if match]
        return ParseResult(
            software="UrBackup",
            backup_type=_KINDS[subject.group("kind")],
            job_name=client,
            status=status,
            objects=[ParsedObject(name=client, status=status, message=message_or_none(" ".join(problems)))],
        )


def _status(result: str, counters: re.Match[str] | None) -> Status:
    """Failed as the subject says; a success that counted warnings or errors is a warning."""
    if result == "failed":
        return FAILED
    if counters is not None and (int(counters.group("warnings")) or int(counters.group("errors"))):
        return WARNING
    return SUCCESS


PARSER = UrBackupParser()
