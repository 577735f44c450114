"""Graph's change and lifecycle notifications, as the webhooks receive them (SPEC §4.1).

Pure functions over the request: the validation handshake, the clientState check (constant time;
a mismatch is dropped and logged without either value) and what goes on the queues. No database,
no Graph: the webhook answers within Graph's limits and the queue functions do the work.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared_code.errors import InvalidInput

log = logging.getLogger(__name__)

LIFECYCLE_EVENTS = ("reauthorizationRequired", "subscriptionRemoved", "missed")
MAX_TOKEN_LENGTH = 4096


class _Notification(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    subscription_id: str | None = Field(None, alias="subscriptionId")
    client_state: Any = Field(None, alias="clientState")
    resource: str | None = None
    resource_data: dict[str, Any] | None = Field(None, alias="resourceData")
    lifecycle_event: str | None = Field(None, alias="lifecycleEvent")


class _Batch(BaseModel):
    value: list[_Notification]


def validation_token(params: dict[str, str]) -> str | None:
    """The token Graph sends when it validates an endpoint; the answer is the token, as text."""
    token = params.get("validationToken")
    return token[:MAX_TOKEN_LENGTH] if token is not None else None


def message_ids(body: bytes, client_state: str | None) -> list[str]:
    """The message ids of the trusted notifications in a batch, each once, in order."""
    ids: dict[str, None] = {}
    for notification in _trusted(body, client_state):
        message_id = _message_id(notification)
        if message_id:
            ids[message_id] = None
    return list(ids)


def lifecycle_messages(body: bytes, client_state: str | None) -> list[str]:
    """One queue message (JSON) per trusted lifecycle notification of a kind we handle."""
    messages = []
    for notification in _trusted(body, client_state):
        if notification.lifecycle_event not in LIFECYCLE_EVENTS:
            log.warning("ignored Graph lifecycle event %r", notification.lifecycle_event)
            continue
        event = {"event": notification.lifecycle_event, "subscription_id": notification.subscription_id}
        messages.append(json.dumps(event))
    return messages


def _trusted(body: bytes, client_state: str | None) -> list[_Notification]:
    notifications = _batch(body)
    trusted = [n for n in notifications if _client_state_matches(n.client_state, client_state)]
    if len(trusted) < len(notifications):
        dropped = {n.subscription_id for n in notifications} - {n.subscription_id for n in trusted}
        log.warning(
            "dropped %d Graph notification(s) whose clientState does not match (subscriptions %s)%s",
            len(notifications) - len(trusted),
            ", ".join(sorted(str(s) for s in dropped)),
            "" if client_state else "; GRAPH_CLIENT_STATE is not set",
        )
    return trusted


def _batch(body: bytes) -> list[_Notification]:
    try:
        return _Batch.model_validate(json.loads(body)).value
    except (ValueError, UnicodeDecodeError, ValidationError):
        raise InvalidInput(
            'body must be a Graph notification batch: {"value": [...]}',
            details=[{"field": "body.value", "message": "a list of notifications is required"}],
        ) from None


def _client_state_matches(received: Any, expected: str | None) -> bool:
    if not expected or not isinstance(received, str):
        return False
    return hmac.compare_digest(received.encode(), expected.encode())


def _message_id(notification: _Notification) -> str | None:
    """``resourceData.id``, else the last segment of ``resource`` (``Users/{id}/Messages/{id}``)."""
    data_id = (notification.resource_data or {}).get("id")
    if isinstance(data_id, str) and data_id.strip():
        return data_id.strip()
    resource = notification.resource or ""
    head, _, tail = resource.rpartition("/")
    if head.lower().endswith("messages") and tail.strip():
        return tail.strip()
    return None
