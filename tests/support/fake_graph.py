"""A fake Microsoft Graph (and its Entra token endpoint) on loopback, over TLS, for the real msgraph-sdk.

It serves what the mail pipeline uses, shaped like the real service:
- ``GET  /{tenant}/v2.0/.well-known/openid-configuration`` and ``POST /{tenant}/oauth2/v2.0/token``
  (client credentials; the secret is checked) for azure-identity;
- ``GET  /v1.0/users/{mailbox}/messages/{id}/$value``: the message's MIME;
- ``GET  /v1.0/users/{mailbox}/mailFolders/{folder}/messages/delta``: pages with
  ``@odata.nextLink`` and a final ``@odata.deltaLink``; ``@removed`` entries; 410
  ``syncStateNotFound`` for a token from before ``expire_delta_tokens()``;
- ``POST /v1.0/users/{mailbox}/messages/{id}/move`` (the message gets a new id, as in Graph);
- ``POST /v1.0/subscriptions``, ``GET/PATCH/DELETE /v1.0/subscriptions/{id}`` (4,230-minute limit);
- ``POST /v1.0/users/{mailbox}/sendMail``: 202 with no body, the mail kept in ``sent`` (and Sent
  Items); 400 for a message without recipients or with an attachment that is not base64, 413
  above Graph's 4 MB request limit, 403 for another mailbox (Mail.Send scoped to the mailbox).

Faults are injected per method and path (``fail``): 429 with Retry-After, 5xx, 404. Every
request is counted (``requests``), so tests can assert that something made no Graph call.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import shutil
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.support.loopback import LoopbackServer
from tests.support.tls import LoopbackTls, loopback_tls

TENANT_ID = "99999999-8888-7777-6666-555555555555"
CLIENT_ID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
CLIENT_SECRET = "fake-graph-client-secret"
CLIENT_STATE = "fake-graph-client-state-0123456789"
MAILBOX = "backup-reports@example.test"
MAX_SUBSCRIPTION_MINUTES = 4230

_MESSAGE = re.compile(r"/v1\.0/users/(?P<user>[^/]+)/messages/(?P<id>[^/]+)(?P<rest>/\$value|/move)$")
_DELTA = re.compile(
    r"/v1\.0/users/(?P<user>[^/]+)/mailFolders(?:/(?P<plain>[^/(]+)|\('(?P<quoted>[^']+)'\))/messages/delta(?:\(\))?$"
)
_SEND_MAIL = re.compile(r"/v1\.0/users/(?P<user>[^/]+)/sendMail$")
MAX_SEND_MAIL_BYTES = 4 * 1024 * 1024
_SUBSCRIPTION = re.compile(r"/v1\.0/subscriptions(?:/(?P<id>[^/]+))?$")


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    status: int
    remaining: int
    headers: dict[str, str]
    code: str


@dataclass
class FakeMessage:
    id: str
    mime: bytes
    folder: str


@dataclass
class SentMail:
    to: list[str]
    subject: str
    text: str
    attachments: dict[str, bytes]  # name -> content


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def _json(status: int, payload: Any) -> Response:
    return Response(status, json.dumps(payload).encode())


def _error(status: int, code: str, message: str) -> Response:
    return _json(status, {"error": {"code": code, "message": message, "innerError": {}}})


class FakeGraph:
    def __init__(self, *, page_size: int = 10) -> None:
        self.tls = LoopbackTls.in_directory(Path(tempfile.mkdtemp(prefix="bc-tls-")))  # written by start()
        self.page_size = page_size
        self.repeat_items = False  # delta pages repeat the previous page's last item, as Graph may
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self.tokens: set[str] = set()  # issued access tokens outlive reset(), as the app caches them
        self.reset()
        self.loopback = LoopbackServer(_handler(self), "fake-graph")

    def start(self) -> FakeGraph:
        """Serve, over TLS from a new loopback CA (the address and CA bundle path were fixed before)."""
        if not self.loopback.started:
            loopback_tls(self.tls.ca_bundle.parent)
            self.loopback.start(self.tls.server_context())
        return self

    # --- configuration the app is pointed at -----------------------------------------------------

    @property
    def authority(self) -> str:
        return f"https://127.0.0.1:{self.loopback.port}"

    @property
    def base_url(self) -> str:
        return f"{self.authority}/v1.0"

    def env(self) -> dict[str, str]:
        return {
            "GRAPH_TENANT_ID": TENANT_ID,
            "GRAPH_CLIENT_ID": CLIENT_ID,
            "GRAPH_CLIENT_SECRET": CLIENT_SECRET,
            "GRAPH_MAILBOX": MAILBOX,
            "GRAPH_FOLDER": "inbox",
            "GRAPH_BASE_URL": self.base_url,
            "GRAPH_AUTHORITY_HOST": self.authority,
            "GRAPH_DISABLE_INSTANCE_DISCOVERY": "true",
            "GRAPH_CA_BUNDLE": str(self.tls.ca_bundle),
            "GRAPH_CLIENT_STATE": CLIENT_STATE,
            "GRAPH_NOTIFICATION_URL": "https://backupchecks.example.test/api/graph/notifications",
            "GRAPH_LIFECYCLE_URL": "https://backupchecks.example.test/api/graph/lifecycle",
        }

    # --- state that tests arrange and inspect -------------------------------------------------------

    def reset(self) -> None:
        with self._lock:
            self.messages: dict[str, FakeMessage] = {}
            self.changes: list[tuple[str, str, str]] = []  # (message id, created|removed, folder)
            self.subscriptions: dict[str, dict[str, Any]] = {}
            self.sent: list[SentMail] = []
            self.requests: list[tuple[str, str]] = []
            self.faults: list[Fault] = []
            self.generation = 1
            self.repeat_items = False

    def add_message(self, mime: bytes, folder: str = "inbox") -> str:
        with self._lock:
            message_id = f"AAMkAD{next(self._ids):08d}-{uuid.uuid4().hex[:12]}=="
            self.messages[message_id] = FakeMessage(message_id, mime, folder)
            self.changes.append((message_id, "created", folder))
            return message_id

    def delete_message(self, message_id: str) -> None:
        with self._lock:
            message = self.messages.pop(message_id)
            self.changes.append((message_id, "removed", message.folder))

    def folder_ids(self, folder: str = "inbox") -> list[str]:
        with self._lock:
            return [m.id for m in self.messages.values() if m.folder == folder]

    def fail(
        self,
        method: str,
        path_pattern: str,
        status: int,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        code: str = "",
    ) -> None:
        """The next ``times`` matching requests get ``status`` (e.g. 429 with Retry-After)."""
        with self._lock:
            self.faults.append(
                Fault(method.upper(), re.compile(path_pattern), status, times, headers or {}, code)
            )

    def expire_delta_tokens(self) -> None:
        """Every delta and skip token issued so far now answers 410 syncStateNotFound."""
        with self._lock:
            self.generation += 1

    def count(self, method: str | None = None, contains: str = "") -> int:
        with self._lock:
            return sum(1 for m, path in self.requests if (method is None or m == method) and contains in path)

    def fetches(self, message_id: str) -> int:
        return self.count("GET", f"/messages/{message_id}/$value")

    def stop(self) -> None:
        self.loopback.stop()
        shutil.rmtree(self.tls.ca_bundle.parent, ignore_errors=True)

    # --- request handling ------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
        split = urlsplit(target)
        path = unquote(split.path)
        query = {k: v[0] for k, v in parse_qs(split.query).items()}
        with self._lock:
            self.requests.append((method, path))
            fault = self._take_fault(method, path)
        if fault is not None:
            return Response(
                fault.status,
                json.dumps(
                    {"error": {"code": fault.code or f"Fault{fault.status}", "message": "injected"}}
                ).encode(),
                headers=fault.headers,
            )
        if path.startswith(f"/{TENANT_ID}/"):
            return self._identity(method, path, body)
        if not self._authorized(headers):
            return _error(401, "InvalidAuthenticationToken", "Access token is empty or invalid.")
        with self._lock:
            return self._graph(method, path, query, headers, body)

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.remaining > 0 and fault.method == method and fault.path.search(path):
                fault.remaining -= 1
                return fault
        return None

    def _identity(self, method: str, path: str, body: bytes) -> Response:
        if method == "GET" and path.endswith("/v2.0/.well-known/openid-configuration"):
            base = f"{self.authority}/{TENANT_ID}"
            return _json(
                200,
                {
                    "token_endpoint": f"{base}/oauth2/v2.0/token",
                    "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                    "issuer": f"{base}/v2.0",
                    "tenant_region_scope": "EU",
                },
            )
        if method == "POST" and path.endswith("/oauth2/v2.0/token"):
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
                return _json(401, {"error": "invalid_client", "error_description": "bad client credentials"})
            token = f"fake-graph-token-{uuid.uuid4().hex}"
            with self._lock:
                self.tokens.add(token)
            return _json(200, {"token_type": "Bearer", "expires_in": 3599, "access_token": token})
        return _error(404, "NotFound", path)

    def _authorized(self, headers: dict[str, str]) -> bool:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        with self._lock:
            return scheme == "Bearer" and token in self.tokens

    def _graph(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Response:
        if match := _MESSAGE.match(path):
            if match["user"].lower() != MAILBOX:
                return _error(404, "ErrorInvalidUser", "The requested user is invalid.")
            return self._message(method, match["id"], match["rest"], body)
        if (match := _DELTA.match(path)) and method == "GET":
            folder = (match["plain"] or match["quoted"]).lower()
            return self._delta(match["user"], folder, query, headers)
        if match := _SUBSCRIPTION.match(path):
            return self._subscription(method, match["id"], body)
        if (match := _SEND_MAIL.match(path)) and method == "POST":
            return self._send_mail(match["user"], body)
        return _error(404, "ResourceNotFound", f"no route for {method} {path}")

    def _message(self, method: str, message_id: str, rest: str, body: bytes) -> Response:
        message = self.messages.get(message_id)
        if message is None:
            return _error(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        if rest == "/$value" and method == "GET":
            return Response(200, message.mime, content_type="text/plain")
        if rest == "/move" and method == "POST":
            # action parameters are case-insensitive; the SDK sends DestinationId
            parameters = {k.lower(): v for k, v in json.loads(body or b"{}").items()}
            destination = str(parameters.get("destinationid", "")).lower()
            self.delete_message(message_id)
            new_id = self.add_message(message.mime, destination)
            return _json(201, {"id": new_id, "parentFolderId": destination})
        return _error(405, "MethodNotAllowed", method)

    def _send_mail(self, user: str, body: bytes) -> Response:
        if user.lower() != MAILBOX:
            return _error(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
        if len(body) > MAX_SEND_MAIL_BYTES:
            return _error(413, "RequestEntityTooLarge", "The request is larger than 4 MB.")
        # action parameters are case-insensitive; the SDK sends Message and SaveToSentItems
        parameters = {k.lower(): v for k, v in json.loads(body or b"{}").items()}
        message = parameters.get("message") or {}
        to = [r.get("emailAddress", {}).get("address", "") for r in message.get("toRecipients") or []]
        if not to or not all("@" in address for address in to):
            return _error(400, "ErrorInvalidRecipients", "At least one recipient is not valid.")
        try:
            attachments = {
                a["name"]: base64.b64decode(a["contentBytes"], validate=True)
                for a in message.get("attachments") or []
                if a.get("@odata.type") == "#microsoft.graph.fileAttachment"
            }
        except (KeyError, ValueError):
            return _error(
                400, "ErrorInvalidRequest", "A file attachment needs a name and base64 contentBytes."
            )
        self.sent.append(
            SentMail(
                to, message.get("subject", ""), (message.get("body") or {}).get("content", ""), attachments
            )
        )
        return Response(202)

    # --- delta ----------------------------------------------------------------------------------------

    def _delta(self, user: str, folder: str, query: dict[str, str], headers: dict[str, str]) -> Response:
        if user.lower() != MAILBOX:
            return _error(404, "ErrorInvalidUser", "The requested user is invalid.")
        token = query.get("$skiptoken") or query.get("$deltatoken")
        if token is None:
            start, end, offset = -1, len(self.changes), 0
        else:
            parts = [int(p) for p in token.split(".")]
            if parts[0] != self.generation:
                return _error(410, "syncStateNotFound", "The sync state generation is invalid.")
            start, end, offset = (parts[1], len(self.changes), 0) if len(parts) == 2 else parts[1:]
        items = self._delta_items(folder, start, end)
        size = min(_max_page_size(headers) or self.page_size, self.page_size)
        first = max(0, offset - 1) if self.repeat_items and offset else offset
        page = items[first : offset + size]
        link = f"{self.base_url}/users/{user}/mailFolders('{folder}')/messages/delta()"
        payload: dict[str, Any] = {"@odata.context": f"{self.base_url}/$metadata#Collection(message)"}
        if offset + size < len(items):
            payload["@odata.nextLink"] = f"{link}?$skiptoken={self.generation}.{start}.{end}.{offset + size}"
        else:
            payload["@odata.deltaLink"] = f"{link}?$deltatoken={self.generation}.{end}"
        payload["value"] = page
        return _json(200, payload)

    def _delta_items(self, folder: str, start: int, end: int) -> list[dict[str, Any]]:
        if start < 0:  # initial round: what the folder holds now
            removed = {mid for mid, kind, f in self.changes[:end] if kind == "removed" and f == folder}
            return [
                _delta_item(mid)
                for mid, kind, f in self.changes[:end]
                if kind == "created" and f == folder and mid not in removed
            ]
        return [
            _delta_item(mid, removed=kind == "removed")
            for mid, kind, f in self.changes[start:end]
            if f == folder
        ]

    # --- subscriptions ----------------------------------------------------------------------------

    def _subscription(self, method: str, subscription_id: str | None, body: bytes) -> Response:
        payload = json.loads(body) if body else {}
        if subscription_id is None and method == "POST":
            return self._create_subscription(payload)
        subscription = self.subscriptions.get(subscription_id or "")
        if subscription is None:
            return _error(404, "ResourceNotFound", "The object was not found.")
        if method == "GET":
            return _json(200, subscription)
        if method == "PATCH":
            expiry = payload.get("expirationDateTime", "")
            if problem := _expiry_problem(expiry):
                return _error(400, "ExtensionError", problem)
            subscription["expirationDateTime"] = expiry
            return _json(200, subscription)
        if method == "DELETE":
            del self.subscriptions[subscription_id or ""]
            return Response(204)
        return _error(405, "MethodNotAllowed", method)

    def _create_subscription(self, payload: dict[str, Any]) -> Response:
        required = ("changeType", "notificationUrl", "resource", "expirationDateTime")
        if missing := [name for name in required if not payload.get(name)]:
            return _error(400, "InvalidRequest", f"missing {', '.join(missing)}")
        if problem := _expiry_problem(payload["expirationDateTime"]):
            return _error(400, "ExtensionError", problem)
        subscription = {**payload, "id": str(uuid.uuid4()), "applicationId": CLIENT_ID}
        self.subscriptions[subscription["id"]] = subscription
        return _json(201, subscription)


def _delta_item(message_id: str, *, removed: bool = False) -> dict[str, Any]:
    item: dict[str, Any] = {"@odata.type": "#microsoft.graph.message", "id": message_id}
    if removed:
        item["@removed"] = {"reason": "deleted"}
    return item


def _max_page_size(headers: dict[str, str]) -> int | None:
    match = re.search(r"odata\.maxpagesize=(\d+)", headers.get("prefer", ""))
    return int(match.group(1)) if match else None


def _expiry_problem(value: str) -> str | None:
    try:
        expiry = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return f"expirationDateTime is not a date: {value!r}"
    if expiry.tzinfo is None:
        expiry = expiry.replace(tzinfo=UTC)
    if expiry > datetime.now(UTC) + timedelta(minutes=MAX_SUBSCRIPTION_MINUTES):
        return f"Subscription expiration can only be {MAX_SUBSCRIPTION_MINUTES} minutes in the future."
    if expiry < datetime.now(UTC):
        return "Subscription expiration is in the past."
    return None


def _handler(graph: FakeGraph) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's pooled client expects
        disable_nagle_algorithm = True  # headers and body go out in two writes

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            response = graph.handle(self.command, self.path, headers, body)
            self.send_response(response.status)
            self.send_header("content-type", response.content_type)
            self.send_header("content-length", str(len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(response.body)

        do_GET = do_POST = do_PATCH = do_DELETE = _serve

        def log_message(self, *args: Any) -> None:
            pass

    return Handler
