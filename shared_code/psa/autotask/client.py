"""The Autotask REST transport: one httpx client with the zone, the headers, retries and errors.

- The API URL is configured, or discovered from the user name
  (``GET {lookup}/V1.0/zoneInformation?user=``), cached per process and discovered once more
  when Autotask answers 401, which is what a database moved to another zone answers.
- Errors (``{"errors": [...]}``, often with HTTP 500 even for validation errors and thread
  limits) become the provider's typed errors carrying Autotask's own texts.
- 429, 5xx without validation texts and thread-limit errors are retried with backoff within a
  bounded time budget, honouring ``Retry-After``. A create (``idempotent=False``) is retried only
  when Autotask certainly did not process it (429, thread limit, connection refused, 401 before a
  zone change); otherwise it raises ``PsaOutcomeUnknown`` and the caller looks before creating.
- Autotask allows 3 concurrent requests per tracking identifier and endpoint: a per-process
  semaphore per endpoint keeps to that.
- Every call is logged (method, path, status, duration, attempt, run, ticket); the correlation
  id is stamped on every record by the app's log setup. The secret is never logged and is
  scrubbed from every error text.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr

from shared_code.psa import calls
from shared_code.psa import provider as psa
from shared_code.psa.autotask import filters as at_filters

log = logging.getLogger(__name__)

DEFAULT_ZONE_LOOKUP_URL = "https://webservices.autotask.net/ATServicesRest"
API_VERSION = "V1.0"
MAX_RECORDS = 500
CONCURRENT_PER_ENDPOINT = 3
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
# Autotask reports its thread and request limits as errors texts, often with HTTP 500.
_LIMIT_TEXTS = ("thread", "threshold", "rate limit", "too many requests", "request limit")


@dataclass(frozen=True)
class Credentials:
    username: str
    integration_code: str  # the API tracking identifier
    secret: SecretStr


@dataclass(frozen=True)
class Zone:
    api_url: str  # .../ATServicesRest/V1.0
    web_url: str | None
    name: str | None
    discovered: bool


@dataclass(frozen=True)
class RetryPolicy:
    budget_seconds: float = 20.0  # all attempts and waits of one call
    first_backoff: float = 0.5
    max_backoff: float = 8.0


_zones: dict[tuple[str, str], Zone] = {}
_endpoint_slots: dict[tuple[str, str], threading.Semaphore] = {}
_shared_lock = threading.Lock()


def forget_zones() -> None:
    """Drops every discovered zone (tests; a new process starts without any)."""
    with _shared_lock:
        _zones.clear()


class AutotaskClient:
    def __init__(
        self,
        credentials: Credentials,
        *,
        api_url: str | None = None,
        zone_lookup_url: str = DEFAULT_ZONE_LOOKUP_URL,
        timeout_seconds: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not (
            credentials.username and credentials.integration_code and credentials.secret.get_secret_value()
        ):
            raise psa.PsaNotConfigured("The Autotask user name, tracking identifier and secret are required.")
        self.credentials = credentials
        self._configured = _api_root(api_url) if api_url else None
        self._lookup = zone_lookup_url.rstrip("/")
        self._retry = retry or RetryPolicy()
        self._sleep, self._clock = sleep, clock
        self._http = httpx.Client(timeout=httpx.Timeout(timeout_seconds, connect=min(10.0, timeout_seconds)))

    def close(self) -> None:
        self._http.close()

    # --- zone -----------------------------------------------------------------------------------

    def zone(self) -> Zone:
        if self._configured:
            return Zone(self._configured, None, None, discovered=False)
        key = (self._lookup, self.credentials.username.lower())
        with _shared_lock:
            cached = _zones.get(key)
        if cached:
            return cached
        zone = self._discover()
        with _shared_lock:
            _zones[key] = zone
        return zone

    def _discover(self) -> Zone:
        url = f"{self._lookup}/{API_VERSION}/zoneInformation"
        started = time.monotonic()
        try:
            response = self._http.get(url, params={"user": self.credentials.username})
        except httpx.HTTPError as error:
            raise psa.PsaUnreachable(
                f"The Autotask zone lookup at {self._lookup} did not answer: {_kind(error)}"
            ) from None
        log.info("Autotask zone lookup -> %s in %d ms", response.status_code, _ms(started))
        body = calls.json_or_none(response)
        texts = self._texts(body)
        if response.status_code in (429, 502, 503, 504):
            raise psa.PsaUnavailable(
                _message(f"The Autotask zone lookup at {self._lookup} is unavailable", response, texts),
                messages=texts,
                status=response.status_code,
            )
        if response.status_code != 200 or not isinstance(body, dict) or not body.get("url"):
            raise psa.PsaAuthError(
                f"Autotask found no zone for user {self.credentials.username!r}"
                + (f": {'; '.join(texts)}" if texts else f" (HTTP {response.status_code})"),
                messages=texts,
                status=response.status_code,
            )
        return Zone(_api_root(str(body["url"])), body.get("webUrl"), body.get("zoneName"), discovered=True)

    def _forget_zone(self) -> None:
        with _shared_lock:
            _zones.pop((self._lookup, self.credentials.username.lower()), None)

    # --- requests -------------------------------------------------------------------------------

    def get(self, path: str, *, ticket_id: int | None = None) -> Any:
        return self.request("GET", path, ticket_id=ticket_id)

    def get_item(self, entity: str, item_id: int, *, ticket_id: int | None = None) -> dict[str, Any] | None:
        """``GET /{entity}/{id}``: a 404 or a null ``item`` both mean there is no such record."""
        try:
            body = self.request("GET", f"/{entity}/{item_id}", ticket_id=ticket_id)
        except psa.PsaNotFound:
            return None
        item = body.get("item") if isinstance(body, dict) else None
        return item if isinstance(item, dict) else None

    def query(
        self,
        entity: str,
        filters: Sequence[at_filters.Filter],
        *,
        include_fields: Sequence[str] = (),
        limit: int | None = None,
        ticket_id: int | None = None,
    ) -> list[dict[str, Any]]:
        """Every record matching ``filters`` (paged, long ``in`` lists split), up to ``limit``."""
        at_filters.validate(filters)
        rows: list[dict[str, Any]] = []
        seen: set[Any] = set()
        for filter_set in at_filters.split_long_in_lists(filters):
            body: dict[str, Any] = {
                "MaxRecords": min(MAX_RECORDS, limit or MAX_RECORDS),
                "filter": [item.to_json() for item in filter_set],
            }
            if include_fields:
                body["IncludeFields"] = list(include_fields)
            target = f"/{entity}/query"
            while target:
                page = self.request("POST", target, json=body, ticket_id=ticket_id)
                for row in page.get("items") or []:
                    key = row.get("id", id(row))
                    if key not in seen:
                        seen.add(key)
                        rows.append(row)
                if limit is not None and len(rows) >= limit:
                    return rows[:limit]
                target = (page.get("pageDetails") or {}).get("nextPageUrl") or ""
        return rows

    def request(
        self,
        method: str,
        target: str,
        *,
        json: Any = None,
        idempotent: bool = True,
        ticket_id: int | None = None,
    ) -> Any:
        """One call: ``target`` is a path under the API root or a URL Autotask gave (next pages)."""
        deadline = self._clock() + self._retry.budget_seconds
        attempt = 0
        zone_refreshed = False
        while True:
            attempt += 1
            zone = self.zone()
            url = self._url(zone, target)
            started = time.monotonic()
            try:
                with _endpoint_slot(self.credentials.integration_code, target):
                    response = self._http.request(method, url, json=json, headers=self._headers())
            except httpx.HTTPError as error:
                self._log(method, url, None, started, attempt, ticket_id, error=_kind(error))
                not_sent = isinstance(error, httpx.ConnectError)
                if not idempotent and not not_sent:
                    raise psa.PsaOutcomeUnknown(
                        f"Autotask did not answer {method} {calls.url_path(url)} ({_kind(error)}); it may have been stored."
                    ) from None
                wait = self._backoff(attempt)
                if self._clock() + wait > deadline:
                    raise psa.PsaUnreachable(
                        f"Autotask at {urlsplit(url).netloc} did not answer: {_kind(error)}"
                    ) from None
                self._sleep(wait)
                continue
            self._log(method, url, response.status_code, started, attempt, ticket_id)
            if response.status_code == 401 and zone.discovered and not zone_refreshed:
                # A database moved to another zone answers 401 at the old one: look it up again.
                zone_refreshed = True
                self._forget_zone()
                continue
            body = calls.json_or_none(response)
            if 200 <= response.status_code < 300:
                return body if body is not None else {}
            texts = self._texts(body)
            if self._retryable(response.status_code, texts):
                if not idempotent and not _rejected_unprocessed(response.status_code, texts):
                    raise psa.PsaOutcomeUnknown(
                        _message(
                            f"Autotask failed {method} {calls.url_path(url)}; it may have been stored",
                            response,
                            texts,
                        ),
                        messages=texts,
                        status=response.status_code,
                    )
                wait = calls.retry_after_seconds(response.headers.get("retry-after")) or self._backoff(
                    attempt
                )
                if self._clock() + wait <= deadline:
                    self._sleep(wait)
                    continue
                raise psa.PsaUnavailable(
                    _message("Autotask is busy or failing; try again later", response, texts),
                    messages=texts,
                    status=response.status_code,
                )
            raise _error_for(method, url, response, texts)

    # --- plumbing ---------------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {
            "ApiIntegrationCode": self.credentials.integration_code,
            "UserName": self.credentials.username,
            "Secret": self.credentials.secret.get_secret_value(),
            "Accept": "application/json",
        }

    def _url(self, zone: Zone, target: str) -> str:
        if not target.startswith(("http://", "https://")):
            return f"{zone.api_url}{target}"
        # Only ever send the credentials back to the zone's own host.
        if urlsplit(target).netloc.lower() != urlsplit(zone.api_url).netloc.lower():
            raise psa.PsaError(
                f"Autotask gave a page URL on another host ({urlsplit(target).netloc}); not followed."
            )
        return target

    def _retryable(self, status: int, texts: list[str]) -> bool:
        if status == 429 or status in (502, 503, 504):
            return True
        # A 500 with texts is usually a validation error (permanent), unless the texts speak of limits.
        return status == 500 and (not texts or _mentions_limit(texts))

    def _backoff(self, attempt: int) -> float:
        return calls.backoff(self._retry.first_backoff, self._retry.max_backoff, attempt)

    def _texts(self, body: Any) -> list[str]:
        secret = self.credentials.secret.get_secret_value()
        return [calls.scrub(text, (secret,)) for text in _error_texts(body)]

    def _log(
        self,
        method: str,
        url: str,
        status: int | None,
        started: float,
        attempt: int,
        ticket_id: int | None,
        *,
        error: str | None = None,
    ) -> None:
        calls.log_call(
            log,
            "Autotask",
            method,
            url,
            status,
            started,
            attempt,
            run_id=psa.current_run_id(),
            ticket_id=ticket_id,
            error=error,
        )


def _endpoint_slot(integration_code: str, target: str) -> threading.Semaphore:
    segments = [part.lower() for part in calls.url_path(target).split("/") if part]
    version = API_VERSION.lower()
    endpoint = segments[segments.index(version) + 1] if version in segments[:-1] else segments[0]
    key = (integration_code, endpoint)
    with _shared_lock:
        slot = _endpoint_slots.get(key)
        if slot is None:
            slot = _endpoint_slots[key] = threading.Semaphore(CONCURRENT_PER_ENDPOINT)
    return slot


def _api_root(url: str) -> str:
    """``https://webservicesN.autotask.net/ATServicesRest/`` (or with ``/V1.0``) → ``…/ATServicesRest/V1.0``."""
    root = url.strip().rstrip("/")
    if root.lower().endswith("/" + API_VERSION.lower()):
        root = root[: -len(API_VERSION) - 1]
    return f"{root}/{API_VERSION}"


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _kind(error: httpx.HTTPError) -> str:
    return type(error).__name__


def _error_texts(body: Any) -> list[str]:
    """Autotask's texts: ``{"errors": ["..."]}`` (sometimes objects with a ``message``)."""
    if not isinstance(body, dict):
        return []
    texts: list[str] = []
    for item in body.get("errors") or []:
        if isinstance(item, dict):
            item = item.get("message") or item.get("Message") or ""
        if item:
            texts.append(str(item))
    if not texts and isinstance(body.get("message") or body.get("Message"), str):
        texts.append(str(body.get("message") or body.get("Message")))
    return texts


def _mentions_limit(texts: list[str]) -> bool:
    return any(marker in text.lower() for text in texts for marker in _LIMIT_TEXTS)


def _rejected_unprocessed(status: int, texts: list[str]) -> bool:
    """Throttling answers come before any work, so even a create may be sent again."""
    return status == 429 or _mentions_limit(texts)


def _message(prefix: str, response: httpx.Response, texts: list[str]) -> str:
    return f"{prefix}: {'; '.join(texts)}" if texts else f"{prefix} (HTTP {response.status_code})."


def _error_for(method: str, url: str, response: httpx.Response, texts: list[str]) -> psa.PsaError:
    status = response.status_code
    if status == 401:
        return psa.PsaAuthError(
            _message(
                "Autotask refused the credentials (user name, secret or tracking identifier)", response, texts
            ),
            messages=texts,
            status=status,
        )
    if status == 404:
        return psa.PsaNotFound(
            _message(f"Autotask has no {calls.url_path(url)}", response, texts), messages=texts, status=status
        )
    if status == 403:
        return psa.PsaRejected(
            _message(f"The Autotask API user may not {method} {calls.url_path(url)}", response, texts),
            messages=texts,
            status=status,
        )
    return psa.PsaRejected(
        _message(f"Autotask refused {method} {calls.url_path(url)}", response, texts),
        messages=texts,
        status=status,
    )
