"""The Storage queues of mail ingestion, named once for the bindings in ``functions/`` and for the
code that talks to Azure Storage itself (re-queueing a failed ingestion).

A message on ``mail-ingest`` is one Graph message id, as text. The Functions host reads queue
messages base64-encoded (host.json ``messageEncoding``), so a message we put there ourselves is
encoded the same way.
"""

from __future__ import annotations

from shared_code.config import Settings

INGEST_QUEUE = "mail-ingest"
GRAPH_EVENTS_QUEUE = "graph-lifecycle"  # lifecycle notifications, handled off the webhook's request
# host.json's extensions.queues.maxDequeueCount: the attempt that fails with this count is the last
# one before the host moves the message to the poison queue (a test keeps the two equal).
MAX_DEQUEUE_COUNT = 5


class QueueUnavailable(Exception):
    """The Storage queue could not be written (no configuration, or the service failed)."""


def send_to_ingest_queue(settings: Settings, message_id: str) -> None:
    """Put one Graph message id on the ingestion queue, as the webhook's output binding would."""
    from azure.core.exceptions import AzureError, ResourceNotFoundError

    try:
        with _ingest_queue_client(settings) as queue:
            try:
                queue.send_message(message_id)
            except ResourceNotFoundError:  # the host creates it on first use; we may come first
                queue.create_queue()
                queue.send_message(message_id)
    except AzureError as error:
        raise QueueUnavailable(
            f"the {INGEST_QUEUE} queue could not be written: {type(error).__name__}"
        ) from None


def _ingest_queue_client(settings: Settings):  # type: ignore[no-untyped-def]
    """A client by connection string (local, Azurite), else by the queue endpoint and the app's identity.

    An operator waits on the answer: a short retry budget (the SDK's default backs off for over a
    minute), then a clear 503."""
    from azure.storage.queue import LinearRetry, QueueClient, TextBase64EncodePolicy

    options = {
        "message_encode_policy": TextBase64EncodePolicy(),
        "retry_policy": LinearRetry(backoff=1, random_jitter_range=0, retry_total=2),
        "connection_timeout": 5,
        "read_timeout": 10,
    }
    if settings.storage_connection_string is not None:
        return QueueClient.from_connection_string(
            settings.storage_connection_string.get_secret_value(), INGEST_QUEUE, **options
        )
    if settings.storage_queue_service_uri:
        from azure.identity import ManagedIdentityCredential

        return QueueClient(
            settings.storage_queue_service_uri,
            INGEST_QUEUE,
            credential=ManagedIdentityCredential(),
            **options,
        )
    raise QueueUnavailable("neither AzureWebJobsStorage nor AzureWebJobsStorage__queueServiceUri is set")
