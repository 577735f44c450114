"""The Inbox API: list with parse results, approve (every waiting mail of the job becomes a run),
re-parse, soft delete, and one stored mail."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared_code.db.models import AuditLog, Customer, Job, JobRun, MailMessage, MailObject
from shared_code.mail.ingest import ingest
from shared_code.mail.sources import RawMail
from tests.mail.mails import DSM_NOTICE, NAKIVO, NEWSLETTER, VEEAM, expected, job_for, mime


def arrive(name: str) -> int:
    """A mail comes in through the pipeline (from a directory: no Graph needed here)."""
    ingested = ingest(RawMail("directory", f"/archive/{name}.eml", mime(name)))
    assert ingested.mail_id is not None
    return ingested.mail_id


def stale_report(db: Session, name: str) -> int:
    """A report of a known job that an older parser could not read: in the Inbox as unparsed,
    its raw content kept."""
    mail_id = arrive(name)
    db.execute(update(JobRun).where(JobRun.mail_id == mail_id).values(mail_id=None, missed=True))
    db.execute(
        update(MailMessage)
        .where(MailMessage.id == mail_id)
        .values(
            parse_status="unparsed", parser_name=None, job_id=None, location="inbox", backup_software=None
        )
    )
    db.execute(MailObject.__table__.delete().where(MailObject.mail_id == mail_id))
    db.commit()
    return mail_id


def runs_of(db: Session, job_id: int) -> list[JobRun]:
    db.expire_all()
    return list(db.scalars(select(JobRun).where(JobRun.job_id == job_id).order_by(JobRun.run_at)))


def test_the_inbox_lists_waiting_mail_newest_first_with_parse_results(db, api) -> None:
    veeam, newsletter = arrive(VEEAM), arrive(NEWSLETTER)
    page = api.get("/api/inbox", role="Viewer").json()
    assert [item["id"] for item in page["items"]] == [newsletter, veeam]
    assert page["page"] == {"offset": 0, "limit": 50, "has_more": False}
    first = page["items"][1]
    result = expected(VEEAM)
    assert (first["parse_status"], first["parser_name"], first["job_name"], first["parsed_status"]) == (
        "parsed",
        "veeam",
        result["job_name"],
        result["status"],
    )
    assert first["object_count"] == len(result["objects"])
    assert page["items"][0]["parse_status"] == "unparsed"

    only_unparsed = api.get("/api/inbox?parse_status=unparsed&limit=1").json()
    assert [item["id"] for item in only_unparsed["items"]] == [newsletter]
    assert api.get("/api/inbox?limit=1").json()["page"]["has_more"] is True
    assert api.get("/api/inbox?parse_status=nonsense").status == 400


def test_approval_books_every_waiting_mail_of_the_job_as_runs_with_their_objects(db, api) -> None:
    waiting = [arrive(VEEAM) for _ in range(3)]
    other = arrive(NAKIVO)
    response = api.post(
        f"/api/inbox/{waiting[1]}/approve", role="Operator", body={"customer_name": "Customer B"}
    )
    assert response.status == 200, response.body
    approval = response.json()
    assert approval["mail_ids"] == waiting
    job = db.get(Job, approval["job_id"])
    assert (job.backup_software, job.job_name, job.customer.name) == (
        "Veeam",
        expected(VEEAM)["job_name"],
        "Customer B",
    )
    runs = runs_of(db, job.id)
    assert [run.id for run in runs] == approval["run_ids"]
    assert [run.mail_id for run in runs] == waiting
    assert {run.status for run in runs} == {"warning"}
    for run in runs:
        objects = db.scalars(select(MailObject).where(MailObject.mail_id == run.mail_id)).all()
        assert len(objects) == len(expected(VEEAM)["objects"])
    inbox = api.get("/api/inbox").json()["items"]
    assert [item["id"] for item in inbox] == [other]
    assert db.scalars(select(AuditLog.action).where(AuditLog.entity_type == "mail")).all() == ["approve"]

    later = arrive(VEEAM)  # the job is known now: booked at once
    assert [run.mail_id for run in runs_of(db, job.id)] == [*waiting, later]


def test_approval_with_an_existing_customer_and_a_reused_name(db, api) -> None:
    customer = Customer(name="Customer C")
    db.add(customer)
    db.commit()
    first = arrive(VEEAM)
    approval = api.post(f"/api/inbox/{first}/approve", body={"customer_id": customer.id}).json()
    assert approval["customer_id"] == customer.id
    second = arrive(NAKIVO)
    again = api.post(f"/api/inbox/{second}/approve", body={"customer_name": "  customer c "}).json()
    assert again["customer_id"] == customer.id  # same name, any case: the same customer


def test_approval_refuses_what_it_cannot_do(db, api) -> None:
    parsed, unparsed = arrive(VEEAM), arrive(NEWSLETTER)
    refused = {
        "neither customer": api.post(f"/api/inbox/{parsed}/approve", body={}),
        "both customers": api.post(
            f"/api/inbox/{parsed}/approve", body={"customer_id": 1, "customer_name": "x"}
        ),
        "unknown customer": api.post(f"/api/inbox/{parsed}/approve", body={"customer_id": 999}),
        "unknown mail": api.post("/api/inbox/999999/approve", body={"customer_name": "x"}),
        "unparsed mail": api.post(f"/api/inbox/{unparsed}/approve", body={"customer_name": "x"}),
    }
    assert {reason: r.status for reason, r in refused.items()} == {
        "neither customer": 422,
        "both customers": 422,
        "unknown customer": 422,
        "unknown mail": 404,
        "unparsed mail": 409,
    }
    assert refused["unknown customer"].json()["error"]["details"][0]["field"] == "body.customer_id"
    assert api.post(f"/api/inbox/{parsed}/approve", body={"customer_name": "D"}).status == 200
    assert api.post(f"/api/inbox/{parsed}/approve", body={"customer_name": "D"}).status == 409  # booked now


def test_approval_into_a_job_of_another_customer_is_a_conflict(db, api) -> None:
    mail = arrive(VEEAM)
    job_for(db, VEEAM, customer="Owner")  # created meanwhile, e.g. through the jobs API
    response = api.post(f"/api/inbox/{mail}/approve", body={"customer_name": "Someone else"})
    assert response.status == 409
    assert response.json()["error"]["code"] == "job_exists"


def test_informational_mail_is_booked_like_any_other(db, api) -> None:
    notice = arrive(DSM_NOTICE)
    approval = api.post(f"/api/inbox/{notice}/approve", body={"customer_name": "Customer E"}).json()
    job = db.get(Job, approval["job_id"])
    assert job.informational is True
    assert len(runs_of(db, job.id)) == 1


def test_reparse_applies_todays_parsers_and_books_a_known_job(db, api) -> None:
    job = job_for(db, VEEAM)
    mail_id = arrive(NEWSLETTER)
    assert api.post(f"/api/inbox/{mail_id}/reparse").json() == {
        "mail": api.get("/api/inbox").json()["items"][0],
        "run_id": None,
    }
    stale = stale_report(db, VEEAM)
    result = api.post(f"/api/inbox/{stale}/reparse", role="Operator").json()
    assert result["mail"]["parse_status"] == "parsed"
    assert result["mail"]["object_count"] == len(expected(VEEAM)["objects"])
    assert db.get(JobRun, result["run_id"]).job_id == job.id
    assert api.post(f"/api/inbox/{stale}/reparse").status == 409  # booked now, not in the Inbox


def test_delete_is_soft_and_only_for_inbox_mail(db, api) -> None:
    job_for(db, NAKIVO)
    booked, waiting = arrive(NAKIVO), arrive(VEEAM)
    response = api.post("/api/inbox/delete", role="Operator", body={"mail_ids": [waiting, booked, 424242]})
    assert response.json() == {"deleted": [waiting], "not_in_inbox": sorted([booked, 424242])}
    assert api.get("/api/inbox").json()["items"] == []
    deleted = api.get(f"/api/mails/{waiting}", role="Viewer").json()
    assert (deleted["location"], deleted["deleted_at"] is not None) == ("deleted", True)
    assert api.post("/api/inbox/delete", body={"mail_ids": []}).status == 422


def test_a_stored_mail_shows_its_bodies_objects_and_run(db, api) -> None:
    job_for(db, VEEAM)
    mail_id = arrive(VEEAM)
    mail = api.get(f"/api/mails/{mail_id}", role="Viewer").json()
    assert mail["html_body"].startswith("<html")
    assert mail["from_address"] == "vbr01@contoso.example"
    assert [o["name"] for o in mail["objects"]] == [o["name"] for o in expected(VEEAM)["objects"]]
    assert mail["run_id"] == db.scalars(select(JobRun.id)).one()
    assert (mail["source"], mail["location"]) == ("directory", "processed")
    assert api.get("/api/mails/999999").status == 404


def test_approval_reads_objects_and_overrides_once_whatever_the_number_of_mails(
    db, api, sql_statements
) -> None:
    statements = []
    for count, name in ((2, VEEAM), (5, NAKIVO)):
        waiting = [arrive(name) for _ in range(count)]
        sql_statements.clear()
        response = api.post(f"/api/inbox/{waiting[0]}/approve", role="Operator", body={"customer_name": name})
        assert response.status == 200, response.body
        statements.append(len(sql_statements))
    assert statements[1] - statements[0] == 2 * 3  # per mail: its run, and its move out of the Inbox


def test_the_inbox_says_why_a_mail_was_not_parsed(db, api) -> None:
    newsletter, forwarded = arrive(NEWSLETTER), arrive("noise_forwarded_report")
    items = {item["id"]: item for item in api.get("/api/inbox?parse_status=unparsed").json()["items"]}
    assert items[forwarded]["parse_error"] == "not a backup report: forward or reply (subject)"
    reason = items[newsletter]["parse_error"]
    assert reason.startswith("no parser recognised it (from ") and "subject " in reason


def test_waiting_mail_is_grouped_by_the_job_it_would_create_with_a_suggested_customer(db, api) -> None:
    known = job_for(db, VEEAM, customer="Customer S")
    known.job_name = "Another job of the same server"  # the sender is known, this job is not
    db.commit()
    first, second, other, _ = arrive(VEEAM), arrive(VEEAM), arrive(NAKIVO), arrive(NEWSLETTER)

    answer = api.get("/api/inbox/groups", role="Viewer").json()

    veeam, nakivo = answer["groups"]
    assert (veeam["job_name"], veeam["mail_count"], veeam["newest_mail_id"]) == (
        expected(VEEAM)["job_name"],
        2,
        second,
    )
    assert veeam["suggested_customer"] == {"id": known.customer_id, "name": "Customer S"}
    assert (nakivo["mail_count"], nakivo["newest_mail_id"], nakivo["suggested_customer"]) == (1, other, None)
    assert answer["unparsed"] == 1
    assert first < second


def test_a_different_mail_reusing_a_message_id_is_kept_and_marked_as_a_collision(db, api) -> None:
    first = ingest(RawMail("directory", "/a.eml", mime(VEEAM, message_id="<reused@example.test>")))
    other = mime(NEWSLETTER, message_id="<reused@example.test>")  # another sender, subject and body

    second = ingest(RawMail("directory", "/b.eml", other))
    again = ingest(
        RawMail("directory", "/c.eml", other.replace(b"Subject:", b"X-Relayed-By: mx2\r\nSubject:"))
    )

    assert second.mail_id is not None and second.mail_id != first.mail_id
    assert again.duplicate  # the same mail relayed once more, with one more transport header
    (item,) = [i for i in api.get("/api/inbox").json()["items"] if i["id"] == second.mail_id]
    assert item["message_id_collision_of"] == first.mail_id
    entry = db.scalars(select(AuditLog).where(AuditLog.action == "message_id_collision")).one()
    assert (entry.actor, entry.entity_type, entry.entity_id) == ("ingestion", "mail", str(second.mail_id))
    assert entry.details == {"message_id": "<reused@example.test>", "earlier_mail_id": first.mail_id}


def test_a_truncated_report_of_a_known_job_says_which_job_it_looks_like(db, api) -> None:
    job = job_for(db, VEEAM)
    raw = mime(VEEAM)
    truncated = raw[: raw.index(b"\r\n\r\n") + 300] if b"\r\n\r\n" in raw else raw[: raw.index(b"\n\n") + 300]

    ingested = ingest(RawMail("directory", "/archive/truncated.eml", truncated))
    stranger = ingest(RawMail("directory", "/archive/other.eml", mime(NEWSLETTER)))

    items = {item["id"]: item for item in api.get("/api/inbox").json()["items"]}
    assert items[ingested.mail_id]["parse_error"].startswith(
        f"looks like job {job.job_name!r} ({job.backup_software}), could not be read: "
    )
    assert not items[stranger.mail_id]["parse_error"].startswith("looks like job")
