"""Operator parsing rules through the API: tested live on the waiting mail, saved (which re-parses it),
booked after approval, listed beside the built-in parsers, versioned, audited, disabled; and safe:
RE2 patterns only, a rule that raises never stops ingestion."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from shared_code.db.models import AuditLog, JobRun, MailMessage, ParsingRuleVersion
from shared_code.mail.ingest import ingest
from shared_code.mail.sources import RawMail
from shared_code.sample_morning import redated

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "rule_samples"
SENDER = "backup4all@ws-office01.example.test"


def arrive(name: str, serial: int = 0) -> int:
    """A sample mail of a product no built-in parser knows comes in (a new copy per serial)."""
    raw = (SAMPLES / f"{name}.eml").read_bytes()
    if serial:
        from datetime import UTC, datetime, timedelta

        at = datetime(2025, 6, 12, 20, 0, tzinfo=UTC) + timedelta(days=serial)
        raw = redated(raw, at, f"<b4a-copy-{serial}-{name}@ws-office01.example.test>")
    ingested = ingest(RawMail("directory", f"/archive/{name}-{serial}.eml", raw))
    assert ingested.mail_id is not None
    return ingested.mail_id


def backup4all_rule(**changes: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "software": "Backup4all",
        "backup_type": "Backup",
        "match": {"sender": SENDER, "subject_pattern": "^Backup4all: "},
        "job_name": {"source": "subject", "pattern": '"(?P<job>[^"]+)"'},
        "status": {
            "where": "body",
            "success": ["Completed successfully"],
            "warning": ["Completed with warnings"],
            "failed": ["Completed with errors", "Failed"],
        },
        "objects": {
            "per": "line",
            "pattern": r"^Source: (?P<name>.+?) \[(?P<status>[^\]]+)\](?: (?P<message>.+))?$",
        },
    }
    spec.update(changes)
    return spec


def test_a_rule_tested_saved_and_approved_books_both_waiting_mails(db, api) -> None:
    success, warning = arrive("backup4all_success"), arrive("backup4all_warning")
    assert {mail.parse_status for mail in db.scalars(select(MailMessage))} == {"unparsed"}

    tested = api.post(
        "/api/parsing-rules/test", role="Operator", body={"mail_id": success, "spec": backup4all_rule()}
    ).json()
    assert (tested["parsed"], tested["total"], tested["summary"]) == (2, 2, "parses 2 of 2")
    by_mail = {item["mail_id"]: item["result"] for item in tested["mails"]}
    assert by_mail[warning] == {
        "software": "Backup4all",
        "backup_type": "Backup",
        "job_name": "Office Documents",
        "status": "warning",
        "informational": False,
        "objects": [
            {"name": r"C:\Users\Public\Documents", "status": "success", "message": None},
            {
                "name": r"D:\Finance",
                "status": "warning",
                "message": "2 files skipped: the process cannot access the file because it is being used by "
                "another process",
            },
        ],
    }
    assert by_mail[success]["status"] == "success"

    saved = api.post(
        "/api/parsing-rules", role="Operator", body={"name": "Backup4all", "spec": backup4all_rule()}
    )
    assert saved.status == 201, saved.body
    assert {key: saved.json()[key] for key in ("reparsed", "parsed", "booked")} == {
        "reparsed": 2,
        "parsed": 2,
        "booked": 0,
    }
    rule = saved.json()["rule"]
    inbox = api.get("/api/inbox", role="Viewer").json()["items"]
    assert {(item["parse_status"], item["parser_name"], item["job_name"]) for item in inbox} == {
        ("parsed", rule["parser_name"], "Office Documents")
    }

    approval = api.post(
        f"/api/inbox/{success}/approve", role="Operator", body={"customer_name": "Customer A"}
    )
    assert approval.status == 200, approval.body
    assert sorted(approval.json()["mail_ids"]) == sorted([success, warning])
    runs = list(db.scalars(select(JobRun).where(JobRun.job_id == approval.json()["job_id"])))
    assert sorted(run.status for run in runs) == ["success", "warning"]

    # The next night's mail is parsed by the rule on arrival and booked to the job at once.
    db.expire_all()
    later = db.get(MailMessage, arrive("backup4all_success", serial=1))
    assert (later.parse_status, later.job_id) == ("parsed", approval.json()["job_id"])

    parsers = api.get("/api/parsers", role="Viewer").json()
    assert "veeam" in {item["name"] for item in parsers["items"]}
    assert [(item["id"], item["name"], item["enabled"]) for item in parsers["rules"]] == [
        (rule["id"], "Backup4all", True)
    ]


def test_the_live_test_names_what_it_cannot_read(db, api) -> None:
    success, warning = arrive("backup4all_success"), arrive("backup4all_warning")
    only_success = backup4all_rule(
        status={"where": "body", "success": ["Completed successfully"]}, objects=None
    )

    tested = api.post(
        "/api/parsing-rules/test", role="Operator", body={"mail_id": success, "spec": only_success}
    ).json()

    assert (tested["parsed"], tested["total"]) == (1, 2)
    assert tested["summary"].startswith(f"parses 1 of 2; mail {warning} ('Backup4all: ")
    assert tested["summary"].endswith("'): no status word found")


def test_rules_are_versioned_audited_and_disabled_not_deleted(db, api) -> None:
    rule = api.post(
        "/api/parsing-rules", role="Operator", body={"name": "B4A", "spec": backup4all_rule()}
    ).json()["rule"]

    changed = api.patch(
        f"/api/parsing-rules/{rule['id']}",
        role="Operator",
        body={"spec": backup4all_rule(backup_type="File Backup")},
    ).json()["rule"]
    disabled = api.post(f"/api/parsing-rules/{rule['id']}/disable", role="Operator").json()
    again = api.post(f"/api/parsing-rules/{rule['id']}/disable", role="Operator").json()

    assert (changed["version"], changed["spec"]["backup_type"]) == (2, "File Backup")
    assert (disabled["enabled"], disabled["version"]) == (False, 3)
    assert again == disabled
    versions = db.scalars(select(ParsingRuleVersion.version).where(ParsingRuleVersion.rule_id == rule["id"]))
    assert sorted(versions) == [1, 2, 3]
    actions = db.scalars(
        select(AuditLog.action).where(AuditLog.entity_type == "parsing_rule").order_by(AuditLog.id)
    )
    assert list(actions) == ["create", "update", "disable"]
    # A disabled rule parses no new mail.
    db.expire_all()
    assert db.get(MailMessage, arrive("backup4all_success")).parse_status == "unparsed"
    assert api.get("/api/parsing-rules", role="Viewer").json()["items"][0]["enabled"] is False


def test_a_taken_name_is_a_conflict(db, api) -> None:
    api.post("/api/parsing-rules", role="Operator", body={"name": "B4A", "spec": backup4all_rule()})

    again = api.post("/api/parsing-rules", role="Operator", body={"name": "b4a ", "spec": backup4all_rule()})

    assert again.status == 409 and again.json()["error"]["details"] == {"field": "name"}


@pytest.mark.parametrize(
    ("spec_change", "field"),
    [
        ({"job_name": {"source": "subject", "pattern": "(?<=Backup4all)(x)"}}, "body.spec.job_name.pattern"),
        ({"job_name": {"source": "subject", "pattern": "x" * 501}}, "body.spec.job_name.pattern"),
        ({"job_name": {"source": "subject", "pattern": "no group"}}, "body.spec.job_name"),
        ({"objects": {"pattern": "(?P<status>ok)"}}, "body.spec.objects"),
        ({"status": {"where": "body"}}, "body.spec.status"),
        ({"match": {"sender": "not a sender"}}, "body.spec.match"),
        ({"software": "Back\u0000up"}, "body.spec"),
    ],
)
def test_a_rule_that_cannot_work_is_refused_naming_the_field(
    db, api, spec_change: dict[str, Any], field: str
) -> None:
    response = api.post(
        "/api/parsing-rules", role="Operator", body={"name": "x", "spec": backup4all_rule(**spec_change)}
    )

    assert response.status == 422
    assert field in [item["field"] for item in response.json()["error"]["details"]]


def test_a_catastrophic_backtracking_pattern_runs_in_linear_time(db, api) -> None:
    # "(a+)+$" on a long line of a's that ends in "b" backtracks exponentially in a backtracking
    # engine; RE2 answers in time linear in the line (bench/rule_patterns.py times it).
    from tests.parsers.mails import build_mail

    raw = build_mail("Backup4all: nightly", text="a" * 100_000 + "b\n", sender=SENDER)
    mail = ingest(RawMail("directory", "/archive/hostile.eml", raw)).mail_id
    hostile = backup4all_rule(
        match={"sender": SENDER},
        job_name={"source": "body", "pattern": "(?P<job>(a+)+)$"},
        status={"where": "subject", "success": ["nightly"]},
        objects={"pattern": "(?P<name>(a+)+)$"},
    )

    tested = api.post(
        "/api/parsing-rules/test", role="Operator", body={"mail_id": mail, "spec": hostile}
    ).json()

    assert (
        tested["summary"]
        == f"parses 0 of 1; mail {mail} ('Backup4all: nightly'): no job name found: the pattern does not match the body"
    )


def test_a_rule_that_raises_never_stops_ingestion(db, api, monkeypatch: pytest.MonkeyPatch) -> None:
    from shared_code.parsers import rule_engine

    api.post("/api/parsing-rules", role="Operator", body={"name": "B4A", "spec": backup4all_rule()})

    def broken(*_: Any) -> None:
        raise RuntimeError("a bug in a rule")

    monkeypatch.setattr(rule_engine, "evaluate", broken)
    db.expire_all()
    mail = db.get(MailMessage, arrive("backup4all_success"))

    assert (mail.parse_status, mail.location) == ("unparsed", "inbox")


def test_built_in_parsers_come_first(db, api) -> None:
    from shared_code.parsers.mime import decode_mail
    from tests.mail.mails import VEEAM, mime

    raw = mime(VEEAM)
    domain = decode_mail(raw).from_address.rpartition("@")[2]
    catch_all = backup4all_rule(
        match={"sender": domain},
        job_name={"source": "fixed", "text": "Everything"},
        status={"where": "both", "success": ["Success"]},
        objects=None,
    )
    api.post("/api/parsing-rules", role="Operator", body={"name": "catch-all", "spec": catch_all})

    ingested = ingest(RawMail("directory", "/archive/veeam.eml", raw))

    db.expire_all()
    assert db.get(MailMessage, ingested.mail_id).parser_name == "veeam"


def test_without_a_mail_the_test_reads_what_waits_from_the_senders_the_rule_takes(db, api) -> None:
    arrive("backup4all_success")
    arrive("backup4all_warning")
    by_domain = backup4all_rule(match={"sender": "@example.test"})

    tested = api.post("/api/parsing-rules/test", role="Operator", body={"spec": by_domain}).json()

    assert (tested["parsed"], tested["total"]) == (2, 2)


def test_a_rule_records_whether_the_status_was_a_status_word_or_the_objects_worst() -> None:
    from shared_code.parsers.mime import decode_mail
    from shared_code.parsers.rule_engine import RuleSpec, evaluate

    spec = RuleSpec.model_validate(backup4all_rule())
    raw = (SAMPLES / "backup4all_success.eml").read_bytes()
    stated = evaluate(spec, decode_mail(raw))
    derived = evaluate(spec, decode_mail(raw.replace(b"Status: Completed successfully", b"Status: Done")))

    assert (stated.status, stated.status_stated) == ("success", True)
    assert (derived.status, derived.status_stated) == ("success", False)  # from the sources' [OK]
