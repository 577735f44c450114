"""Format drift: one sender's format changes mid-stream; the status banner and the job's drift say
so at once, before the job shows up as missed, and clear when its mail parses again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from shared_code.db.models import Job
from shared_code.mail.ingest import ingest
from shared_code.mail.sources import RawMail
from shared_code.pipeline_status import pipeline_status
from shared_code.sample_morning import redated
from tests.mail.mails import NAKIVO, VEEAM, mime
from tests.parsers.mails import build_mail

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "rule_samples"
# Relative to today: GET /api/status judges drift against the current time.
START = datetime.now(UTC).replace(hour=22, minute=0, second=0, microsecond=0) - timedelta(days=8)
NOW = START + timedelta(days=7)


def arrive(raw: bytes, name: str) -> int:
    ingested = ingest(RawMail("directory", f"/archive/{name}.eml", raw))
    assert ingested.mail_id is not None
    return ingested.mail_id


def night(day: int) -> datetime:
    return START + timedelta(days=day)


def drift_of(db: Session) -> tuple[list[str], list[Any]]:
    status = pipeline_status(db, now=NOW)
    banner = [item.message for item in status.attention if item.code == "format_drift"]
    return banner, status.format_drift


def test_a_sender_that_stops_parsing_is_named_on_the_banner_until_it_parses_again(db: Session, api) -> None:
    first = arrive(mime(VEEAM, received=night(0)), "night-0")
    approved = api.post(f"/api/inbox/{first}/approve", role="Operator", body={"customer_name": "Customer A"})
    job_id = approved.json()["job_id"]
    arrive(mime(VEEAM, received=night(1)), "night-1")
    sender = db.get(Job, job_id).from_address
    assert drift_of(db) == ([], [])

    # The server is upgraded: its mail now has a layout no parser knows, two nights running.
    for day in (2, 3):
        changed = build_mail(f"Job report {day}", text="Backup session finished. Result: OK", sender=sender)
        arrive(redated(changed, night(day), f"<changed-{day}@example.test>"), f"changed-{day}")

    banner, drifts = drift_of(db)
    assert [(d.kind, d.job_ids, d.mails, d.since) for d in drifts] == [
        ("stopped_parsing", [job_id], 2, night(2))
    ]
    assert banner == [
        f"Format drift: Veeam mails from {sender} stopped parsing on {night(2):%d %b}: 2 mails waiting in the Inbox."
    ]
    shown = api.get("/api/status", role="Viewer").json()["format_drift"]
    assert [item["job_ids"] for item in shown] == [[job_id]]

    # The next night's mail parses again (the product was fixed, or a parser learned the new layout).
    arrive(mime(VEEAM, received=night(4)), "night-4")
    assert drift_of(db) == ([], [])


def b4a(name: str, day: int, *replacements: tuple[str, str]) -> bytes:
    raw = (SAMPLES / f"{name}.eml").read_bytes()
    for old, new in replacements:
        raw = raw.replace(old.encode(), new.encode())
    return redated(raw, night(day), f"<b4a-{day}@example.test>")


def test_a_job_whose_mail_loses_its_objects_is_drift_until_they_come_back(db: Session, api) -> None:
    from tests.mail.test_parsing_rules import backup4all_rule

    api.post("/api/parsing-rules", role="Operator", body={"name": "B4A", "spec": backup4all_rule()})
    first = arrive(b4a("backup4all_success", 0), "b4a-0")
    job_id = api.post(
        f"/api/inbox/{first}/approve", role="Operator", body={"customer_name": "Customer A"}
    ).json()["job_id"]
    arrive(b4a("backup4all_warning", 1), "b4a-1")
    assert drift_of(db) == ([], [])

    # A new version writes its sources differently: the status still parses, the objects do not.
    arrive(b4a("backup4all_success", 2, ("Source: ", "Source folder: ")), "b4a-2")

    banner, drifts = drift_of(db)
    assert [(d.kind, d.job_ids, d.mails, d.since) for d in drifts] == [
        ("fewer_objects", [job_id], 1, night(2))
    ]
    assert banner == [
        "Format drift: Backup4all mails of Office Documents from backup4all@ws-office01.example.test parse with "
        f"less since {night(2):%d %b}: no objects where there were 2."
    ]

    arrive(b4a("backup4all_success", 3), "b4a-3")
    assert drift_of(db) == ([], [])


def test_a_job_whose_mail_loses_its_status_word_is_drift_until_it_states_it_again(db: Session, api) -> None:
    first = arrive(mime(NAKIVO, received=night(0)), "nakivo-0")
    job_id = api.post(
        f"/api/inbox/{first}/approve", role="Operator", body={"customer_name": "Customer A"}
    ).json()["job_id"]
    arrive(mime(NAKIVO, received=night(1)), "nakivo-1")
    assert drift_of(db) == ([], [])

    # A new version drops the "Job status" line: the mail still parses, its status now the worst VM's.
    for day in (2, 3):
        changed = mime(NAKIVO, received=night(day)).replace(b"<b>Job status</b>", b"<b>Job notes</b>")
        assert ingest(RawMail("directory", f"/archive/nakivo-{day}.eml", changed)).run_id is not None
    job = db.get(Job, job_id)

    banner, drifts = drift_of(db)
    assert [(d.kind, d.job_ids, d.mails, d.since) for d in drifts] == [
        ("no_status_word", [job_id], 2, night(2))
    ]
    assert banner == [
        f"Format drift: NAKIVO mails of {job.job_name} from {job.from_address} parse without a status word "
        f"since {night(2):%d %b}: the status is taken from the objects or the subject."
    ]
    shown = api.get("/api/status", role="Viewer").json()["format_drift"]
    assert [(item["kind"], item["job_ids"]) for item in shown] == [("no_status_word", [job_id])]

    arrive(mime(NAKIVO, received=night(4)), "nakivo-4")
    assert drift_of(db) == ([], [])


def test_one_mail_no_parser_knows_from_a_known_sender_is_no_drift(db: Session, api) -> None:
    first = arrive(mime(VEEAM, received=night(0)), "night-0")
    job_id = api.post(
        f"/api/inbox/{first}/approve", role="Operator", body={"customer_name": "Customer A"}
    ).json()["job_id"]
    sender = db.get(Job, job_id).from_address

    # The same server also sends a notice that is no backup report (a licence or update notice).
    notice = build_mail("License expires in 30 days", text="Your support contract ends soon.", sender=sender)
    arrive(redated(notice, night(1), "<notice-1@example.test>"), "notice-1")

    assert drift_of(db) == ([], [])
