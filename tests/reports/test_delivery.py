"""The monthly report mail through the fake Graph's sendMail: once per customer and month however
often the timer runs, failed sends retried and recorded, every send audited, the status banner,
recipients, preview and "send now"."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared_code.db.models import AuditLog, Customer, ReportDelivery, ReportDeliveryAttempt, ReportRecipients
from shared_code.reports.delivery import deliver_monthly_reports
from tests.reports.pdf_text import pdf_text
from tests.support.factories import a_customer, a_job, a_run

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
FIRST_OF_DECEMBER = datetime(2026, 12, 1, 7, 30, tzinfo=AMSTERDAM)  # REPORT_SEND_HOUR is 7
SEND_MAIL = r"/users/[^/]+/sendMail$"


def with_recipients(db: Session, customer: Customer, *addresses: str) -> Customer:
    db.add(ReportRecipients(customer_id=customer.id, addresses=list(addresses), updated_by="op"))
    db.flush()
    return customer


@pytest.fixture
def customers(db: Session) -> dict[str, Customer]:
    contoso = with_recipients(db, a_customer(db, "Contoso"), "it@contoso.example", "ceo@contoso.example")
    fabrikam = with_recipients(db, a_customer(db, "Fabrikam"), "backup@fabrikam.example")
    quiet = a_customer(db, "No Recipients")
    gone = with_recipients(db, a_customer(db, "Former", active=False), "x@former.example")
    for customer in (contoso, fabrikam, quiet, gone):
        job = a_job(db, customer, job_name=f"{customer.name} nightly")
        a_run(db, job, at=datetime(2026, 11, 15, 2, tzinfo=UTC), status="success")
    db.commit()
    return {"contoso": contoso, "fabrikam": fabrikam, "quiet": quiet, "gone": gone}


def attempts(db: Session, customer: Customer) -> list[str]:
    db.expire_all()
    return list(
        db.scalars(
            select(ReportDeliveryAttempt.outcome)
            .join(ReportDelivery, ReportDelivery.id == ReportDeliveryAttempt.delivery_id)
            .where(ReportDelivery.customer_id == customer.id)
            .order_by(ReportDeliveryAttempt.id)
        )
    )


def test_the_timer_run_twice_sends_one_mail_per_customer_with_recipients(
    db: Session, graph: Any, customers: dict[str, Customer]
) -> None:
    first = deliver_monthly_reports(now=FIRST_OF_DECEMBER)
    second = deliver_monthly_reports(now=FIRST_OF_DECEMBER + timedelta(minutes=1))

    assert (first.claimed, first.sent, second.claimed, second.sent) == (2, 2, 0, 0)
    assert graph.count("POST", "/sendMail") == 2
    mails = {mail.subject: mail for mail in graph.sent}
    contoso = mails["Backupchecks: backup report Contoso, November 2026"]
    assert contoso.to == ["it@contoso.example", "ceo@contoso.example"]
    ((name, pdf),) = contoso.attachments.items()
    assert name == "report-Contoso-2026-11-01-2026-11-30.pdf"
    assert "Contoso nightly" in pdf_text(pdf) and "2026-11-01 to 2026-11-30" in pdf_text(pdf)
    assert mails["Backupchecks: backup report Fabrikam, November 2026"].to == ["backup@fabrikam.example"]
    assert "1 of 1 expected backup runs succeeded (100.0 %)" in contoso.text
    audited = db.scalars(select(AuditLog).where(AuditLog.action == "send_report")).all()
    assert sorted(a.entity_id for a in audited) == sorted(
        str(customers[c].id) for c in ("contoso", "fabrikam")
    )


def test_two_timers_at_once_still_send_one_mail_per_customer(
    db: Session, graph: Any, customers: dict[str, Customer]
) -> None:
    threads = [
        threading.Thread(target=deliver_monthly_reports, kwargs={"now": FIRST_OF_DECEMBER}) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(tuple(mail.to) for mail in graph.sent) == [
        ("backup@fabrikam.example",),
        ("it@contoso.example", "ceo@contoso.example"),
    ]


def test_nothing_is_sent_before_the_hour_or_after_the_first(
    db: Session, graph: Any, customers: dict[str, Customer]
) -> None:
    assert deliver_monthly_reports(now=FIRST_OF_DECEMBER - timedelta(hours=1)).claimed == 0
    assert deliver_monthly_reports(now=FIRST_OF_DECEMBER + timedelta(days=1)).claimed == 0
    assert graph.sent == []


def test_a_send_failing_twice_then_succeeding_is_one_mail_and_three_attempts(
    db: Session, graph: Any, api: Any, customers: dict[str, Customer]
) -> None:
    contoso = customers["contoso"]
    db.get(ReportRecipients, customers["fabrikam"].id).addresses = []  # an empty list: only Contoso is due
    db.commit()
    graph.fail("POST", SEND_MAIL, 500, times=2, code="ErrorInternalServerError")

    first = deliver_monthly_reports(now=FIRST_OF_DECEMBER)
    assert (first.sent, first.failed) == (0, 1) and graph.sent == []
    attention = api.get("/api/status", role="Viewer").json()["attention"]
    assert [a["code"] for a in attention if a["code"] == "report_sends_failed"] == ["report_sends_failed"]

    deliver_monthly_reports(now=FIRST_OF_DECEMBER + timedelta(hours=1))
    third = deliver_monthly_reports(now=FIRST_OF_DECEMBER + timedelta(hours=2))
    fourth = deliver_monthly_reports(now=FIRST_OF_DECEMBER + timedelta(hours=3))

    assert (third.sent, fourth.sent) == (1, 0)
    assert len(graph.sent) == 1 and graph.count("POST", "/sendMail") == 3
    assert attempts(db, contoso) == ["failed", "failed", "sent"]
    delivery = db.scalars(select(ReportDelivery).where(ReportDelivery.customer_id == contoso.id)).one()
    assert (delivery.state, delivery.attempts, delivery.last_error) == ("sent", 3, None)
    assert db.query(AuditLog).filter(AuditLog.action == "send_report").count() == 3
    assert api.get("/api/status").json()["report_sends_failed"] == 0


def test_an_attempt_that_died_while_sending_is_not_repeated_by_the_timer(
    db: Session, graph: Any, api: Any, customers: dict[str, Customer]
) -> None:
    contoso = customers["contoso"]
    db.add(
        ReportDelivery(
            customer_id=contoso.id,
            month=datetime(2026, 11, 1).date(),
            state="sending",
            recipients=["it@contoso.example"],
            attempts=1,
            claimed_at=FIRST_OF_DECEMBER - timedelta(hours=1),
            created_by="system:monthly-reports",
        )
    )
    db.commit()
    deliver_monthly_reports(now=FIRST_OF_DECEMBER + timedelta(hours=1))
    assert [tuple(mail.to) for mail in graph.sent] == [("backup@fabrikam.example",)]
    db.expire_all()
    assert (
        db.scalars(select(ReportDelivery.state).where(ReportDelivery.customer_id == contoso.id)).one()
        == "unknown"
    )
    assert api.get("/api/status").json()["report_sends_failed"] == 1

    resent = api.post(f"/api/reports/customers/{contoso.id}/send", role="Operator", body={"month": "2026-11"})
    assert resent.status == 200, resent.body  # an operator may decide to send it again
    assert resent.json()["state"] == "sent"


def test_recipients_are_validated_and_set_by_an_operator(db: Session, api: Any) -> None:
    customer = a_customer(db)
    db.commit()
    path = f"/api/reports/customers/{customer.id}/recipients"
    bad = api.put(path, role="Operator", body={"addresses": ["ok@example.com", "not an address"]})
    assert bad.status == 422 and bad.json()["error"]["details"][0]["field"] == "body.addresses.1"
    assert api.put(path, role="Viewer", body={"addresses": []}).status == 403
    saved = api.put(
        path, role="Operator", body={"addresses": ["IT@Example.COM", "it@example.com", "boss@example.com"]}
    )
    assert saved.status == 200, saved.body
    assert saved.json()["addresses"] == ["IT@example.com", "boss@example.com"]
    assert api.get(path, role="Viewer").json()["addresses"] == ["IT@example.com", "boss@example.com"]
    assert db.query(AuditLog).filter(AuditLog.action == "set_report_recipients").count() == 1
    assert api.put("/api/reports/customers/999999/recipients", body={"addresses": []}).status == 404


def test_preview_and_send_now(db: Session, graph: Any, api: Any, customers: dict[str, Customer]) -> None:
    fabrikam = customers["fabrikam"]
    preview = api.get(f"/api/reports/customers/{fabrikam.id}/delivery?month=2026-11", role="Viewer").json()
    assert preview["recipients"] == ["backup@fabrikam.example"] and preview["delivery"] is None
    assert preview["subject"] == "Backupchecks: backup report Fabrikam, November 2026"
    assert preview["sender"] == "backup-reports@example.test"
    assert preview["period"] == {"from": "2026-11-01", "to": "2026-11-30", "timezone": "Europe/Amsterdam"}

    sent = api.post(f"/api/reports/customers/{fabrikam.id}/send", role="Operator", body={"month": "2026-11"})
    assert sent.status == 200, sent.body
    assert [a["outcome"] for a in sent.json()["attempts"]] == ["sent"]
    again = api.post(f"/api/reports/customers/{fabrikam.id}/send", role="Operator", body={"month": "2026-11"})
    assert again.status == 409 and "already sent" in again.json()["error"]["message"]
    assert deliver_monthly_reports(now=FIRST_OF_DECEMBER).sent == 1  # Contoso only: Fabrikam's is sent
    assert len(graph.sent) == 2

    quiet = customers["quiet"]
    assert api.post(f"/api/reports/customers/{quiet.id}/send", role="Operator", body={}).status == 409
    assert api.get(f"/api/reports/customers/{fabrikam.id}/delivery?month=2026-13").status == 400


def test_a_send_graph_refuses_is_a_502_and_recorded(
    db: Session, graph: Any, api: Any, customers: dict[str, Customer]
) -> None:
    fabrikam = customers["fabrikam"]
    graph.fail("POST", SEND_MAIL, 400, code="ErrorInvalidRecipients")
    refused = api.post(
        f"/api/reports/customers/{fabrikam.id}/send", role="Operator", body={"month": "2026-11"}
    )
    assert refused.status == 502, refused.body
    assert attempts(db, fabrikam) == ["failed"]


def test_the_monthly_timer_is_registered(host: Any) -> None:
    assert "monthly_reports" in host.timers
