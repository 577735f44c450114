"""No answer is unbounded: a mail's bodies are capped (the raw mail has its own route) and the
objects of a mail or a run come a page at a time."""

from __future__ import annotations

from sqlalchemy import update

from shared_code.db.models import MailMessage
from shared_code.mail.inbox import MAX_BODY_CHARACTERS
from shared_code.mail.ingest import ingest
from shared_code.mail.sources import RawMail
from shared_code.runs.overrides import ObjectResult
from tests.mail.mails import NEWSLETTER, mime
from tests.mail.test_inbox import arrive
from tests.support.factories import a_job, a_run


def test_a_huge_body_is_capped_with_a_link_to_the_raw_mail(db, api) -> None:
    mail_id = arrive(NEWSLETTER)
    db.execute(
        update(MailMessage).where(MailMessage.id == mail_id).values(html_body="x" * (MAX_BODY_CHARACTERS + 5))
    )
    db.commit()

    mail = api.get(f"/api/mails/{mail_id}", role="Viewer").json()

    assert len(mail["html_body"]) == MAX_BODY_CHARACTERS
    assert mail["truncated"] is True
    assert mail["raw_url"] == f"/api/mails/{mail_id}/raw"


def test_the_raw_mail_is_served_as_received_as_message_rfc822(db, api) -> None:
    raw = mime(NEWSLETTER)
    mail_id = ingest(RawMail("directory", "/raw.eml", raw)).mail_id

    response = api.get(f"/api/mails/{mail_id}/raw", role="Viewer")

    assert response.status == 200
    assert response.headers["content-type"].startswith("message/rfc822")
    assert response.body == raw
    assert api.get(f"/api/mails/{mail_id}", role="Viewer").json()["truncated"] is False
    assert api.get("/api/mails/999999/raw", role="Viewer").status == 404


def test_a_runs_objects_come_a_page_at_a_time(db, api) -> None:
    objects = tuple(ObjectResult(f"vm{n:04}", "success", None) for n in range(1200))
    run = a_run(db, a_job(db), status="success", objects=objects)
    db.commit()

    first = api.get(f"/api/runs/{run.id}", role="Viewer").json()
    last = api.get(f"/api/runs/{run.id}?offset=1000&limit=1000", role="Viewer").json()
    mail = api.get(f"/api/mails/{run.mail_id}?offset=1100", role="Viewer").json()

    assert (len(first["objects"]), first["objects_page"]["has_more"], first["object_count"]) == (
        500,
        True,
        1200,
    )
    assert [o["name"] for o in last["objects"]] == [f"vm{n:04}" for n in range(1000, 1200)]
    assert last["objects_page"]["has_more"] is False
    assert ([o["name"] for o in mail["objects"]], mail["object_count"]) == (
        [f"vm{n:04}" for n in range(1100, 1200)],
        1200,
    )
    assert api.get(f"/api/runs/{run.id}?limit=1001", role="Viewer").status == 400
