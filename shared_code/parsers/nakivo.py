"""NAKIVO Backup & Replication job reports: backup, replication and backup copy jobs.

The report has labelled job fields ("Job name", "Job type", "Job status") and an
"Objects" table with an "Errors and warnings" column. A job-level banner is never
an object.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared_code.parsers.base import ParseResult, first_quoted, required, run_status
from shared_code.parsers.tables import object_table
from shared_code.parsers.vocabulary import status_of_word

if TYPE_CHECKING:
    from shared_code.parsers.mime import DecodedMail

_JOB_NAME = ("job name", "jobname", "job", "taaknaam", "jobnaam", "auftragsname")
_JOB_TYPE = ("job type", "jobtype", "type", "taaktype", "auftragstyp")
_JOB_STATUS = ("job status", "jobstatus", "status", "taakstatus", "auftragsstatus")


class NakivoParser:
    def claims(self, mail: DecodedMail) -> bool:
        return "nakivo" in mail.subject.casefold() or "nakivo backup" in mail.document.folded

    def parse(self, mail: DecodedMail) -> ParseResult:
        document = mail.document
        objects = object_table(document.rows)
        stated = status_of_word(document.field(*_JOB_STATUS))
        return ParseResult(
            software="NAKIVO",
            backup_type=_backup_type(document.field(*_JOB_TYPE) or ""),
            job_name=required(document.field(*_JOB_NAME) or first_quoted(mail.subject), "job name"),
            status=run_status(stated, objects, mail.subject),
            objects=objects,
            status_stated=stated is not None,
        )


def _backup_type(job_type: str) -> str:
    """Backup, replication or backup copy job, from the "Job type" ("Backup job for VMware vSphere")."""
    folded = job_type.casefold()
    if "copy" in folded or "kopie" in folded:
        return "Backup Copy Job"
    if "replica" in folded or "replikation" in folded:
        return "Replication Job"
    return "Backup Job"


PARSER = NakivoParser()
