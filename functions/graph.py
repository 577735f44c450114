"""Microsoft Graph: the change and lifecycle webhooks, the catch-up timer and lifecycle events.

The webhooks answer from the request alone (no database, no Graph): message ids and lifecycle
events go on queues through output bindings, written by the host after the handler returns, so a
failed write answers 5xx and Graph retries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import azure.functions as func

from functions.http import QUEUE_CONNECTION, api_route
from shared_code.api.auth import Role
from shared_code.api.routing import Call, RawResponse
from shared_code.config import get_settings
from shared_code.errors import Unavailable
from shared_code.mail.queue import GRAPH_EVENTS_QUEUE, INGEST_QUEUE

bp = func.Blueprint()

CATCH_UP_SCHEDULE = "0 */5 * * * *"  # every five minutes
# Anonymous: trust comes from the clientState inside each notification.
WEBHOOK: dict[str, Any] = {
    "role": Role.ANONYMOUS,
    "tag": "graph",
    "status": 202,
    "raw_content_type": "text/plain",
    "errors": (422,),
}


def _answer(call: Call, queue_messages: Callable[[bytes, str | None], list[str]]) -> RawResponse:
    """Graph's validation handshake (the token echoed as text), else 202 with the messages queued."""
    from shared_code.mail.webhook import validation_token

    token = validation_token(call.params)
    if token is not None:
        return RawResponse(
            token, status=200, content_type="text/plain", headers={"X-Content-Type-Options": "nosniff"}
        )
    settings = get_settings()
    if settings.graph_client_state is None and settings.configuration_problems:
        # Graph retries a 503 for hours; the catch-up brings the mail in meanwhile.
        raise Unavailable(" ".join(settings.configuration_problems))
    secret = settings.graph_client_state
    call.outbox.extend(queue_messages(call.raw_body, secret.get_secret_value() if secret else None))
    return RawResponse(b"", status=202)


@api_route(bp, "POST", "graph/notifications", queue_output=INGEST_QUEUE, **WEBHOOK)
def graph_notifications(call: Call) -> RawResponse:
    """Graph change notifications: validation handshake, clientState check, message ids queued."""
    from shared_code.mail.webhook import message_ids

    return _answer(call, message_ids)


@api_route(bp, "POST", "graph/lifecycle", queue_output=GRAPH_EVENTS_QUEUE, **WEBHOOK)
def graph_lifecycle(call: Call) -> RawResponse:
    """Graph lifecycle notifications (reauthorize, subscription removed, missed), queued for handling."""
    from shared_code.mail.webhook import lifecycle_messages

    return _answer(call, lifecycle_messages)


@bp.timer_trigger(arg_name="timer", schedule=CATCH_UP_SCHEDULE, run_on_startup=False, use_monitor=True)
def mail_catch_up(timer: func.TimerRequest) -> None:
    """Keep the subscription alive and ingest whatever the webhook missed (delta query)."""
    from shared_code.mail.catch_up import run_catch_up
    from shared_code.mail.graph_client import default_mailbox

    run_catch_up(default_mailbox())


@bp.queue_trigger(arg_name="message", queue_name=GRAPH_EVENTS_QUEUE, connection=QUEUE_CONNECTION)
def graph_lifecycle_event(message: func.QueueMessage) -> None:
    """A lifecycle notification: renew, recreate the subscription, or catch up now."""
    from shared_code.mail.catch_up import handle_lifecycle_event
    from shared_code.mail.graph_client import default_mailbox

    handle_lifecycle_event(default_mailbox(), message.get_body().decode("utf-8", errors="replace"))
