"""The one list of parsers: their order, their documentation, and the parse pipeline.

The documentation is plain data here, so ``parser_docs()`` (served by the HTTP app)
costs no HTML library; parser modules are imported on the first ``parse_mail``.
Order matters: the first parser that claims a mail and returns a result wins.
Extend by adding an entry, never by replacing one.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

from shared_code.parsers.base import Parser, ParserDoc, ParseResult

if TYPE_CHECKING:
    from shared_code.parsers.mime import DecodedMail

_MAX_ERROR = 500
TOO_LONG = "parse took too long"
NOT_RECOGNISED = "no parser recognised it"
NOT_A_REPORT = "not a backup report"


@dataclass(frozen=True)
class _Entry:
    doc: ParserDoc
    target: str  # "module:attribute" of the parser object, imported on first use


_ENTRIES: tuple[_Entry, ...] = (
    # Recognised by the subject alone, so tried first: the test costs nothing, and their long mails
    # (vzdump logs, Duplicati log data) are spared every other parser's reading of the body.
    _Entry(
        ParserDoc(
            name="proxmox_ve",
            products=[
                "Proxmox VE backup (vzdump: backup jobs and manual backups; legacy layout up to PVE 8.0, "
                "notification system since 8.1)"
            ],
            sample_subject="vzdump backup status (pve01.example.com): backup successful",
            description="Run on one node: the node in the subject is the job, one object per guest row "
            "(ok / err, legacy OK / FAILED), the error from the guest's 'Backup of VM <vmid> failed' log "
            "line; a job-level error in the subject or above the table fails the run. Package, "
            "replication, fencing and test notifications are no runs.",
        ),
        "shared_code.parsers.proxmox_ve:PARSER",
    ),
    _Entry(
        ParserDoc(
            name="proxmox_backup_server",
            products=[
                "Proxmox Backup Server sync, verify, prune, garbage collection and tape backup jobs "
                "(built-in mails up to PBS 3.1, templates since 3.2)"
            ],
            sample_subject="Verify Datastore 'store01' failed",
            description="Job mail: the closing sentence ('Synchronization successful.', 'Verification "
            "failed on these snapshots/groups:', ...) states the result; job 'Job ID', else the "
            "datastore; the local 'Datastore' is the one object. Package, tape-load, certificate and "
            "test notifications are no runs.",
        ),
        "shared_code.parsers.proxmox_backup_server:PARSER",
    ),
    _Entry(
        ParserDoc(
            name="duplicati",
            products=["Duplicati 2.0 to 2.2 backup reports (send-mail module, default subject and body)"],
            sample_subject="Duplicati Backup report for Office Documents",
            description="Report body: 'ParsedResult' states the result (a report opening with 'Failed:' "
            "and no ParsedResult failed); job and one object = the backup name from the subject; "
            "message = the LimitedWarnings / LimitedErrors entries or the 'Failed:' text.",
        ),
        "shared_code.parsers.duplicati:PARSER",
    ),
    _Entry(
        ParserDoc(
            name="kopia",
            products=["Kopia snapshot reports and error notifications (0.18 to 0.21, HTML)"],
            sample_subject="Successfully created a snapshot of /srv/data on srv01",
            description="Snapshot report: one object per source row with its status code (success / ok, "
            "warnings / error, incomplete, fatal), the run is the worst source; the host at the end of "
            "the subject is the job. An error notification ('… error during Maintenance on <host>') is a "
            "failed run with the 'Message:' paragraph as its message.",
        ),
        "shared_code.parsers.kopia:PARSER",
    ),
    _Entry(
        ParserDoc(
            name="urbackup",
            products=["UrBackup Server file and image backup reports"],
            sample_subject='UrBackup: Incremental file backup of "PC-ACC01" - success',
            description="Report: the subject says success or failed, the counter line's warnings and "
            "errors make a success a warning; the client is the job and the one object, its "
            "'(warning)' / '(error)' log lines the message.",
        ),
        "shared_code.parsers.urbackup:PARSER",
    ),
    _Entry(
        ParserDoc(
            name="bareos_bacula",
            products=["Bareos job reports (Director)", "Bacula community job reports (Director)"],
            sample_subject="Bareos: Backup OK of srv01-fd Incremental",
            description="Job report: the 'Termination:' line states the result and the job type (the "
            "subject is the site's template, a last fallback); job 'Job:' without its run suffix, the "
            "'Client:' is the one object, the log's error, warning and not-saved lines its message.",
        ),
        "shared_code.parsers.bareos_bacula:PARSER",
    ),
    _Entry(
        ParserDoc(
            name="veeam",
            products=[
                "Veeam Backup & Replication (backup, backup copy, replication, configuration backup, agent jobs)",
                "Veeam Agent for Microsoft Windows",
                "Veeam Agent for Linux",
                "Veeam Backup for Microsoft 365",
            ],
            sample_subject="[Success] Daily VM Backup (3 VMs)",
            description="Job report: title '<Kind> job: <name>' with its result, and one object per row "
            "of the Details table (VMs, computers, mailboxes, sites).",
        ),
        "shared_code.parsers.veeam:PARSER",
    ),
    _Entry(
        ParserDoc(
            name="nakivo",
            products=["NAKIVO Backup & Replication (backup, replication, backup copy jobs)"],
            sample_subject='NAKIVO Backup & Replication: job "VMware Daily" completed successfully',
            description="Job report: 'Job name', 'Job type', 'Job status' and one object per row of the Objects table.",
        ),
        "shared_code.parsers.nakivo:PARSER",
    ),
    _Entry(
        ParserDoc(
            name="acronis",
            products=["Acronis Cyber Protect"],
            sample_subject='Backup succeeded: "Servers - Daily" on SRV01',
            description="Plan run on one device: 'Plan name', 'Device', 'Status' and 'Details' (EN, NL, DE labels).",
        ),
        "shared_code.parsers.acronis:PARSER",
    ),
    _Entry(
        ParserDoc(
            name="qnap_hybrid_backup_sync",
            products=["QNAP Hybrid Backup Sync 3"],
            sample_subject='NAS01: [Hybrid Backup Sync] Backup job "Daily-Offsite" completed.',
            description="Notification Center mail: the severity states the result; the NAS is the one object, "
            "'Reason' its message.",
        ),
        "shared_code.parsers.qnap:BACKUP",
    ),
    _Entry(
        ParserDoc(
            name="qnap_firmware",
            products=["QNAP firmware notices (QTS / QuTS hero)"],
            sample_subject="NAS01: [Firmware Update] A new firmware version is available.",
            informational=True,
            description="Informational firmware notice; job 'QNAP Firmware Update', backup type 'Updates'.",
        ),
        "shared_code.parsers.qnap:FIRMWARE",
    ),
    _Entry(
        ParserDoc(
            name="synology_active_backup",
            products=["Synology Active Backup for Business (PC, physical server and VM tasks)"],
            sample_subject="[NAS01] Active Backup for Business - Backup task PC-Office on NAS01 completed",
            description="Task report (EN, NL, DE): the opening sentence states the result; the device, "
            "or one object per VM of a VM task.",
        ),
        "shared_code.parsers.synology:ACTIVE_BACKUP",
    ),
    _Entry(
        ParserDoc(
            name="synology_hyper_backup",
            products=["Synology Hyper Backup"],
            sample_subject="[NAS01] Hyper Backup - Backup task Offsite on NAS01 completed successfully",
            description="Task report (EN, NL, DE): the opening sentence states the result; the NAS is the one "
            "object, the 'Error' / 'Warning' field its message.",
        ),
        "shared_code.parsers.synology:HYPER_BACKUP",
    ),
    _Entry(
        ParserDoc(
            name="synology_notices",
            products=[
                "Synology DSM update and package notices",
                "Synology drive firmware notices",
                "Synology Account Protection notices",
            ],
            sample_subject="[NAS01] The automatic DSM update on NAS01 has been cancelled",
            informational=True,
            description="Informational notices (EN, NL, DE): 'Synology Automatic Update', 'Synology Firmware "
            "Update' (backup type 'Updates') and 'Synology Account Protection'.",
        ),
        "shared_code.parsers.synology_notices:PARSER",
    ),
)


class ParseOutcome(BaseModel):
    """What became of one mail: ``parsed`` (with a result), ``unparsed`` or ``error`` (with the reason)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["parsed", "unparsed", "error"]
    parser_name: str | None = None
    result: ParseResult | None = None
    error: str | None = None
    reason: str | None = None  # why an unparsed mail is not a report, for the Inbox

    def corpus_result(self) -> dict[str, object]:
        """The corpus's expected-result format: the result, or ``{"parsed": false}``."""
        if self.result is None:
            return {"parsed": False}
        return self.result.model_dump(mode="json")


def parser_docs() -> list[ParserDoc]:
    """Every parser, in the order they are tried."""
    return [entry.doc for entry in _ENTRIES]


def parse_mail(mail: bytes | DecodedMail, budget_seconds: float | None = None) -> ParseOutcome:
    """Decode (if needed) and parse one mail. Never raises: a failing parser gives an ``error`` outcome,
    and a parse that uses more than ``budget_seconds`` of CPU stops with an ``unparsed`` one."""
    from shared_code.parsers.budget import ParseTooLong, cpu_budget

    with cpu_budget(budget_seconds):
        try:
            return _parse(mail)
        except ParseTooLong:
            return ParseOutcome(kind="unparsed", reason=f"{TOO_LONG} (over {budget_seconds:g} s of CPU)")


def _parse(mail: bytes | DecodedMail) -> ParseOutcome:
    from shared_code.parsers.budget import spend
    from shared_code.parsers.mime import MAX_MIME_PARTS, DecodedMail, decode_mail
    from shared_code.parsers.noise import noise_reason
    from shared_code.parsers.sizes import stated_size

    try:
        decoded = mail if isinstance(mail, DecodedMail) else decode_mail(mail)
        noise = noise_reason(decoded)
        if noise is not None:
            return ParseOutcome(kind="unparsed", reason=f"{NOT_A_REPORT}: {noise}")
    except Exception as exc:  # decoding is meant never to fail; if it does, say so instead of crashing
        return ParseOutcome(kind="error", error=_reason(exc))
    for entry in _ENTRIES:
        spend()
        try:
            parser = _parser(entry.target)
            result = parser.parse(decoded) if parser.claims(decoded) else None
        except Exception as exc:  # a parser bug or an unexpected variant must not stop the pipeline
            return ParseOutcome(kind="error", parser_name=entry.doc.name, error=_reason(exc))
        if result is not None:
            size = stated_size(entry.doc.name, decoded.document)
            return ParseOutcome(
                kind="parsed",
                parser_name=entry.doc.name,
                result=result.model_copy(update={"size_bytes": size}),
            )
    seen = f"from {decoded.from_address or 'no sender'!r}, subject {decoded.subject[:120]!r}"
    if decoded.unread_parts:
        seen += f"; {decoded.unread_parts} MIME parts after the first {MAX_MIME_PARTS} not read"
    return ParseOutcome(kind="unparsed", reason=f"{NOT_RECOGNISED} ({seen})")


def recognised_by_none(outcome: ParseOutcome) -> bool:
    """No built-in parser took the mail and it is no noise: an operator's parsing rule may read it."""
    return outcome.kind == "unparsed" and (outcome.reason or "").startswith(NOT_RECOGNISED)


@cache
def _parser(target: str) -> Parser:
    module_name, _, attribute = target.partition(":")
    parser: Parser = getattr(importlib.import_module(module_name), attribute)  # what _ENTRIES names
    return parser


def _reason(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:_MAX_ERROR]
