"""Domain errors. Services raise these; the HTTP plumbing maps each to its status and error code."""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """An expected failure with a stable machine-readable code and a message for people."""

    code = "error"

    def __init__(self, message: str, *, details: Any = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        if code:
            self.code = code


class InvalidInput(AppError):
    """The request is well-formed but a value is not acceptable (names the field in details)."""

    code = "invalid_input"


class BadRequest(AppError):
    """The request cannot be read at all (e.g. JSON nested beyond any real payload)."""

    code = "invalid_request"


class NotFound(AppError):
    code = "not_found"


class NotAllowed(AppError):
    """The caller's role reaches the route, but not this row or field (e.g. someone else's post)."""

    code = "forbidden"


class Conflict(AppError):
    code = "conflict"


class UpstreamError(AppError):
    """A service we depend on (a PSA, Graph) failed or answered something unexpected."""

    code = "upstream_error"


class Unavailable(AppError):
    """A dependency is down for now; retrying later may work."""

    code = "unavailable"


class DatabaseUnavailable(Unavailable):
    """The database cannot be reached: health and every route answer this one error."""

    code = "database_unavailable"

    def __init__(
        self, message: str = "The database is unavailable; try again shortly.", **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
