"""Writing a new mail in one round trip: its row, its raw content, its objects, its failure record
(if an earlier attempt left one) resolved, and, when its job is known, its run (``new_run``: the
run, the job's open PSA ticket copied, its links to the job's open tickets and remarks).

The row is inserted with ON CONFLICT DO NOTHING on every unique key (Graph message id, Message-ID
with the message digest, content hash); a different mail under a used Message-ID is stored, points
at the earlier one and is audited as a collision. When it conflicts, nothing but the failure record
is written and no id comes back. One statement instead of one per table matters here: every statement through pg8000 and
SQLAlchemy costs more than PostgreSQL takes to run it, and ingestion throughput is counted in them.
Both statements (with and without a run) are built once; SQLAlchemy reuses their compiled form.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ARRAY,
    CTE,
    Select,
    Text,
    TextualSelect,
    bindparam,
    cast,
    false,
    func,
    insert,
    literal,
    null,
    select,
    text,
    true,
)
from sqlalchemy.orm import Session

from shared_code.db.models import AuditLog, MailContent, MailMessage, MailObject
from shared_code.mail.booking import booked_columns
from shared_code.mail.failures import RESOLVE_FAILURE
from shared_code.runs.creation import new_run
from shared_code.runs.overrides import ObjectResult

# The mail_messages columns a new mail is written with (the keys of ``row``).
MAIL_COLUMNS = (
    "source",
    "graph_message_id",
    "internet_message_id",
    "content_hash",
    "message_digest",
    "from_address",
    "subject",
    "text_body",
    "html_body",
    "received_at",
    "location",
    "job_id",
    "parse_status",
    "parser_name",
    "parse_error",
    "backup_software",
    "backup_type",
    "job_name",
    "parsed_status",
    "status_stated",
    "informational",
    "parsed_size_bytes",
)


@dataclass(frozen=True)
class Stored:
    mail_id: int
    run_id: int | None


def store_mail(
    session: Session,
    row: Mapping[str, Any],
    mime: bytes,
    objects: Sequence[ObjectResult],
    failure_ref: str,
    run: Mapping[str, Any] | None = None,
) -> Stored | None:
    """The new mail (and its run, when ``run`` gives ``new_run``'s parameters: the mail is then
    stored as processed, in the run's job), or None when the mail is stored already."""
    booked = booked_columns(run["job_id"]) if run is not None else {}
    parameters = {
        **row,
        **booked,
        "mime": mime,
        "object_names": [o.name for o in objects],
        "object_statuses": [o.status for o in objects],
        "object_messages": [o.message for o in objects],
        "failure_ref": failure_ref,
        **(run or {}),
    }
    stored = session.connection().execute(_store(booked=run is not None), parameters).first()
    return Stored(*stored) if stored is not None else None


@functools.cache
def _store(*, booked: bool) -> Select[tuple[int, int | None]]:
    stored = _insert_unless_stored().cte("stored")
    writes = [_content(stored), _objects(stored), _failure_resolved(), _collision_audited(stored)]
    run_id: Any = null()
    if booked:
        run, links = new_run(stored.c.id, false(), stored)
        writes += [run, *links]
        run_id = select(run.c.id).scalar_subquery()
    # Data-modifying CTEs run exactly once whether or not the final SELECT reads them.
    return select(stored.c.id, run_id).add_cte(*writes)


def _insert_unless_stored() -> TextualSelect:
    """The mail's row unless a unique key is taken: INSERT ... ON CONFLICT DO NOTHING RETURNING id.
    Written out, because SQLAlchemy compiles its PostgreSQL insert construct anew on every call."""
    mails = MailMessage.__table__
    statement = text(
        f"INSERT INTO mail_messages ({', '.join(MAIL_COLUMNS)}, message_id_collision_of) "  # noqa: S608 (constant column names)
        f"VALUES ({', '.join(':' + name for name in MAIL_COLUMNS)}, ({_EARLIER_MAIL_WITH_ITS_MESSAGE_ID})) "
        "ON CONFLICT DO NOTHING RETURNING id, message_id_collision_of, internet_message_id"
    )
    typed = statement.bindparams(*(bindparam(name, type_=mails.c[name].type) for name in MAIL_COLUMNS))
    return typed.columns(mails.c.id, mails.c.message_id_collision_of, mails.c.internet_message_id)


# A new mail whose Message-ID an earlier, different mail used (the same mail would have conflicted).
_EARLIER_MAIL_WITH_ITS_MESSAGE_ID = (
    "SELECT min(id) FROM mail_messages WHERE internet_message_id = :internet_message_id"
)


def _collision_audited(stored: CTE) -> CTE:
    """A Message-ID collision is written to the audit log with the mail, by ingestion."""
    audit = AuditLog.__table__
    details = func.jsonb_build_object(
        "message_id", stored.c.internet_message_id, "earlier_mail_id", stored.c.message_id_collision_of
    )
    rows = select(
        literal("ingestion"),
        literal("message_id_collision"),
        literal("mail"),
        cast(stored.c.id, Text),
        details,
    ).where(stored.c.message_id_collision_of.is_not(None))
    columns = ["actor", "action", "entity_type", "entity_id", "details"]
    return insert(audit).from_select(columns, rows).cte("collision_audited")


def _content(stored: CTE) -> CTE:
    contents = MailContent.__table__
    raw = select(stored.c.id, bindparam("mime", type_=contents.c.mime.type))
    return insert(contents).from_select(["mail_id", "mime"], raw).cte("content")


def _objects(stored: CTE) -> CTE:
    """The objects' rows, from three parallel arrays, numbered from 0 in report order."""
    items = (
        func.unnest(
            *(bindparam(f"object_{field}", type_=ARRAY(Text)) for field in ("names", "statuses", "messages"))
        )
        .table_valued("name", "status", "message", with_ordinality="position")
        .render_derived()
    )
    rows = select(stored.c.id, items.c.position - 1, items.c.name, items.c.status, items.c.message)
    columns = ["mail_id", "position", "name", "status", "message"]
    return (
        insert(MailObject.__table__)
        .from_select(columns, rows.select_from(stored.join(items, true())))
        .cte("objects")
    )


def _failure_resolved() -> CTE:
    """An earlier attempt's failure record, if any, is resolved."""
    return RESOLVE_FAILURE.columns().cte("resolved")
