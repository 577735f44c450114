"""One request through one route: authenticate, authorise, validate, call, serialise, map errors.

Every response carries ``x-correlation-id``; every error is
``{"error": {"code", "message", "details"}}``. Bad input is a 4xx naming the field, an
unexpected exception a 500 with the correlation id and nothing else (logged in full).
"""

from __future__ import annotations

import functools
import io
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel, ValidationError
from pydantic_core import from_json
from sqlalchemy.exc import DBAPIError

from shared_code import correlation, errors
from shared_code.api.auth import LOCAL_ADMIN, Authenticator, Forbidden, Principal, Role, Unauthorized
from shared_code.api.models import ErrorBody, ErrorDetail
from shared_code.api.routing import INTEGER_CONSTRAINTS, Call, RawResponse, Route
from shared_code.db.engine import UnitOfWork, database_outage, sqlstate
from shared_code.schema.uploads import UploadedFile

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

STATUS_OF: dict[type[errors.AppError], int] = {
    errors.BadRequest: 400,
    errors.InvalidInput: 422,
    errors.NotFound: 404,
    errors.NotAllowed: 403,
    errors.Conflict: 409,
    errors.UpstreamError: 502,
    errors.Unavailable: 503,
}
# Far above any real request: the largest API body (1,000 run ids, a 4,000-character note) is a few
# KB, and a Graph notification batch holds a few hundred notifications of about a KB each.
MAX_BODY_BYTES = 1024 * 1024
JSON_MEDIA_TYPE = "application/json"
MULTIPART_MEDIA_TYPE = "multipart/form-data"
MAX_MULTIPART_PARTS = 100  # far above any real upload (the settings allow 20 files at most)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RETRY_AFTER_SECONDS = 5  # what a 503 asks clients to wait
LOCK_NOT_AVAILABLE = "55P03"  # SQLSTATE of a lock wait given up (the connection's lock_timeout)


@dataclass
class ApiRequest:
    method: str
    path: str
    headers: Mapping[str, str]  # lower-case names
    params: Mapping[str, str] = field(default_factory=dict)
    route_params: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    repeated_params: tuple[str, ...] = ()  # query parameters given more than once


def query_params(url: str) -> tuple[dict[str, str], tuple[str, ...]]:
    """A URL's query parameters, and the names given more than once (each is single-valued here)."""
    params: dict[str, str] = {}
    repeated: dict[str, None] = {}
    for name, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        if name in params:
            repeated[name] = None
        params[name] = value
    return params, tuple(repeated)


@dataclass
class ApiResponse:
    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)


@functools.cache
def default_authenticator() -> Authenticator:
    from shared_code.config import get_settings

    return Authenticator(get_settings())


def handle(
    route: Route,
    request: ApiRequest,
    *,
    authenticator: Authenticator | None = None,
    session_factory: Callable[[], Session] | None = None,
    outbox: list[str] | None = None,
) -> ApiResponse:
    correlation_id = correlation.accept_or_create(request.headers.get(correlation.HEADER))
    with correlation.correlation_scope(correlation_id):
        response = _respond(route, request, authenticator, session_factory, outbox, correlation_id)
    response.headers[correlation.HEADER] = correlation_id
    # The site calls the API from another origin (the Static Web App): a browser hides every
    # response header but a few from its script unless the response exposes it. Azure's CORS
    # settings (allowedOrigins) cannot list exposed headers, so the app names it on every response.
    response.headers["Access-Control-Expose-Headers"] = correlation.HEADER
    return response


def _respond(
    route: Route,
    request: ApiRequest,
    authenticator: Authenticator | None,
    session_factory: Callable[[], Session] | None,
    outbox: list[str] | None,
    correlation_id: str,
) -> ApiResponse:
    work = UnitOfWork(session_factory)
    try:
        _refuse_oversized(route, request)
        principal = (authenticator or default_authenticator()).principal(
            request.headers.get("authorization"), route.role
        )
        _refuse_cross_site(route, request, principal)
        _refuse_wrong_media_type(route, request)
        _refuse_repeated_params(route, request)
        call = Call(
            principal=principal,
            path=_path_params(route, request.route_params),
            query=_validated(route.query_model, dict(request.params), "query"),
            body=_body(route, request.body),
            files=_files(route, request),
            correlation_id=correlation_id,
            headers=dict(request.headers),
            outbox=outbox if outbox is not None else [],
            params=dict(request.params),
            raw_body=request.body,
            work=work,
        )
        with work:
            result = route.handler(call)
        return _success(route, result)
    except Unauthorized as error:
        return error_response(
            401, "unauthorized", str(error), headers={"WWW-Authenticate": _challenge(error)}
        )
    except Forbidden as error:
        return error_response(403, "forbidden", str(error))
    except _BadInput as error:
        return error_response(error.status, error.code, error.message, error.details)
    except errors.AppError as error:
        status = next((s for cls, s in STATUS_OF.items() if isinstance(error, cls)), 400)
        return error_response(status, error.code, error.message, error.details)
    except DBAPIError as error:
        return _database_error(route, error, correlation_id)
    except Exception:
        return _internal_error(route, correlation_id)


def _internal_error(route: Route, correlation_id: str) -> ApiResponse:
    log.exception("unhandled error in %s %s", route.method, route.path)
    return error_response(
        500, "internal_error", f"Unexpected error; quote correlation id {correlation_id} when reporting it."
    )


def _database_error(route: Route, error: DBAPIError, correlation_id: str) -> ApiResponse:
    """Down or overloaded → 503; a constraint or concurrency clash the request lost → 409; else 500."""
    state = sqlstate(error)
    if error.connection_invalidated or state is None or state[:2] in {"08", "53", "57"}:
        database_outage.down(type(error.orig).__name__)
        unavailable = errors.DatabaseUnavailable()
        return error_response(503, unavailable.code, unavailable.message)
    if state == LOCK_NOT_AVAILABLE:
        log.info("lock wait given up in %s %s", route.method, route.path)
        return error_response(
            409, "busy", "Another request is changing the same data right now; retry in a moment."
        )
    if state[:2] == "23" or state in {"40001", "40P01"}:
        log.warning("database conflict in %s %s: SQLSTATE %s", route.method, route.path, state)
        return error_response(
            409,
            "conflict",
            "The change conflicts with the current data (a concurrent change?); reload and retry.",
        )
    return _internal_error(route, correlation_id)


def _challenge(error: Unauthorized) -> str:
    reason = str(error).replace('"', "'")
    if reason == "missing bearer token":
        return 'Bearer realm="backupchecks"'
    return f'Bearer realm="backupchecks", error="invalid_token", error_description="{reason}"'


class _BadInput(Exception):
    def __init__(
        self, status: int, message: str, details: Any = None, *, code: str = "invalid_request"
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.details, self.code = status, message, details, code


def body_limit(route: Route) -> int:
    """The largest body a route takes: an upload route's own limit, else the API's."""
    return route.upload.max_body_bytes() if route.upload is not None else MAX_BODY_BYTES


def _refuse_oversized(route: Route, request: ApiRequest) -> None:
    limit = body_limit(route)
    if len(request.body) > limit:
        raise _BadInput(413, f"Request body is larger than {limit} bytes.", code="payload_too_large")


def _refuse_cross_site(route: Route, request: ApiRequest, principal: Principal) -> None:
    """With auth off every caller is an admin, so a page on another site must not be able to
    make the browser send a change here (a no-preflight POST needs neither JSON nor a token)."""
    if principal is not LOCAL_ADMIN or request.method in SAFE_METHODS or route.role is Role.ANONYMOUS:
        return
    origin = request.headers.get("origin")
    cross_origin = origin is not None and urlsplit(origin).netloc != request.headers.get("host")
    if cross_origin or request.headers.get("sec-fetch-site") in {"cross-site", "same-site"}:
        raise Forbidden("cross-site requests are refused while authentication is off")


def _refuse_wrong_media_type(route: Route, request: ApiRequest) -> None:
    """A change is sent as JSON: any other media type (a form, text/plain) is what a page on
    another site can send without a CORS preflight. Upload routes take multipart/form-data only,
    which a page on another site could send too: the bearer token (or, with auth off,
    ``_refuse_cross_site``) is what stops that."""
    if request.method in SAFE_METHODS or route.role is Role.ANONYMOUS:
        return
    content_type = request.headers.get("content-type")
    if content_type is None and route.body is None and route.upload is None and not request.body:
        return
    media_type = (content_type or "").split(";")[0].strip().lower()
    expected = MULTIPART_MEDIA_TYPE if route.upload is not None else JSON_MEDIA_TYPE
    if media_type != expected:
        raise _BadInput(
            415,
            f"Request body must be sent as {expected} (content-type: {media_type[:60] or 'none'}).",
            [{"field": "header.content-type", "message": f"must be {expected}"}],
            code="unsupported_media_type",
        )


def _refuse_repeated_params(route: Route, request: ApiRequest) -> None:
    if not request.repeated_params:  # every parameter is single-valued, read by a model or not
        return
    names = [name[:60] for name in request.repeated_params[:10]]
    raise _BadInput(
        400,
        f"Query parameter given more than once: {', '.join(names)}",
        [{"field": f"query.{name}", "message": "given more than once"} for name in names],
    )


def _path_params(route: Route, raw: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, constraint in route.path_params.items():
        value = raw.get(name, "")
        if constraint in INTEGER_CONSTRAINTS:
            # Digits only: int() would also take " 1", "1\n", "+1", "1_0" and non-ASCII digits.
            if not (value.isascii() and value.isdigit()):
                raise errors.NotFound(f"no such {name}: {value!r}")
            number = int(value)
            if not 1 <= number <= INTEGER_CONSTRAINTS[constraint][1]:
                raise errors.NotFound(f"no such {name}: {number}")
            values[name] = number
        else:
            values[name] = value
    return values


def _body(route: Route, raw: bytes) -> Any:
    """Parsed and validated in one pass, strictly: ``true`` is not the id 1, ``"5"`` not the number 5.
    The JSON parser refuses nesting deeper than any real body (instead of exhausting the stack)."""
    model = route.body_model
    if model is None:
        # A route that takes no body still refuses one it cannot read; the anonymous webhooks
        # read theirs themselves (and name the field that is wrong), upload routes are multipart.
        if raw.strip() and route.role is not Role.ANONYMOUS and route.upload is None:
            try:
                from_json(raw)
            except ValueError as error:
                raise _BadInput(400, f"Request body is not valid JSON: {str(error)[:200]}") from None
        return None
    if raw.strip() in {b"", b"null"}:
        raise _BadInput(400, "Request body is required (JSON).", [{"field": "body", "message": "required"}])
    try:
        return model.model_validate_json(raw, strict=True)
    except ValidationError as error:
        unreadable = [item for item in error.errors(include_url=False) if item["type"] == "json_invalid"]
        if unreadable:
            raise _BadInput(400, f"Request body is not valid JSON: {unreadable[0]['msg']}") from None
        raise _invalid(error, "body") from None


def _files(route: Route, request: ApiRequest) -> list[UploadedFile]:
    """An upload route's files, from its multipart body (read whole: the size check came first).
    Every part must be a file under the route's field; anything else is refused by name."""
    if route.upload is None:
        return []
    from werkzeug.exceptions import RequestEntityTooLarge
    from werkzeug.formparser import MultiPartParser
    from werkzeug.http import parse_options_header

    field = route.upload.field
    _, options = parse_options_header(request.headers.get("content-type"))
    boundary = options.get("boundary", "")
    if not boundary or not boundary.isascii():
        raise _BadInput(
            400,
            "A multipart/form-data body needs the boundary in its content-type.",
            [{"field": "header.content-type", "message": "boundary missing"}],
        )
    parser = MultiPartParser(
        stream_factory=lambda *_args, **_kwargs: io.BytesIO(),
        max_form_memory_size=MAX_BODY_BYTES,
        max_form_parts=MAX_MULTIPART_PARTS,
    )
    try:
        fields, files = parser.parse(io.BytesIO(request.body), boundary.encode(), len(request.body))
    except (ValueError, RequestEntityTooLarge) as error:
        raise _BadInput(400, f"The multipart body cannot be read: {str(error)[:200]}") from None
    unexpected = [*fields, *(name for name in files if name != field)]
    if unexpected:
        names = [(name or "(unnamed)")[:60] for name in unexpected[:10]]
        raise _BadInput(
            400,
            f"Unexpected form field: {', '.join(names)} (send files under '{field}').",
            [{"field": f"body.{name}", "message": "unexpected field"} for name in names],
        )
    return [
        UploadedFile(name=part.filename or "", declared_type=part.content_type or "", data=part.stream.read())
        for part in files.getlist(field)
    ]


def _validated(model: type[BaseModel] | None, data: Any, where: str) -> Any:
    if model is None:
        return None
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise _invalid(error, where) from None


def _invalid(error: ValidationError, where: str) -> _BadInput:
    fields = [
        {
            "field": ".".join([where, *(str(part)[:60] for part in item["loc"])]),
            "message": item["msg"],
            "type": item["type"],
        }
        for item in error.errors(include_url=False, include_input=False)[:20]
    ]
    summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
    status = 400 if where == "query" else 422
    return _BadInput(status, f"Invalid {where}: {summary}", fields)


def _success(route: Route, result: BaseModel | RawResponse | None) -> ApiResponse:
    if isinstance(result, RawResponse):
        body = result.body.encode() if isinstance(result.body, str) else result.body
        return ApiResponse(result.status, body, result.content_type, dict(result.headers))
    if result is None:
        return ApiResponse(route.status if route.status != 200 else 204, b"", "application/json")
    return ApiResponse(route.status, result.model_dump_json(by_alias=True).encode(), "application/json")


def error_response(
    status: int, code: str, message: str, details: Any = None, *, headers: dict[str, str] | None = None
) -> ApiResponse:
    body = ErrorBody(error=ErrorDetail(code=code, message=message, details=details))
    extra = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else {}
    return ApiResponse(
        status, body.model_dump_json().encode(), "application/json", {**extra, **(headers or {})}
    )
