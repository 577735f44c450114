"""Writing a new mail in one round trip: its row, its raw content, its objects, its failure record
(if an earlier attempt left one) resolved, and, when its job is known, its run (``new_run``: the
run, the job's open PSA ticket copied, its links to the job's open tickets and remarks).

The row is inserted with ON CONFLICT DO NOTHING on every unique key (Graph message id, Internet
message id, content hash); when it conflicts, nothing but the failure record is written and no id
comes back. One statement instead of one per table matters here: every statement through pg8000 and
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
    false,
    func,
    insert,
    null,
    select,
    text,
    true,
)
from sqlalchemy.orm import Session

from shared_code.db.models import MailContent, MailMessage, MailObject
from shared_code.runs.creation import new_run
from shared_code.runs.overrides import ObjectResult

# The mail_messages columns a new mail is written with (the keys of ``row``).
MAIL_COLUMNS = (
    "source",
    "graph_message_id",
    "internet_message_id",
    "content_hash",
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
    "informational",
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
    booked = {"job_id": run["job_id"], "location": "processed"} if run is not None else {}
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
    writes = [_content(stored), _objects(stored), _failure_resolved()]
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
        f"INSERT INTO mail_messages ({', '.join(MAIL_COLUMNS)}) "  # noqa: S608 (constant column names)
        f"VALUES ({', '.join(':' + name for name in MAIL_COLUMNS)}) ON CONFLICT DO NOTHING RETURNING id"
    )
    typed = statement.bindparams(*(bindparam(name, type_=mails.c[name].type) for name in MAIL_COLUMNS))
    return typed.columns(mails.c.id)


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
    """An earlier attempt's failure record, if any, is resolved. Written out: SQLAlchemy would add
    a SET for every parameter named like a column of the table (the mail's ``source``)."""
    statement = text(
        "UPDATE ingestion_failures SET state = 'resolved', resolved_at = now() "
        "WHERE message_ref = :failure_ref AND state <> 'resolved'"
    )
    return statement.columns().cte("resolved")
