"""The Storage queues of mail ingestion, named once for the bindings in ``functions/``.

A message on ``mail-ingest`` is one Graph message id, as text. Every message is written by an
output binding (the webhooks, the retry route), so the host encodes it as host.json says.
"""

from __future__ import annotations

INGEST_QUEUE = "mail-ingest"
GRAPH_EVENTS_QUEUE = "graph-lifecycle"  # lifecycle notifications, handled off the webhook's request
# host.json's extensions.queues.maxDequeueCount: the attempt that fails with this count is the last
# one before the host moves the message to the poison queue (a test keeps the two equal).
MAX_DEQUEUE_COUNT = 5
