"""The Graph webhooks: validation handshake, clientState trust, and a fast 202 that touches neither
the database nor Graph (message ids and lifecycle events go on queues)."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import quote

import pytest

from shared_code.mail.queue import GRAPH_EVENTS_QUEUE, INGEST_QUEUE
from tests.support.fake_graph import CLIENT_STATE, TENANT_ID

TOKEN = "Validation: Testing client application reachability for subscription Request-Id: 5b6f1c6e"
WEBHOOKS = ["/api/graph/notifications", "/api/graph/lifecycle"]


def notification(
    message_id: str, *, client_state: Any = CLIENT_STATE, subscription: str = "sub-1"
) -> dict[str, Any]:
    resource = f"Users/6f1c-user/Messages/{message_id}"
    return {
        "subscriptionId": subscription,
        "subscriptionExpirationDateTime": "2026-11-23T06:00:00Z",
        "clientState": client_state,
        "changeType": "created",
        "resource": resource,
        "resourceData": {
            "@odata.type": "#Microsoft.Graph.Message",
            "@odata.id": resource,
            "@odata.etag": 'W/"CQAAABYAAAA"',
            "id": message_id,
        },
        "tenantId": TENANT_ID,
    }


def lifecycle(event: str, *, client_state: Any = CLIENT_STATE) -> dict[str, Any]:
    return {
        "subscriptionId": "sub-1",
        "subscriptionExpirationDateTime": "2026-11-23T06:00:00Z",
        "tenantId": TENANT_ID,
        "clientState": client_state,
        "lifecycleEvent": event,
    }


def queued(host: Any, queue: str) -> list[str]:
    return [message.body for message in host.queues[queue]]


@pytest.mark.parametrize("path", WEBHOOKS)
def test_the_validation_handshake_echoes_the_token_as_text(queues, path: str) -> None:
    response = queues.request(
        "POST", f"{path}?validationToken={quote(TOKEN)}", headers={"content-type": "text/plain"}
    )
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["X-Content-Type-Options"] == "nosniff"  # an echo must not be sniffed as HTML
    assert response.body.decode() == TOKEN


def test_trusted_notifications_are_queued_and_answered_202_without_database_or_graph(
    queues, graph, sql_statements
) -> None:
    batch = {"value": [notification("AAMkA=1"), notification("AAMkA=2"), notification("AAMkA=1")]}
    response = queues.request("POST", "/api/graph/notifications", body=batch)
    assert response.status == 202
    assert response.body == b""
    assert queued(queues, INGEST_QUEUE) == ["AAMkA=1", "AAMkA=2"]  # each message once
    assert sql_statements == []
    assert graph.requests == []


def test_the_message_id_comes_from_the_resource_when_resource_data_has_none(queues) -> None:
    item = notification("AAMkA=3")
    item["resourceData"] = None
    queues.request("POST", "/api/graph/notifications", body={"value": [item]})
    assert queued(queues, INGEST_QUEUE) == ["AAMkA=3"]


@pytest.mark.parametrize("client_state", ["wrong-state", "", None, 12345, CLIENT_STATE + "x"])
def test_a_client_state_mismatch_is_dropped_and_logged_without_secrets(
    queues, caplog, client_state: Any
) -> None:
    batch = {"value": [notification("AAMkA=evil", client_state=client_state), notification("AAMkA=ok")]}
    with caplog.at_level(logging.WARNING):
        response = queues.request("POST", "/api/graph/notifications", body=batch)
    assert response.status == 202
    assert queued(queues, INGEST_QUEUE) == ["AAMkA=ok"]
    assert "dropped 1 Graph notification" in caplog.text
    assert CLIENT_STATE not in caplog.text
    if client_state:
        assert str(client_state) not in caplog.text


@pytest.mark.parametrize("path", WEBHOOKS)
@pytest.mark.parametrize("body", [b"", b"not json", b"[]", b'{"value": "x"}', b'{"value": [1]}'])
def test_a_malformed_body_is_422_naming_the_field(queues, path: str, body: bytes) -> None:
    response = queues.request("POST", path, body=body)
    assert response.status == 422
    assert response.json()["error"]["details"][0]["field"] == "body.value"


def test_lifecycle_events_are_queued_for_the_lifecycle_function(queues, graph, sql_statements) -> None:
    events = ["reauthorizationRequired", "subscriptionRemoved", "missed", "somethingNew"]
    batch = {"value": [lifecycle(event) for event in events] + [lifecycle("missed", client_state="bad")]}
    response = queues.request("POST", "/api/graph/lifecycle", body=batch)
    assert response.status == 202
    assert [json.loads(m)["event"] for m in queued(queues, GRAPH_EVENTS_QUEUE)] == events[:3]
    assert sql_statements == [] and graph.requests == []


def test_a_client_state_with_a_lone_surrogate_is_dropped_like_a_mismatch(queues) -> None:
    evil = json.dumps({"value": [notification("AAMkA=evil", client_state="\ud800"), notification("AAMkA=ok")]})
    assert "\\ud800" in evil  # sent as JSON's escape, which decodes to an unencodable str
    response = queues.request(
        "POST", "/api/graph/notifications", body=evil, headers={"content-type": "application/json"}
    )
    assert response.status == 202
    assert queued(queues, INGEST_QUEUE) == ["AAMkA=ok"]


def test_log_lines_from_an_anonymous_notification_are_bounded(queues, caplog) -> None:
    """20 subscription ids of 45,000 characters and a wrong clientState: about 900 KB of request."""
    batch = {
        "value": [
            notification(f"AAMkA={n}", client_state="wrong", subscription=f"{n:02}" + "s" * 45_000)
            for n in range(20)
        ]
    }
    with caplog.at_level(logging.DEBUG):
        response = queues.request("POST", "/api/graph/notifications", body=batch)
    assert response.status == 202
    assert "dropped 20 Graph notification(s)" in caplog.text
    assert "20 subscription(s)" in caplog.text
    assert max(len(record.getMessage()) for record in caplog.records) < 500


def test_log_lines_of_unknown_lifecycle_events_are_bounded(queues, caplog) -> None:
    batch = {"value": [lifecycle("x" * 50_000 + str(n)) for n in range(20)]}
    with caplog.at_level(logging.DEBUG):
        response = queues.request("POST", "/api/graph/lifecycle", body=batch)
    assert response.status == 202
    assert queued(queues, GRAPH_EVENTS_QUEUE) == []
    assert "ignored 20 Graph lifecycle event(s)" in caplog.text
    assert max(len(record.getMessage()) for record in caplog.records) < 500
