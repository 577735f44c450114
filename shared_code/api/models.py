"""The error shape every route shares."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable error code, e.g. not_found, invalid_request.")
    message: str = Field(description="What went wrong, for people; names the field for bad input.")
    details: Any = Field(None, description="Per-field problems for bad input, or other structured context.")


class ErrorBody(BaseModel):
    error: ErrorDetail
