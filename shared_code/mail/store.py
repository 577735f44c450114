"""Writing a new mail in one round trip: its row, its raw content, its objects, and its failure
record (if an earlier attempt left one) resolved.

The row is inserted with ON CONFLICT DO NOTHING on every unique key (Graph message id, Internet
message id, content hash); when it conflicts, nothing but the failure record is written and no id
comes back. One statement instead of four matters here: every statement through pg8000 and the
ORM costs more than PostgreSQL takes to run it, and ingestion throughput is counted in them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from shared_code.runs.overrides import ObjectResult

# Data-modifying CTEs run exactly once whether or not the final SELECT reads them.
_STORE = text(
    """
    WITH stored AS (
        INSERT INTO mail_messages (
            source, graph_message_id, internet_message_id, content_hash, from_address, subject,
            text_body, html_body, received_at, location, job_id, parse_status, parser_name,
            parse_error, backup_software, backup_type, job_name, parsed_status, informational)
        VALUES (
            :source, :graph_message_id, :internet_message_id, :content_hash, :from_address, :subject,
            :text_body, :html_body, :received_at, :location, :job_id, :parse_status, :parser_name,
            :parse_error, :backup_software, :backup_type, :job_name, :parsed_status, :informational)
        ON CONFLICT DO NOTHING
        RETURNING id
    ), content AS (
        INSERT INTO mail_contents (mail_id, mime) SELECT id, :mime FROM stored
    ), objects AS (
        INSERT INTO mail_objects (mail_id, position, name, status, message)
        SELECT stored.id, item.position - 1, item.name, item.status, item.message
        FROM stored, unnest(CAST(:object_names AS text[]), CAST(:object_statuses AS text[]),
                            CAST(:object_messages AS text[])) WITH ORDINALITY AS item(name, status, message, position)
    ), resolved AS (
        UPDATE ingestion_failures SET state = 'resolved', resolved_at = now()
        WHERE message_ref = :failure_ref AND state <> 'resolved'
    )
    SELECT id FROM stored
    """
)


def store_mail(
    session: Session, row: Mapping[str, Any], mime: bytes, objects: Sequence[ObjectResult], failure_ref: str
) -> int | None:
    """The new mail's id, or None when it is stored already."""
    parameters = {
        **row,
        "mime": mime,
        "object_names": [o.name for o in objects],
        "object_statuses": [o.status for o in objects],
        "object_messages": [o.message for o in objects],
        "failure_ref": failure_ref,
    }
    return session.scalar(_STORE, parameters)
