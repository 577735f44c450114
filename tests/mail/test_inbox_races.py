"""Inbox work on a row another request holds: a brief wait, else 409 ``busy``; never a 500.
A re-parse holds no row lock while it parses."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

import shared_code.parsers.registry as registry
from shared_code.db.engine import get_sessionmaker
from shared_code.db.models import JobRun, MailMessage
from tests.mail.mails import NEWSLETTER, VEEAM, job_for
from tests.mail.test_inbox import arrive, stale_report


def row_lockable(mail_id: int) -> bool:
    """Whether another transaction could lock the mail's row right now (it does not wait)."""
    with get_sessionmaker()() as other:
        try:
            other.execute(
                text("SELECT id FROM mail_messages WHERE id = :id FOR UPDATE NOWAIT"), {"id": mail_id}
            )
            return True
        except Exception:  # SQLSTATE 55P03: someone holds it
            return False
        finally:
            other.rollback()


def test_a_reparse_holds_no_row_lock_while_it_parses(db, api, monkeypatch) -> None:
    mail_id = arrive(NEWSLETTER)
    seen: list[bool] = []
    parse = registry.parse_mail

    def watched_parse(*args: Any, **kwargs: Any) -> Any:
        seen.append(row_lockable(mail_id))
        return parse(*args, **kwargs)

    monkeypatch.setattr(registry, "parse_mail", watched_parse)

    assert api.post(f"/api/inbox/{mail_id}/reparse").status == 200
    assert seen == [True]


def test_work_on_a_row_another_transaction_holds_answers_409_busy(db: Session, api) -> None:
    mail_id = arrive(NEWSLETTER)
    db.execute(select(MailMessage).where(MailMessage.id == mail_id).with_for_update())  # held, not committed

    deleted = api.post("/api/inbox/delete", body={"mail_ids": [mail_id]})
    reparsed = api.post(f"/api/inbox/{mail_id}/reparse")

    assert (deleted.status, deleted.json()["error"]["code"]) == (409, "busy")
    assert (reparsed.status, reparsed.json()["error"]["code"]) == (409, "busy")
    db.rollback()
    assert api.post("/api/inbox/delete", body={"mail_ids": [mail_id]}).json()["deleted"] == [mail_id]


def test_sixteen_parallel_reparses_of_one_mail_answer_no_5xx_and_book_it_once(db, api) -> None:
    job = job_for(db, VEEAM)
    mail_id = stale_report(db, VEEAM)

    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(pool.map(lambda _: api.post(f"/api/inbox/{mail_id}/reparse"), range(16)))

    statuses = Counter(response.status for response in responses)
    assert statuses == {200: 1, 409: 15}, statuses
    (booked,) = [response.json()["run_id"] for response in responses if response.status == 200]
    assert {response.json()["error"]["code"] for response in responses if response.status == 409} <= {
        "not_in_inbox",
        "busy",
    }
    db.expire_all()
    assert [run.id for run in db.scalars(select(JobRun).where(JobRun.mail_id == mail_id))] == [booked]
    assert db.get(JobRun, booked).job_id == job.id


@pytest.mark.parametrize("first", ["delete", "reparse"])
def test_delete_and_reparse_of_one_mail_at_once_answer_no_5xx(db, api, first: str) -> None:
    mail_id = arrive(NEWSLETTER)
    calls = {
        "delete": lambda: api.post("/api/inbox/delete", body={"mail_ids": [mail_id]}),
        "reparse": lambda: api.post(f"/api/inbox/{mail_id}/reparse"),
    }
    order = [first, *(name for name in calls if name != first)]

    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = dict(zip(order, pool.map(lambda name: calls[name](), order), strict=True))

    assert responses["delete"].status == 200
    assert responses["delete"].json()["deleted"] == [mail_id]
    assert responses["reparse"].status in {200, 409}
    db.expire_all()
    assert not db.get(MailMessage, mail_id).live
