"""A local stand-in for the Functions host (the one shared_code module that imports azure.functions).

It loads the real ``function_app.app`` and runs its functions as declared: HTTP triggers by
route and method under ``/api``; queue output bindings handed to the matching queue-triggered
functions in-process, retried up to host.json's ``maxDequeueCount`` after its
``visibilityTimeout`` (scaled by ``visibility_scale``: 0 in tests, a tenth when serving) and then
moved to ``<queue>-poison``; timer functions on demand; ``web/`` served as static files. It is a
WSGI application, so tests (and schemathesis) call it in-process and ``serve()`` puts it on a port
behind waitress (multi-threaded; it answers malformed HTTP itself and de-chunks bodies).
"""

from __future__ import annotations

import functools
import importlib
import json
import logging
import math
import mimetypes
import re
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import azure.functions as func
from azure.functions.queue import QueueMessage
from azure.functions.timer import TimerRequest

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_HOST_MAX_BODY_BYTES = 100 * 1024 * 1024  # the Functions host's default request size limit


@dataclass
class HostSettings:
    """What the dev host honours from host.json."""

    route_prefix: str = "api"
    max_dequeue_count: int = 5
    visibility_timeout: float = 0.0  # seconds a failed message stays invisible before its retry

    @classmethod
    def from_host_json(cls, path: Path) -> HostSettings:
        config = json.loads(path.read_text())
        extensions = config.get("extensions", {})
        queues = extensions.get("queues", {})
        return cls(
            route_prefix=extensions.get("http", {}).get("routePrefix", "api"),
            max_dequeue_count=int(queues.get("maxDequeueCount", 5)),
            visibility_timeout=_seconds(queues.get("visibilityTimeout", "00:00:00")),
        )


def _seconds(timespan: str) -> float:
    """A host.json timespan, ``hh:mm:ss``, in seconds."""
    hours, minutes, seconds = timespan.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


@dataclass
class HttpFunction:
    name: str
    methods: set[str]
    pattern: re.Pattern[str]
    call: Callable[..., Any]
    trigger_arg: str
    outputs: dict[str, str]  # arg name -> queue name


@dataclass
class QueueFunction:
    name: str
    queue: str
    call: Callable[..., Any]
    trigger_arg: str
    outputs: dict[str, str]


@dataclass
class DevResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class QueuedMessage:
    body: str
    dequeue_count: int = 0
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    visible_at: float = 0.0  # time.monotonic() from which it may be dequeued again


class _Out(func.Out):
    def __init__(self) -> None:
        self.value: Any = None

    def set(self, val: Any) -> None:
        self.value = val

    def get(self) -> Any:
        return self.value


def _route_regex(route: str) -> re.Pattern[str]:
    """A Functions route template as a regex ({name}, {name:int|long}, {*rest})."""
    pattern, position = "", 0
    for match in re.finditer(r"\{(\*?)(\w+)(?::(\w+))?\??\}", route):
        pattern += re.escape(route[position : match.start()])
        star, name, constraint = match.groups()
        if star:
            pattern += f"(?P<{name}>.*)"
        elif constraint in {"int", "long"}:
            pattern += f"(?P<{name}>-?[0-9]+)"
        else:
            pattern += f"(?P<{name}>[^/]+)"
        position = match.end()
    return re.compile(pattern + re.escape(route[position:]), re.IGNORECASE)


SITE_CONFIG = "staticwebapp.config.json"  # Azure Static Web Apps' configuration of the site


class DevHost:
    def __init__(
        self,
        app: func.FunctionApp | None = None,
        *,
        root: Path = ROOT,
        host_settings: HostSettings | None = None,
        visibility_scale: float = 0.0,
        cors_origins: tuple[str, ...] = (),
    ) -> None:
        self.app = app or importlib.import_module("function_app").app
        self.settings = host_settings or HostSettings.from_host_json(root / "host.json")
        self.retry_delay = self.settings.visibility_timeout * visibility_scale
        self.web_root = root / "web"
        # As the function app's CORS setting (siteConfig.cors.allowedOrigins) does in Azure: the
        # platform answers the preflight and allows these origins; the app adds what it exposes.
        self.cors_origins = cors_origins
        self.http: list[HttpFunction] = []
        self.queue_functions: dict[str, QueueFunction] = {}
        self.timers: dict[str, Callable[..., Any]] = {}
        self.queues: dict[str, deque[QueuedMessage]] = defaultdict(deque)
        self._queue_lock = threading.RLock()
        self._index()

    # --- indexing -----------------------------------------------------------------------------------

    def _index(self) -> None:
        for function in _functions_of(self.app):
            trigger = function.get_trigger()
            outputs = {
                b.name: b.queue_name
                for b in function.get_bindings()
                if b.type == "queue" and b.direction == 1
            }
            user_function = function.get_user_function()
            name = function.get_function_name()
            if trigger.type == "httpTrigger":
                methods = {str(getattr(m, "value", m)).upper() for m in (trigger.methods or ["GET", "POST"])}
                self.http.append(
                    HttpFunction(
                        name,
                        methods,
                        _route_regex(trigger.route or name),
                        user_function,
                        trigger.name,
                        outputs,
                    )
                )
            elif trigger.type == "queueTrigger":
                self.queue_functions[trigger.queue_name] = QueueFunction(
                    name, trigger.queue_name, user_function, trigger.name, outputs
                )
            elif trigger.type == "timerTrigger":
                self.timers[name] = lambda f=user_function, arg=trigger.name: f(
                    **{arg: TimerRequest(past_due=False)}
                )

    # --- HTTP -----------------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        body: bytes | str | dict[str, Any] | list[Any] | None = None,
    ) -> DevResponse:
        """One HTTP request, in-process. ``path`` may carry a query string."""
        raw_path, _, query = path.partition("?")
        return self._route(method, raw_path, query, headers=headers, body=body)

    def _route(
        self,
        method: str,
        raw_path: str,
        query: str,
        *,
        headers: dict[str, str] | None = None,
        body: bytes | str | dict[str, Any] | list[Any] | None = None,
    ) -> DevResponse:
        if isinstance(body, dict | list):
            body = json.dumps(body)
            headers = {"content-type": "application/json", **(headers or {})}
        data = body.encode() if isinstance(body, str) else (body or b"")
        prefix = "/" + self.settings.route_prefix.strip("/") + "/"
        origin = (headers or {}).get("origin")
        if raw_path.startswith(prefix) and origin and origin in self.cors_origins:
            return self._cross_origin(origin, method, raw_path[len(prefix) :], query, headers or {}, data)
        if raw_path.startswith(prefix):
            return self._invoke_http(method.upper(), raw_path[len(prefix) :], query, headers or {}, data)
        if method.upper() in {"GET", "HEAD"}:
            return self._static(raw_path)
        return DevResponse(404, {"content-type": "text/plain"}, b"not found")

    def _invoke_http(
        self, method: str, route: str, query: str, headers: dict[str, str], body: bytes
    ) -> DevResponse:
        matched = [(f, m) for f in self.http if (m := f.pattern.fullmatch(route))]
        allowed = [(f, m) for f, m in matched if method in f.methods]
        if not allowed and matched:  # a 405 names the methods the path takes (RFC 9110 §15.5.6)
            methods = ", ".join(sorted({m for f, _ in matched for m in f.methods}))
            return DevResponse(405, {"content-type": "text/plain", "allow": methods}, b"")
        if not allowed:  # as the Functions host answers: no function for this path
            return DevResponse(404, {"content-type": "text/plain"}, b"")
        function, match = allowed[0]
        request = func.HttpRequest(
            method,
            f"http://localhost/{self.settings.route_prefix}/{route}" + (f"?{query}" if query else ""),
            headers=headers,
            params=dict(parse_qsl(query, keep_blank_values=True)),
            route_params={k: v for k, v in match.groupdict().items() if v is not None},
            body=body,
        )
        outputs = {name: _Out() for name in function.outputs}
        response: func.HttpResponse = function.call(**{function.trigger_arg: request}, **outputs)
        self._enqueue_outputs(function.outputs, outputs)
        headers = {
            "content-type": f"{response.mimetype}; charset={response.charset}",
            **dict(response.headers),
        }
        return DevResponse(response.status_code, headers, response.get_body())

    def _cross_origin(
        self, origin: str, method: str, route: str, query: str, headers: dict[str, str], body: bytes
    ) -> DevResponse:
        allow = {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
        if method.upper() == "OPTIONS" and "access-control-request-method" in headers:
            return DevResponse(
                204,
                {
                    **allow,
                    "Access-Control-Allow-Methods": headers["access-control-request-method"],
                    "Access-Control-Allow-Headers": headers.get("access-control-request-headers", ""),
                },
                b"",
            )
        response = self._invoke_http(method.upper(), route, query, headers, body)
        return DevResponse(response.status, {**response.headers, **allow}, response.body)

    def _static(self, path: str) -> DevResponse:
        """A file of the site, with the headers the static site's configuration gives every response
        in Azure (the Content-Security-Policy among them). Without a config.json (no deployment
        wrote one) the site is told to sign in nowhere: ``{}``, rather than a 404 in the console."""
        headers = self._site_headers()
        relative = path.lstrip("/") or "index.html"
        if "\x00" in relative:
            return DevResponse(404, {"content-type": "text/plain", **headers}, b"not found")
        target = (self.web_root / relative).resolve()
        if relative == "config.json" and not target.is_file():
            return DevResponse(
                200, {"content-type": "application/json", "cache-control": "no-cache", **headers}, b"{}"
            )
        if self.web_root.resolve() not in target.parents or not target.is_file():
            return DevResponse(404, {"content-type": "text/plain", **headers}, b"not found")
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return DevResponse(
            200, {"content-type": content_type, "cache-control": "no-cache", **headers}, target.read_bytes()
        )

    def _site_headers(self) -> dict[str, str]:
        config = self.web_root / SITE_CONFIG
        if not config.is_file():
            return {}
        headers: dict[str, str] = json.loads(config.read_text()).get("globalHeaders", {})
        return headers

    # --- queues ---------------------------------------------------------------------------------------

    def _enqueue_outputs(self, bindings: dict[str, str], outputs: dict[str, _Out]) -> None:
        for name, queue in bindings.items():
            value = outputs[name].get()
            if value is None:
                continue
            for message in value if isinstance(value, list) else [value]:
                self.enqueue(queue, message if isinstance(message, str) else json.dumps(message))

    def enqueue(self, queue: str, body: str) -> None:
        with self._queue_lock:
            self.queues[queue].append(QueuedMessage(body))

    def poison(self, queue: str) -> list[str]:
        return [m.body for m in self.queues[f"{queue}-poison"]]

    def drain(self, max_messages: int = 100_000, *, wait_for_retries: bool = True) -> int:
        """Run queue-triggered functions until their queues are empty; returns messages handled.

        A failing message is retried (its dequeue count rising) after the visibility delay, until
        maxDequeueCount, then moved to ``<queue>-poison``, as the Functions host does."""
        handled = 0
        while handled < max_messages:
            item, wait = self._next_message()
            if item is None:
                if wait is None or not wait_for_retries:
                    return handled
                time.sleep(wait)
                continue
            function, message = item
            self._deliver(function, message)
            handled += 1
        return handled

    def _next_message(self) -> tuple[tuple[QueueFunction, QueuedMessage] | None, float | None]:
        """A visible message, else how long until the next one becomes visible (None: queues empty)."""
        now, wait = time.monotonic(), None
        with self._queue_lock:
            for queue, function in self.queue_functions.items():
                for message in self.queues[queue]:
                    if message.visible_at <= now:
                        self.queues[queue].remove(message)
                        return (function, message), None
                    wait = min(wait or math.inf, message.visible_at - now)
        return None, wait

    def _deliver(self, function: QueueFunction, message: QueuedMessage) -> None:
        message.dequeue_count += 1
        outputs = {name: _Out() for name in function.outputs}
        trigger = QueueMessage(id=message.id, body=message.body.encode(), dequeue_count=message.dequeue_count)
        try:
            function.call(**{function.trigger_arg: trigger}, **outputs)
        except Exception as error:  # the host's behaviour: retry, then poison
            log.warning(
                "queue function %s failed (attempt %d of %d): %s",
                function.name,
                message.dequeue_count,
                self.settings.max_dequeue_count,
                error,
            )
            destination = function.queue
            if message.dequeue_count >= self.settings.max_dequeue_count:
                destination = f"{function.queue}-poison"
            else:
                message.visible_at = time.monotonic() + self.retry_delay
            with self._queue_lock:
                self.queues[destination].append(message)
            return
        self._enqueue_outputs(function.outputs, outputs)

    # --- timers ---------------------------------------------------------------------------------------

    def run_timer(self, name: str) -> None:
        if name not in self.timers:
            raise KeyError(f"no timer function {name!r}; known: {', '.join(sorted(self.timers)) or 'none'}")
        self.timers[name]()

    # --- WSGI and serving -----------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        # The WSGI server has checked Content-Length and de-chunked the body; read it all.
        body = environ["wsgi.input"].read()
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        # PATH_INFO is already decoded: a "?" in it came as %3F and belongs to the path, not the query.
        path, query = environ.get("PATH_INFO", "/"), environ.get("QUERY_STRING", "")
        response = self._route(environ["REQUEST_METHOD"], path, query, headers=headers, body=body)
        reason = _reason(response.status)
        start_response(f"{response.status} {reason}", list(response.headers.items()))
        return [response.body]

    def server(self, host: str = "127.0.0.1", port: int = 7071, *, threads: int = 16) -> Any:
        """A waitress server for this host, bound and ready for ``run()`` (and ``close()``)."""
        from waitress import create_server

        # Bodies above a route's limit are refused by the dispatcher; waitress stops where the
        # Functions host does (100 MB), above the largest route limit (a screenshot upload).
        return create_server(
            self,
            host=host,
            port=port,
            threads=threads,
            max_request_body_size=FUNCTIONS_HOST_MAX_BODY_BYTES,
            backlog=1024,
            # Idle or half-open connections (a client that sent part of a request and stopped) are
            # dropped after 15 s, and 150 of them no longer fill waitress's default limit of 100.
            connection_limit=1000,
            channel_timeout=15,
            cleanup_interval=5,
            ident="backupchecks-devhost",
            clear_untrusted_proxy_headers=True,
        )

    def serve(self, host: str = "127.0.0.1", port: int = 7071) -> None:
        self.run(self.server(host, port))

    def run(self, server: Any) -> None:
        """Serve on a bound server, with the queue worker delivering what functions enqueue."""
        threading.Thread(target=self._queue_worker, name="devhost-queues", daemon=True).start()
        log.info(
            "dev host listening on %s (API under /%s)", server.effective_host, self.settings.route_prefix
        )
        server.run()

    def _queue_worker(self) -> None:
        while True:
            if not self.drain(max_messages=100, wait_for_retries=False):
                time.sleep(0.2)


@functools.cache
def _functions_of(app: func.FunctionApp) -> list[Any]:
    """The app's functions; the SDK refuses a second ``get_functions()`` on the same app."""
    return app.get_functions()


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"
