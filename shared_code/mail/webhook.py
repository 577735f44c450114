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

from shared_code.errors import BadRequest, InvalidInput

log = logging.getLogger(__name__)

LIFECYCLE_EVENTS = ("reauthorizationRequired", "subscriptionRemoved", "missed")
MAX_TOKEN_LENGTH = 4096
# Anyone can post here: a log line names at most a few subscriptions, each by a short prefix.
LOGGED_VALUES = 3
LOGGED_PREFIX = 40


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
    messages, ignored = [], []
    for notification in _trusted(body, client_state):
        if notification.lifecycle_event not in LIFECYCLE_EVENTS:
            ignored.append(notification.lifecycle_event)
            continue
        event = {"event": notification.lifecycle_event, "subscription_id": notification.subscription_id}
        messages.append(json.dumps(event))
    if ignored:
        log.warning(
            "ignored %d Graph lifecycle event(s) of unknown kinds, e.g. %s", len(ignored), _prefix(ignored[0])
        )
    return messages


def _trusted(body: bytes, client_state: str | None) -> list[_Notification]:
    trusted: list[_Notification] = []
    dropped: list[_Notification] = []
    for notification in _batch(body):
        matches = _client_state_matches(notification.client_state, client_state)
        (trusted if matches else dropped).append(notification)
    if dropped:
        subscriptions = sorted({str(n.subscription_id) for n in dropped})
        named = ", ".join(_prefix(s) for s in subscriptions[:LOGGED_VALUES])
        log.warning(
            "dropped %d Graph notification(s) whose clientState does not match (%d subscription(s): %s%s)%s",
            len(dropped),
            len(subscriptions),
            named,
            ", …" if len(subscriptions) > LOGGED_VALUES else "",
            "" if client_state else "; GRAPH_CLIENT_STATE is not set",
        )
    return trusted


def _prefix(value: object) -> str:
    text = str(value)
    return repr(text if len(text) <= LOGGED_PREFIX else text[:LOGGED_PREFIX] + "…")


def _batch(body: bytes) -> list[_Notification]:
    try:
        return _Batch.model_validate(json.loads(body)).value
    except RecursionError:
        raise BadRequest(
            "body is nested deeper than any Graph notification batch",
            details=[{"field": "body", "message": "nested too deeply"}],
        ) from None
    except (ValueError, UnicodeDecodeError, ValidationError):
        raise InvalidInput(
            'body must be a Graph notification batch: {"value": [...]}',
            details=[{"field": "body.value", "message": "a list of notifications is required"}],
        ) from None


def _client_state_matches(received: Any, expected: str | None) -> bool:
    """Constant time; a value that cannot even be encoded (a lone surrogate) cannot match."""
    if not expected or not isinstance(received, str):
        return False
    try:
        return hmac.compare_digest(received.encode(), expected.encode())
    except UnicodeEncodeError:
        return False


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
