"""What every PSA client does around one HTTP call, in one place: the wait before a retry, the
``Retry-After`` advice, an error body read leniently, a secret kept out of a message, and the log
line of the call (product, method, path, status or error, time, attempt, run and ticket)."""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx


def backoff(first: float, most: float, attempt: int) -> float:
    """Exponential from ``first``, capped at ``most``, with ±20 % jitter so retries do not align."""
    base = min(most, first * 2.0 ** (attempt - 1))
    return base * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not a secret


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds: a number, or an HTTP date; anything else is no advice."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (ValueError, TypeError):
        return None
    return max(0.0, parsed.timestamp() - time.time())


def json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json() if response.content else None
    except ValueError:
        return None


def url_path(url: str) -> str:
    return urlsplit(url).path


def scrub(text: str, secrets: Sequence[str]) -> str:
    """The text with every (non-empty) secret replaced by ***."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def log_call(
    log: logging.Logger,
    product: str,
    method: str,
    url: str,
    status: int | None,
    started: float,
    attempt: int,
    *,
    run_id: int | None,
    ticket_id: int | None,
    error: str | None = None,
) -> None:
    log.info(
        "%s %s %s -> %s in %d ms (attempt %d, run %s, ticket %s)",
        product,
        method,
        url_path(url),
        status if status is not None else error,
        int((time.monotonic() - started) * 1000),
        attempt,
        run_id if run_id is not None else "-",
        ticket_id if ticket_id is not None else "-",
        extra={"psa_run_id": run_id, "psa_ticket_id": ticket_id, "psa_status": status},
    )
