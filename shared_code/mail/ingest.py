"""The one pipeline every mail goes through, whatever its source: decode, parse, store, book.

Idempotent without check-then-insert: the mail row is inserted with ON CONFLICT DO NOTHING on
its unique keys (Graph message id, Message-ID with the digest of what the mail says, content hash;
``store``), and only the
transaction whose insert created the row books it, in that same transaction. The same mail delivered any
number of times, concurrently too, gives one mail and at most one run; a second delivery waits on
the first one's row and then finds it (job_runs.mail_id is unique as a backstop).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from shared_code.config import get_settings
from shared_code.db.engine import unit_of_work
from shared_code.mail.booking import JobIdentity, job_to_book, unreadable_explained
from shared_code.mail.failures import failure_ref
from shared_code.mail.rule_parsing import apply_rules
from shared_code.mail.sources import RawMail
from shared_code.mail.store import store_mail
from shared_code.runs.creation import run_parameters
from shared_code.runs.overrides import ObjectResult

if TYPE_CHECKING:
    from shared_code.parsers.mime import DecodedMail
    from shared_code.parsers.registry import ParseOutcome


@dataclass(frozen=True)
class Ingested:
    """What became of one delivery: a new mail (parsed, unparsed or error; booked or in the Inbox),
    or a duplicate of a mail already stored."""

    mail_id: int | None
    parse_status: str | None = None
    run_id: int | None = None

    @property
    def duplicate(self) -> bool:
        return self.mail_id is None


DUPLICATE = Ingested(None)


def ingest(raw: RawMail) -> Ingested:
    """Store, parse and book one mail, in one transaction."""
    from shared_code.parsers.mime import decode_mail
    from shared_code.parsers.registry import parse_mail

    decoded = decode_mail(raw.mime)
    built_in = parse_mail(decoded, get_settings().parse_budget_seconds)
    with unit_of_work() as session:
        outcome = apply_rules(session, decoded, built_in)
        row, objects = _mail_row(raw, decoded, outcome), parsed_objects(outcome)
        if unreadable(outcome):
            row["parse_error"] = unreadable_explained(
                session, row["from_address"], row["subject"], row["parse_error"]
            )
        found = job_to_book(session, JobIdentity.of_row(row)) if outcome.result is not None else None
        run = None
        if found is not None:
            run = run_parameters(
                found.job,
                found.overrides,
                run_at=row["received_at"],
                status=row["parsed_status"],
                objects=objects,
            )
        stored = store_mail(session, row, raw.mime, objects, failure_ref(raw.ref), run)
        if stored is None:
            return DUPLICATE
        return Ingested(stored.mail_id, outcome.kind, stored.run_id)


def unreadable(outcome: ParseOutcome) -> bool:
    """No result, and not because the mail is a person's (a reply, a forward, an auto-reply)."""
    from shared_code.parsers.registry import NOT_A_REPORT

    return outcome.result is None and not (outcome.reason or "").startswith(NOT_A_REPORT)


def parse_fields(outcome: ParseOutcome) -> dict[str, Any]:
    """The mail columns that hold a parse outcome (also written by a re-parse)."""
    result = outcome.result
    return {
        "parse_status": outcome.kind,
        "parser_name": outcome.parser_name,
        "parse_error": clean(outcome.error or outcome.reason),
        "backup_software": clean(result.software) if result else None,
        "backup_type": clean(result.backup_type) if result else None,
        "job_name": clean(result.job_name) if result else None,
        "parsed_status": result.status if result else None,
        "status_stated": result.status_stated if result else None,
        "informational": result.informational if result else False,
        "parsed_size_bytes": result.size_bytes if result else None,
    }


def parsed_objects(outcome: ParseOutcome) -> list[ObjectResult]:
    """The outcome's objects, in report order, as stored."""
    items = outcome.result.objects if outcome.result else []
    return [ObjectResult(clean(item.name) or "", item.status, clean(item.message)) for item in items]


def clean(text: str | None) -> str | None:
    """PostgreSQL text cannot hold NUL characters; mail sometimes does."""
    return text.replace("\x00", "") if text else text


def _mail_row(raw: RawMail, decoded: DecodedMail, outcome: ParseOutcome) -> dict[str, Any]:
    """The mail_messages row of a new mail, in the Inbox until it is booked."""
    said = {
        "from_address": clean(decoded.from_address),
        "subject": clean(decoded.subject),
        "text_body": clean(decoded.text_body),
        "html_body": clean(decoded.html_body),
    }
    return {
        "source": raw.source,
        "graph_message_id": raw.graph_message_id,
        "internet_message_id": clean(decoded.internet_message_id),
        "content_hash": hashlib.sha256(raw.mime).hexdigest(),
        "message_digest": message_digest(*said.values()),
        **said,
        "received_at": decoded.received_at or datetime.now(UTC),
        "location": "inbox",
        "job_id": None,
        **parse_fields(outcome),
    }


def message_digest(from_address: str | None, subject: str | None, text: str | None, html: str | None) -> str:
    """What the mail says, hashed: the same for one mail however it was relayed or exported (transport
    headers differ), different for another mail that reuses its Message-ID. Migration 0008 computes
    the same digest in SQL for mail stored before."""
    said = "\x1f".join(part or "" for part in (from_address, subject, text, html))
    return hashlib.sha256(said.encode("utf-8", errors="surrogatepass")).hexdigest()
