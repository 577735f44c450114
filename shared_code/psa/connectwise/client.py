"""The ConnectWise PSA (Manage) REST transport: one httpx client with the auth, paging, retries and errors.

- Base URL ``https://{site}/v4_6_release/apis/3.0``; ``site`` is the host the PSA is reached at
  (``na.myconnectwise.net``, ``api-eu.myconnectwise.net`` or an on-premises host). A plain-http
  URL is accepted for loopback hosts only, so the keys never cross a network unencrypted.
- Every call carries Basic auth ``{companyId}+{publicKey}:{privateKey}`` and the ``clientId``
  header ConnectWise requires of every integration.
- Lists are read ``pageSize`` (at most 1000, ConnectWise's cap) at a time, following the
  ``Link: <…>; rel="next"`` header ConnectWise sends while more pages follow. Long id lists go
  to the ``…/search`` endpoints, which take ``conditions`` in a JSON body instead of the URL.
- Errors (``{"code", "message", "errors": [{"code", "message", "resource", "field"}]}``) become
  the typed errors of ``errors.py`` carrying ConnectWise's texts.
- 429 and 5xx are retried with backoff within a bounded time budget, honouring ``Retry-After``
  (capped). A create (``idempotent=False``) is retried only when ConnectWise certainly did not
  process it (429, connection refused); otherwise it raises ``OutcomeUnknown``.
- Every attempt is logged (method, path, status, duration, attempt, run, ticket); the correlation
  id is stamped on each record by ``shared_code.correlation``. Neither key is ever logged, and
  both are scrubbed from every error text.
"""

from __future__ import annotations

import base64
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr

from shared_code.psa import calls
from shared_code.psa.connectwise import errors as cw
from shared_code.psa.connectwise.conditions import Condition

API_PATH = "/v4_6_release/apis/3.0"
MAX_PAGE_SIZE = 1000
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(?::\d{1,5})?")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Credentials:
    site: str
    company_id: str  # the company the API member logs in to, e.g. "acme"
    public_key: str
    private_key: SecretStr
    client_id: str  # the integration's clientId from the ConnectWise developer portal

    def authorization(self) -> str:
        pair = f"{self.company_id}+{self.public_key}:{self.private_key.get_secret_value()}"
        return "Basic " + base64.b64encode(pair.encode()).decode("ascii")


@dataclass(frozen=True)
class RetryPolicy:
    budget_seconds: float = 20.0  # all attempts and waits of one call
    first_backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 30.0  # a longer Retry-After is waited this long at most


def api_root(site: str) -> str:
    """``na.myconnectwise.net`` → ``https://na.myconnectwise.net/v4_6_release/apis/3.0``."""
    text = site.strip().rstrip("/")
    if "://" in text:
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise cw.NotConfigured(f"The ConnectWise site {site!r} is not a host or an https URL.")
        if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
            raise cw.NotConfigured("The ConnectWise site must be reached over https.")
        return f"{parts.scheme}://{parts.netloc}{API_PATH}"
    if not _HOST.fullmatch(text):
        raise cw.NotConfigured(
            f"The ConnectWise site {site!r} is not a host name (e.g. na.myconnectwise.net)."
        )
    return f"https://{text}{API_PATH}"


class ConnectWiseClient:
    def __init__(
        self,
        credentials: Credentials,
        *,
        timeout_seconds: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        current_run_id: Callable[[], int | None] = lambda: None,
    ) -> None:
        missing = [
            name
            for name, value in (
                ("site", credentials.site),
                ("company id", credentials.company_id),
                ("public key", credentials.public_key),
                ("private key", credentials.private_key.get_secret_value()),
                ("clientId", credentials.client_id),
            )
            if not value
        ]
        if missing:
            raise cw.NotConfigured(f"The ConnectWise {', '.join(missing)} must be set.")
        self.credentials = credentials
        self.api_url = api_root(credentials.site)
        self._retry = retry or RetryPolicy()
        self._sleep, self._clock = sleep, clock
        self._current_run_id = current_run_id
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout_seconds, connect=min(10.0, timeout_seconds)),
            headers={
                "Authorization": credentials.authorization(),
                "clientId": credentials.client_id,
                "Accept": "application/json",
            },
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ConnectWiseClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- reading --------------------------------------------------------------------------------

    def get(self, path: str, *, params: dict[str, Any] | None = None, ticket_id: int | None = None) -> Any:
        return self.request("GET", path, params=params, ticket_id=ticket_id).body

    def get_or_none(self, path: str, *, ticket_id: int | None = None) -> dict[str, Any] | None:
        """``GET`` one record; ``None`` when ConnectWise answers 404."""
        try:
            body = self.get(path, ticket_id=ticket_id)
        except cw.NotFound:
            return None
        return body if isinstance(body, dict) else None

    def query(
        self,
        path: str,
        *,
        conditions: Condition | None = None,
        fields: Sequence[str] = (),
        order_by: str | None = None,
        page_size: int = MAX_PAGE_SIZE,
        limit: int | None = None,
        ticket_id: int | None = None,
    ) -> list[dict[str, Any]]:
        """Every record of ``GET path`` matching ``conditions``, page by page, up to ``limit``."""
        size = _page_size(page_size, limit)
        params: dict[str, Any] = {"page": 1, "pageSize": size}
        if conditions is not None:
            params["conditions"] = conditions.text
        if fields:
            params["fields"] = ",".join(fields)
        if order_by:
            params["orderBy"] = order_by
        return self._pages("GET", path, params=params, json=None, size=size, limit=limit, ticket_id=ticket_id)

    def search(
        self,
        path: str,
        conditions: Condition,
        *,
        fields: Sequence[str] = (),
        page_size: int = MAX_PAGE_SIZE,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """``POST path`` (a ``…/search`` endpoint): ``conditions`` in the body, so a thousand ids
        do not make a URL longer than the servers in front of ConnectWise accept. The body is
        ConnectWise's ``FilterValues``, which refuses other members: paging and ``fields`` go in
        the query string."""
        size = _page_size(page_size, limit)
        params: dict[str, Any] = {"page": 1, "pageSize": size}
        if fields:
            params["fields"] = ",".join(fields)
        body = {"conditions": conditions.text}
        return self._pages("POST", path, params=params, json=body, size=size, limit=limit, ticket_id=None)

    def _pages(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any],
        json: Any,
        size: int,
        limit: int | None,
        ticket_id: int | None,
    ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        target: str | None = path
        page = 1
        read: set[str] = set()
        while target is not None:
            if target in read and not params:
                raise cw.ConnectWiseError(
                    f"ConnectWise's next page of {path} is a page already read; stopped."
                )
            read.add(target)
            answer = self.request(method, target, params=params, json=json, ticket_id=ticket_id)
            batch = answer.body if isinstance(answer.body, list) else []
            rows.extend(row for row in batch if isinstance(row, dict))
            if limit is not None and len(rows) >= limit:
                return rows[:limit]
            page += 1
            target, params = self._next_page(answer, path, params, page, full=len(batch) >= size)
        return rows

    def _next_page(
        self, answer: Answer, path: str, params: dict[str, Any], page: int, *, full: bool
    ) -> tuple[str | None, dict[str, Any]]:
        """Where the next page is: ConnectWise's ``rel="next"`` link; without any ``Link`` header
        (a proxy may drop it), the next page number while pages come back full."""
        next_url = answer.links.get("next")
        if next_url:
            return self._own_url(next_url), {}
        if not answer.links and full:
            return path, {**params, "page": page}
        return None, params

    def _own_url(self, url: str) -> str:
        """Only ever send the keys back to the configured host."""
        if urlsplit(url).netloc.lower() != urlsplit(self.api_url).netloc.lower():
            raise cw.ConnectWiseError(
                f"ConnectWise gave a page link on another host ({urlsplit(url).netloc}); not followed."
            )
        return url

    # --- one call -----------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        target: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        idempotent: bool = True,
        ticket_id: int | None = None,
    ) -> Answer:
        """One call: ``target`` is a path under the API root or a URL ConnectWise gave (next pages)."""
        url = target if target.startswith(("http://", "https://")) else f"{self.api_url}{target}"
        deadline = self._clock() + self._retry.budget_seconds
        attempt = 0
        while True:
            attempt += 1
            started = time.monotonic()
            try:
                response = self._http.request(method, url, params=params or None, json=json)
            except httpx.HTTPError as error:
                self._log(method, url, None, started, attempt, ticket_id, error=type(error).__name__)
                self._after_transport_error(
                    method, url, error, idempotent=idempotent, attempt=attempt, deadline=deadline
                )
                continue
            self._log(method, url, response.status_code, started, attempt, ticket_id)
            body = calls.json_or_none(response)
            if 200 <= response.status_code < 300:
                return Answer(response.status_code, body, _links(response))
            texts, cw_code = self._texts(body)
            if response.status_code in TRANSIENT_STATUSES:
                if not idempotent and response.status_code != 429:
                    raise cw.OutcomeUnknown(
                        _message(
                            f"ConnectWise failed {method} {calls.url_path(url)}; it may have been stored",
                            response,
                            texts,
                        ),
                        messages=texts,
                        status=response.status_code,
                        cw_code=cw_code,
                    )
                wait = self._retry_after(response) or self._backoff(attempt)
                if self._clock() + wait <= deadline:
                    self._sleep(wait)
                    continue
                raise cw.Unavailable(
                    _message("ConnectWise is busy or failing; try again later", response, texts),
                    messages=texts,
                    status=response.status_code,
                    cw_code=cw_code,
                )
            raise _error_for(method, url, response, texts, cw_code)

    def _after_transport_error(
        self,
        method: str,
        url: str,
        error: httpx.HTTPError,
        *,
        idempotent: bool,
        attempt: int,
        deadline: float,
    ) -> None:
        """Waits before the next attempt, or raises: a create whose request may have arrived is
        never sent twice."""
        not_sent = isinstance(error, httpx.ConnectError)
        if not idempotent and not not_sent:
            raise cw.OutcomeUnknown(
                f"ConnectWise did not answer {method} {calls.url_path(url)} ({type(error).__name__}); it may have been stored."
            ) from None
        wait = self._backoff(attempt)
        if self._clock() + wait > deadline:
            raise cw.Unreachable(
                f"ConnectWise at {urlsplit(url).netloc} did not answer: {type(error).__name__}"
            ) from None
        self._sleep(wait)

    # --- plumbing ---------------------------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        return calls.backoff(self._retry.first_backoff, self._retry.max_backoff, attempt)

    def _retry_after(self, response: httpx.Response) -> float | None:
        wait = calls.retry_after_seconds(response.headers.get("retry-after"))
        return None if wait is None else min(wait, self._retry.max_retry_after)

    def _texts(self, body: Any) -> tuple[list[str], str | None]:
        secrets = (self.credentials.private_key.get_secret_value(), self.credentials.authorization())
        texts, cw_code = error_texts(body)
        return [calls.scrub(text, secrets) for text in texts], cw_code

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
            "ConnectWise",
            method,
            url,
            status,
            started,
            attempt,
            run_id=self._current_run_id(),
            ticket_id=ticket_id,
            error=error,
        )


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    links: dict[str, str]  # rel -> URL, from the Link header


def error_texts(body: Any) -> tuple[list[str], str | None]:
    """ConnectWise's texts, the field-level ones first (``summary: The summary field is required.``),
    and its error ``code``."""
    if not isinstance(body, dict):
        return [], None
    texts: list[str] = []
    for item in body.get("errors") or []:
        if isinstance(item, dict) and item.get("message"):
            field = item.get("field")
            texts.append(f"{field}: {item['message']}" if field else str(item["message"]))
    if isinstance(body.get("message"), str) and body["message"]:
        texts.append(body["message"])
    code = body.get("code")
    return texts, str(code) if code else None


def _page_size(page_size: int, limit: int | None) -> int:
    size = min(page_size, limit) if limit is not None else page_size
    return max(1, min(MAX_PAGE_SIZE, size))


def _links(response: httpx.Response) -> dict[str, str]:
    return {rel: link["url"] for rel, link in response.links.items() if rel and link.get("url")}


def _message(prefix: str, response: httpx.Response, texts: list[str]) -> str:
    return f"{prefix}: {'; '.join(texts)}" if texts else f"{prefix} (HTTP {response.status_code})."


def _error_for(
    method: str, url: str, response: httpx.Response, texts: list[str], cw_code: str | None
) -> cw.ConnectWiseError:
    status = response.status_code
    kinds: dict[int, tuple[type[cw.ConnectWiseError], str]] = {
        401: (
            cw.AuthFailed,
            "ConnectWise refused the credentials (company id, public/private key or clientId)",
        ),
        403: (cw.Forbidden, f"The ConnectWise API member may not {method} {calls.url_path(url)}"),
        404: (cw.NotFound, f"ConnectWise has no {calls.url_path(url)}"),
    }
    kind, prefix = kinds.get(status, (cw.Rejected, f"ConnectWise refused {method} {calls.url_path(url)}"))
    return kind(_message(prefix, response, texts), messages=texts, status=status, cw_code=cw_code)
