"""Correlation ids: taken from the request when well-formed, generated otherwise, on every log line."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

HEADER = "x-correlation-id"
_VALID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)


def current() -> str | None:
    return _current.get()


def accept_or_create(candidate: str | None) -> str:
    """The caller's id if it is safe to echo and log, else a fresh one."""
    if candidate and _VALID.fullmatch(candidate):
        return candidate
    return uuid.uuid4().hex


@contextmanager
def correlation_scope(correlation_id: str) -> Iterator[str]:
    token = _current.set(correlation_id)
    try:
        yield correlation_id
    finally:
        _current.reset(token)


def _stamp_records_with_correlation_id() -> None:
    """Every log record, from any logger or thread of a request, carries ``correlation_id``."""
    base_factory = logging.getLogRecordFactory()
    if getattr(base_factory, "stamps_correlation_id", False):
        return

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = base_factory(*args, **kwargs)
        record.correlation_id = current()
        return record

    # A marker on the function, so installing twice is noticed; a Callable's type declares no attributes.
    factory.stamps_correlation_id = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


_stamp_records_with_correlation_id()


class MessageSuffixFilter(logging.Filter):
    """Appends the correlation id to the message text: the Functions worker forwards the text to
    Application Insights, not custom record attributes."""

    def filter(self, record: logging.LogRecord) -> bool:
        correlation_id = getattr(record, "correlation_id", None)
        if correlation_id and not getattr(record, "_correlated", False):
            record.msg = f"{record.msg} [correlation_id={correlation_id}]"
            record._correlated = True
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line (dev host and CLI)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "correlation_id": getattr(record, "correlation_id", None),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def install_log_correlation(level: str = "INFO", *, json_lines: bool = False) -> None:
    """Put the correlation id on every log line: JSON lines locally, a message suffix in Azure."""
    root = logging.getLogger()
    root.setLevel(level)
    if json_lines and not root.handlers:
        root.addHandler(logging.StreamHandler())
    for handler in root.handlers:
        if json_lines:
            handler.setFormatter(JsonFormatter())
        elif not any(isinstance(f, MessageSuffixFilter) for f in handler.filters):
            handler.addFilter(MessageSuffixFilter())
