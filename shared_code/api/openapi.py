"""OpenAPI 3.1 document generated from the route table and the pydantic models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from shared_code.api.auth import Role
from shared_code.api.models import ErrorBody
from shared_code.api.routing import INTEGER_CONSTRAINTS, Route

REF_TEMPLATE = "#/components/schemas/{model}"
ERROR_TEXT = {
    400: "Malformed request or invalid query parameter (the field is named).",
    401: "No valid bearer token.",
    403: "The token lacks the role this operation needs.",
    404: "No such resource.",
    409: "Conflicts with the resource's current state.",
    413: "Request body larger than 1 MiB (an upload route: than its files may be together).",
    415: "A request that changes something must send application/json (an upload: multipart/form-data).",
    422: "Invalid request body (the field is named).",
    500: "Unexpected error; the body carries the correlation id.",
    502: "An upstream service (the PSA, Graph) failed.",
    503: "A dependency (e.g. the database) is unavailable.",
}
CORRELATION_HEADER = {
    "x-correlation-id": {
        "description": "Correlation id of this request (echoed when the request sent a valid one).",
        "schema": {"type": "string"},
    }
}


def build_document(routes: list[Route], *, title: str, version: str) -> dict[str, Any]:
    models = _models(routes)
    keyed, schemas = models_json_schema([(m, "validation") for m in models], ref_template=REF_TEMPLATE)
    refs = {model: keyed[(model, "validation")] for model in models}
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.openapi_path, {})[route.method.lower()] = _operation(route, refs, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": "Backup-report ingestion, Run Checks and PSA tickets. Roles are hierarchical: "
            "Admin ⊃ Operator ⊃ Viewer; `x-required-role` names the least role of each operation.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "Entra ID access token for the API app registration, with app roles.",
                }
            },
        },
    }


def _models(routes: list[Route]) -> list[type[BaseModel]]:
    found: dict[type[BaseModel], None] = {ErrorBody: None}
    for route in routes:
        for model in (
            route.query_model,
            route.body_model,
            route.response_model,
        ):  # query models too, for their $defs
            if model is not None:
                found[model] = None
    return list(found)


def _operation(route: Route, refs: dict[type[BaseModel], Any], schemas: dict[str, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": route.name,
        "summary": route.summary,
        "tags": [route.tag],
        "parameters": _path_parameters(route) + _query_parameters(route),
        "responses": _responses(route, refs),
        "x-required-role": route.role.claim,
        "security": [] if route.role is Role.ANONYMOUS else [{"bearerAuth": []}],
    }
    if (body := route.body_model) is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[body]}},
        }
    elif route.upload is not None:
        operation["requestBody"] = _upload_body(route)
    return operation


def _path_parameters(route: Route) -> list[dict[str, Any]]:
    parameters = []
    for name, constraint in route.path_params.items():
        schema: dict[str, Any] = {"type": "string"}
        if constraint in INTEGER_CONSTRAINTS:
            number_format, largest = INTEGER_CONSTRAINTS[constraint]
            schema = {"type": "integer", "format": number_format, "minimum": 1, "maximum": largest}
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    return parameters


def _query_parameters(route: Route) -> list[dict[str, Any]]:
    if route.query_model is None:
        return []
    schema = route.query_model.model_json_schema(ref_template=REF_TEMPLATE)
    required = set(schema.get("required", []))
    parameters = []
    for name, prop in schema.get("properties", {}).items():
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
        if "description" in prop:
            parameter["description"] = prop.pop("description")
        prop.pop("title", None)
        parameter["schema"] = prop
        parameters.append(parameter)
    return parameters


def _responses(route: Route, refs: dict[type[BaseModel], Any]) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    success: dict[str, Any] = {"description": route.summary, "headers": CORRELATION_HEADER}
    if (response := route.response_model) is not None:
        success["content"] = {"application/json": {"schema": refs[response]}}
    elif route.raw_content_type is not None:
        raw = route.raw_content_type
        media_types = (raw,) if isinstance(raw, str) else raw
        success["content"] = {media_type: {"schema": _raw_schema(media_type)} for media_type in media_types}
    for media_type in route.also_serves:
        success.setdefault("content", {})[media_type] = {"schema": {"type": "string"}}
    responses[str(_success_status(route))] = success
    for status in _error_statuses(route):
        responses[str(status)] = {
            "description": ERROR_TEXT[status],
            "headers": CORRELATION_HEADER,
            "content": {"application/json": {"schema": refs[ErrorBody]}},
        }
    return responses


def _raw_schema(media_type: str) -> dict[str, Any]:
    if media_type == "application/json":
        return {"type": "object"}
    if media_type.startswith("image/"):
        return {"type": "string", "contentMediaType": media_type}
    return {"type": "string"}


def _upload_body(route: Route) -> dict[str, Any]:
    field = route.upload.field if route.upload is not None else "files"
    return {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        field: {
                            "type": "array",
                            "items": {"type": "string", "contentMediaType": "application/octet-stream"},
                        }
                    },
                    "required": [field],
                }
            }
        },
    }


def _success_status(route: Route) -> int:
    if route.response is None and route.raw_content_type is None and route.status == 200:
        return 204
    return route.status


def _error_statuses(route: Route) -> list[int]:
    statuses = {500, 503, *route.errors}
    if route.role is not Role.ANONYMOUS:
        statuses |= {401, 403}
    if route.query is not None or route.body is not None or route.upload is not None:
        statuses.add(400)
    if route.body is not None or route.upload is not None:
        statuses.add(422)
    if route.method not in {"GET", "HEAD"}:
        statuses.add(413)
        if route.role is not Role.ANONYMOUS:
            statuses.add(415)
    if route.path_params:
        statuses.add(404)
    return sorted(statuses)
