"""The one way to declare an HTTP route: path, method, least role, models; the plumbing does the rest.

    @api_route(bp, "GET", "runs/{run_id:int}", role=Role.VIEWER, response="shared_code.runs.details:RunDetail", tag="runs")
    def get_run(call: Call) -> RunDetail:
        from shared_code.runs.details import run_detail  # the service loads on the first call

        return run_detail(call.db, call.path["run_id"])

The decorator records the route in the route table (auth matrix, OpenAPI) and registers a
thin Azure Functions HTTP trigger that hands the request to ``shared_code.api.dispatch``.
"""

from __future__ import annotations

from collections.abc import Callable

import azure.functions as func

from shared_code.api.auth import Role
from shared_code.api.dispatch import ApiRequest, ApiResponse, handle, query_params
from shared_code.api.routing import Handler, ModelRef, Route, Upload, declare

QUEUE_CONNECTION = "AzureWebJobsStorage"


def api_route(
    bp: func.Blueprint,
    method: str,
    path: str,
    *,
    role: Role,
    tag: str,
    query: ModelRef | None = None,
    body: ModelRef | None = None,
    response: ModelRef | None = None,
    status: int = 200,
    raw_content_type: str | tuple[str, ...] | None = None,
    also_serves: tuple[str, ...] = (),
    errors: tuple[int, ...] = (),
    queue_output: str | None = None,
    upload: Upload | None = None,
) -> Callable[[Handler], Handler]:
    """Declare a route. Models are best named as "module:Class" and the services imported inside
    the handler, so that start-up loads neither (``tests/test_startup.py``). ``queue_output`` names
    a Storage queue the handler may put messages on (``call.outbox``); they are written by the
    host's output binding after the handler returns. ``upload`` makes it a multipart/form-data
    route: the files arrive as ``call.files``."""

    def decorate(handler: Handler) -> Handler:
        summary = (handler.__doc__ or handler.__name__).strip().splitlines()[0]
        route = declare(
            Route(
                name=handler.__name__,
                method=method,
                path=path,
                role=role,
                handler=handler,
                summary=summary,
                tag=tag,
                query=query,
                body=body,
                response=response,
                status=status,
                raw_content_type=raw_content_type,
                also_serves=also_serves,
                errors=errors,
                upload=upload,
            )
        )
        trigger = _trigger(route)
        if queue_output:
            trigger = bp.queue_output(
                arg_name="outbox", queue_name=queue_output, connection=QUEUE_CONNECTION
            )(_queue_writing_trigger(route))
        bp.function_name(route.name)(
            bp.route(route=route.host_path, methods=[method], auth_level=func.AuthLevel.ANONYMOUS)(trigger)
        )
        return handler

    return decorate


def named(name: str, doc: str, handler: Handler) -> Handler:
    """For routes declared in a loop: route names and summaries come from the handler, so each
    declared route gets its own."""
    handler.__name__, handler.__doc__ = name, doc
    return handler


def _trigger(route: Route) -> Callable[..., func.HttpResponse]:
    def http_trigger(req: func.HttpRequest) -> func.HttpResponse:
        return to_http_response(handle(route, to_api_request(req)))

    return http_trigger


def _queue_writing_trigger(route: Route) -> Callable[..., func.HttpResponse]:
    def http_trigger(req: func.HttpRequest, outbox: func.Out[list[str]]) -> func.HttpResponse:
        messages: list[str] = []
        response = handle(route, to_api_request(req), outbox=messages)
        if messages and response.status < 400:  # only what a committed request queued
            outbox.set(messages)
        return to_http_response(response)

    return http_trigger


def to_api_request(req: func.HttpRequest) -> ApiRequest:
    # From the URL, not req.params: that mapping keeps one value of a repeated parameter.
    params, repeated = query_params(req.url)
    return ApiRequest(
        method=req.method.upper(),
        path=req.url,
        headers={name.lower(): value for name, value in req.headers.items()},
        params=params,
        route_params=dict(req.route_params),
        body=req.get_body() or b"",
        repeated_params=repeated,
    )


def to_http_response(response: ApiResponse) -> func.HttpResponse:
    return func.HttpResponse(
        response.body, status_code=response.status, headers=response.headers, mimetype=response.content_type
    )
