"""Failed ingestions through the API: listed with reasons, retried onto the ingestion queue (which the host delivers),
and nothing silently lost: every mail in the mailbox ends up stored or recorded as failed."""

from __future__ import annotations

from sqlalchemy import select

from shared_code.config import get_settings
from shared_code.db.models import AuditLog, IngestionFailure, MailMessage
from shared_code.mail.failures import describe
from shared_code.mail.graph_client import default_mailbox
from shared_code.mail.queue import INGEST_QUEUE, MAX_DEQUEUE_COUNT
from tests.mail.mails import NAKIVO, NEWSLETTER, VEEAM, mime
from tests.mail.test_catch_up import catch_up
from tests.mail.test_queue_ingestion import deliver


def test_a_poisoned_message_is_listed_and_a_retry_puts_it_back_on_the_queue_the_host_delivers(
    db, graph, queues, api
) -> None:
    message_id = graph.add_message(mime(VEEAM))
    graph.fail("GET", r"/\$value$", 500, times=MAX_DEQUEUE_COUNT)
    deliver(queues, message_id)
    (failure,) = api.get("/api/ingestion/failures", role="Viewer").json()["items"]
    assert (failure["message_ref"], failure["state"], failure["attempts"]) == (message_id, "poisoned", 5)

    response = api.post(f"/api/ingestion/failures/{failure['id']}/retry", role="Operator")
    assert response.status == 200, response.body
    assert response.json()["state"] == "retrying"
    assert [m.body for m in queues.queues[INGEST_QUEUE]] == [message_id]  # the route's output binding
    assert db.scalars(select(AuditLog.action).where(AuditLog.entity_type == "ingestion_failure")).all() == [
        "retry"
    ]

    queues.drain()  # the host delivers it: Graph has recovered
    assert db.scalars(select(MailMessage.graph_message_id)).all() == [message_id]
    resolved = api.get("/api/ingestion/failures?state=resolved").json()["items"]
    assert [f["id"] for f in resolved] == [failure["id"]]
    assert api.get("/api/ingestion/failures").json()["items"] == []
    assert api.post(f"/api/ingestion/failures/{failure['id']}/retry").status == 409
    assert not queues.queues[INGEST_QUEUE]  # a refused retry queues nothing


def test_retry_refuses_unknown_and_directory_failures(db, api) -> None:
    db.add(
        IngestionFailure(
            source="directory", message_ref="/archive/x.eml", state="permanent", last_error="OSError"
        )
    )
    db.commit()
    failure_id = db.scalars(select(IngestionFailure.id)).one()
    assert api.post(f"/api/ingestion/failures/{failure_id}/retry").status == 409
    assert api.post("/api/ingestion/failures/424242/retry").status == 404


def test_nothing_is_silently_lost(db, graph, queues) -> None:
    """Notifications, throttling, a server error streak, a message deleted before it was fetched,
    and a webhook outage: every mail the mailbox ever held is stored, or recorded as failed."""
    everything = [graph.add_message(mime(name)) for name in [VEEAM, NAKIVO, NEWSLETTER] * 4]
    notified, missed = everything[:6], everything[6:]
    graph.fail("GET", rf"/messages/{notified[0]}/\$value$", 429, headers={"Retry-After": "1"})
    graph.fail("GET", rf"/messages/{notified[1]}/\$value$", 500, times=2)
    graph.delete_message(notified[2])  # deleted by a user between notification and fetch
    graph.fail("GET", rf"/messages/{missed[0]}/\$value$", 500, times=MAX_DEQUEUE_COUNT)
    deliver(queues, *notified)
    for _ in range(MAX_DEQUEUE_COUNT):  # the timer runs on while one message keeps failing
        catch_up(queues)

    stored = set(db.scalars(select(MailMessage.graph_message_id)))
    failed = {f.message_ref: f.state for f in db.scalars(select(IngestionFailure))}
    unresolved = {ref for ref, state in failed.items() if state != "resolved"}
    assert stored | unresolved == set(everything)
    assert not stored & unresolved
    assert failed[notified[2]] == "permanent" and failed[missed[0]] == "poisoned"
    assert len(stored) == len(everything) - 2


def test_a_recorded_error_never_holds_a_configured_secret() -> None:
    settings = get_settings()
    secrets = [
        settings.graph_client_secret.get_secret_value(),
        settings.graph_client_state.get_secret_value(),
    ]
    account_key = settings.storage_connection_string.get_secret_value().split("AccountKey=")[1].split(";")[0]
    error = RuntimeError(f"login failed with {secrets[0]} / {secrets[1]}; storage key {account_key}")
    described = describe(error)
    assert described.startswith("RuntimeError: login failed with ***")
    assert not any(secret in described for secret in [*secrets, account_key])


def test_a_configuration_fault_poisons_no_message_without_its_recorded_reason(
    db, graph, queues, api, monkeypatch
) -> None:
    """GRAPH_MAILBOX unset: every attempt fails before Graph is asked. Each poisoned message has
    its failure recorded with the reason, and health asks for attention."""
    monkeypatch.setattr(get_settings(), "graph_mailbox", None)
    default_mailbox.cache_clear()
    try:
        deliver(queues, "AAMkA=cfg1", "AAMkA=cfg2", "AAMkA=cfg3")
    finally:
        default_mailbox.cache_clear()

    poisoned = queues.poison(INGEST_QUEUE)
    failures = api.get("/api/ingestion/failures").json()["items"]
    assert sorted(poisoned) == ["AAMkA=cfg1", "AAMkA=cfg2", "AAMkA=cfg3"]
    assert len(failures) == len(poisoned)
    assert {(f["message_ref"], f["state"], f["attempts"]) for f in failures} == {
        (ref, "poisoned", MAX_DEQUEUE_COUNT) for ref in poisoned
    }
    assert all("GRAPH_MAILBOX" in f["last_error"] for f in failures)
    health = api.get("/api/health", role=None).json()
    assert health["status"] == "attention"
    assert health["ingestion"] == {"unresolved_failures": 3, "poisoned": 3}
