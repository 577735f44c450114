"""The one pipeline every mail goes through, whatever its source: decode, parse, store, book.

Idempotent without check-then-insert: the mail row is inserted with ON CONFLICT DO NOTHING on
its unique keys (Graph message id, Internet message id, content hash), and only the transaction
whose insert created the row books it, in that same transaction. The same mail delivered any
number of times, concurrently too, gives one mail and at most one run; a second delivery waits on
the first one's row and then finds it (job_runs.mail_id is unique as a backstop).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from shared_code.db.engine import unit_of_work
from shared_code.db.models import MailContent, MailMessage, MailObject
from shared_code.mail.booking import book_if_known
from shared_code.mail.failures import resolve_failure
from shared_code.mail.sources import RawMail
from shared_code.runs.overrides import ObjectResult

if TYPE_CHECKING:
    from shared_code.mail.mime import DecodedMail
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
    from shared_code.mail.mime import decode_mail
    from shared_code.parsers.registry import parse_mail

    decoded = decode_mail(raw.mime)
    outcome = parse_mail(decoded)
    with unit_of_work() as session:
        resolve_failure(session, raw.ref)
        mail = _insert_mail(session, raw, decoded, outcome)
        if mail is None:
            return DUPLICATE
        session.add(MailContent(mail_id=mail.id, mime=raw.mime))
        objects = store_objects(session, mail, outcome)
        run = book_if_known(session, mail, objects) if outcome.kind == "parsed" else None
        session.flush()
        return Ingested(mail.id, mail.parse_status, run.id if run is not None else None)


def parse_fields(outcome: ParseOutcome) -> dict[str, Any]:
    """The mail columns that hold a parse outcome (also written by a re-parse)."""
    result = outcome.result
    return {
        "parse_status": outcome.kind,
        "parser_name": outcome.parser_name,
        "parse_error": clean(outcome.error),
        "backup_software": result.software if result else None,
        "backup_type": result.backup_type if result else None,
        "job_name": result.job_name if result else None,
        "parsed_status": result.status if result else None,
        "informational": result.informational if result else False,
    }


def store_objects(session: Session, mail: MailMessage, outcome: ParseOutcome) -> list[ObjectResult]:
    """Add the outcome's objects to the mail, in report order."""
    objects = [
        ObjectResult(clean(item.name) or "", item.status, clean(item.message))
        for item in (outcome.result.objects if outcome.result else [])
    ]
    if objects:
        rows = [
            {
                "mail_id": mail.id,
                "position": position,
                "name": o.name,
                "status": o.status,
                "message": o.message,
            }
            for position, o in enumerate(objects)
        ]
        session.execute(insert(MailObject).values(rows))
    return objects


def clean(text: str | None) -> str | None:
    """PostgreSQL text cannot hold NUL characters; mail sometimes does."""
    return text.replace("\x00", "") if text else text


def _insert_mail(
    session: Session, raw: RawMail, decoded: DecodedMail, outcome: ParseOutcome
) -> MailMessage | None:
    values = {
        "source": raw.source,
        "graph_message_id": raw.graph_message_id,
        "internet_message_id": clean(decoded.internet_message_id),
        "content_hash": hashlib.sha256(raw.mime).hexdigest(),
        "from_address": clean(decoded.from_address),
        "subject": clean(decoded.subject),
        "text_body": clean(decoded.text_body),
        "html_body": clean(decoded.html_body),
        "received_at": decoded.received_at or datetime.now(UTC),
        "location": "inbox",
        **parse_fields(outcome),
    }
    statement = pg_insert(MailMessage).values(values).on_conflict_do_nothing().returning(MailMessage)
    return session.scalars(statement).first()
