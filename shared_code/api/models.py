"""Models every route shares: the error shape and the base classes for request/response bodies."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class RequestModel(BaseModel):
    """Request bodies and query strings: unknown fields are refused, so typos are not ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable error code, e.g. not_found, invalid_request.")
    message: str = Field(description="What went wrong, for people; names the field for bad input.")
    details: Any = Field(None, description="Per-field problems for bad input, or other structured context.")


class ErrorBody(BaseModel):
    error: ErrorDetail
