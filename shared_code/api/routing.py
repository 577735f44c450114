"""The route table: every HTTP route's method, path, least role and models, declared once.

``functions/http.py`` declares routes into ``ROUTES`` as it registers them with the
Functions host; the dispatcher, the auth-matrix test and the OpenAPI document all read it.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from shared_code.api.auth import Principal, Role
from shared_code.db.engine import UnitOfWork
from shared_code.schema.uploads import UploadedFile

# Functions route templates: {name} or {name:constraint}; int and long are the typed ones we use.
_PARAM = re.compile(r"\{(\w+)(?::(\w+))?\}")
# The Functions host's integer route constraints, their OpenAPI format and largest value (ids start at 1).
INTEGER_CONSTRAINTS = {"int": ("int32", 2**31 - 1), "long": ("int64", 2**63 - 1)}


@dataclass
class Call:
    """What a handler gets: who calls, the validated inputs, and the request's unit of work."""

    principal: Principal
    path: dict[str, Any]
    query: Any
    body: Any
    correlation_id: str
    headers: dict[str, str]
    outbox: list[str] = field(default_factory=list)
    # An upload route's files (Route.upload), as sent: only their bytes may be trusted.
    files: list[UploadedFile] = field(default_factory=list)
    # The request as sent, for the few routes that read it themselves (Graph's webhooks).
    params: dict[str, str] = field(default_factory=dict)
    raw_body: bytes = b""
    # The request's transaction, owned by the dispatcher (committed after the handler returns).
    work: UnitOfWork = field(default_factory=UnitOfWork)

    @property
    def db(self) -> Session:
        return self.work.session

    @property
    def actor(self) -> str:
        return self.principal.name


@dataclass(frozen=True)
class RawResponse:
    """A response that is not a JSON model (e.g. Graph's text/plain validation echo)."""

    body: bytes | str = b""
    status: int = 200
    content_type: str = "text/plain"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Upload:
    """A route that takes files instead of JSON: a multipart/form-data body whose parts are all
    files under ``field``. ``max_body_bytes`` bounds the whole body; it is asked on each call, so
    that it can come from the settings without start-up reading them."""

    max_body_bytes: Callable[[], int]
    field: str = "files"


Handler = Callable[[Call], BaseModel | RawResponse | None]
# A request or response model: the class, "module:Class" (imported on the route's first call or by
# the OpenAPI document, so that start-up imports no service), or a function that returns it.
ModelRef = type[BaseModel] | str | Callable[[], type[BaseModel]]


def resolve_model(ref: ModelRef | None) -> type[BaseModel] | None:
    if ref is None or isinstance(ref, type):
        return ref
    if isinstance(ref, str):
        module, _, name = ref.partition(":")
        model: type[BaseModel] = getattr(importlib.import_module(module), name)
        return model
    return ref()


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: str  # the Functions route, without the /api prefix
    role: Role
    handler: Handler
    summary: str
    tag: str
    query: ModelRef | None = None
    body: ModelRef | None = None
    response: ModelRef | None = None
    status: int = 200
    # for RawResponse routes: the success body's media type (or the several it may have)
    raw_content_type: str | tuple[str, ...] | None = None
    # Other media types a JSON route's success may come as (e.g. a ``format`` query parameter's CSV)
    also_serves: tuple[str, ...] = ()
    upload: Upload | None = None  # a multipart/form-data route (files), not JSON
    errors: tuple[int, ...] = ()  # statuses beyond the ones every route can answer

    @functools.cached_property
    def query_model(self) -> type[BaseModel] | None:
        return resolve_model(self.query)

    @functools.cached_property
    def body_model(self) -> type[BaseModel] | None:
        return resolve_model(self.body)

    @functools.cached_property
    def response_model(self) -> type[BaseModel] | None:
        return resolve_model(self.response)

    @property
    def path_params(self) -> dict[str, str | None]:
        return {name: constraint for name, constraint in _PARAM.findall(self.path)}

    @property
    def host_path(self) -> str:
        """The route as registered with the Functions host: without type constraints, so every value
        reaches the dispatcher, which answers a malformed id with the API's 404 (the host's own
        404 for an unmatched constraint has no body)."""
        return _PARAM.sub(lambda m: "{" + m.group(1) + "}", self.path)

    @property
    def openapi_path(self) -> str:
        return "/api/" + self.host_path


ROUTES: list[Route] = []


def declare(route: Route) -> Route:
    if any(r.method == route.method and r.path == route.path for r in ROUTES):
        raise ValueError(f"route declared twice: {route.method} {route.path}")
    if any(r.name == route.name for r in ROUTES):
        raise ValueError(f"route name declared twice: {route.name}")
    ROUTES.append(route)
    return route
