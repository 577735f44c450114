"""A fake ConnectWise PSA (Manage) REST API on loopback, behaving as the real one does where
Backupchecks cares.

Served under ``{site}/v4_6_release/apis/3.0`` (plain http on 127.0.0.1, which the client allows for
loopback hosts only), every request authenticated as ConnectWise does it: Basic
``{companyId}+{publicKey}:{privateKey}`` and a ``clientId`` header, else 401.

- Lists (``GET``, and ``POST …/search`` with ``conditions`` in the JSON body) read ``conditions``
  as ConnectWise does: ``and``/``or``/parentheses, ``= != < <= > >=``, ``contains``, ``like``
  (``%`` wildcard), ``in (…)``/``not in (…)``, strings in double quotes with ``\\"`` and ``\\\\``
  escapes, ``true``/``false``/``null``, dates in ``[…]``, reference paths (``company/id``);
  string comparisons ignore case (SQL Server's collation). A condition ConnectWise cannot read,
  or naming a field the entity does not have, is a 400. ``fields``, ``orderBy``, ``page`` and
  ``pageSize`` (default 25, silently capped at 1000) apply; while more pages follow, the answer
  carries ``Link: <…page=n+1…>; rel="next", <…>; rel="last"``. A query string longer than
  ``max_query_length`` is refused (as the web servers in front of ConnectWise do), which is why
  long id lists go to ``…/search``.
- Errors are ConnectWise's shape: ``{"code", "message", "errors": [{"code", "message", "resource",
  "field"}]}`` (400 ``InvalidObject`` for validation, 404 ``NotFound``, 401, 403 for paths the
  API member's role may not use, see ``forbid``). A request body member ConnectWise does not know
  (on searches, tickets, notes) is a 400 "Could not find member …", as ConnectWise answers it.
- Tickets: ``POST`` (summary ≤ 100 characters, company, board, a status of that board, priority,
  source; the initial description becomes the first note, as in ConnectWise, and is not
  returned), ``GET``, JSON Patch ``PATCH`` (``replace``/``add`` on ``status``, ``status/id``,
  ``summary``, ``priority``…). A status of another board is accepted with 200 and ignored, as
  ConnectWise does; ``ignore_status_changes`` makes every status change behave so (a board
  workflow refusing it). A closed status sets ``closedFlag`` and ``closedDate``.
- Notes (``POST/GET /service/tickets/{id}/notes``): one of ``detailDescriptionFlag``,
  ``internalAnalysisFlag``, ``resolutionFlag`` must be true. Time entries (``/time/entries``)
  carry ``chargeToType`` (``ServiceTicket``, ``ProjectTicket``, …) and ``chargeToId``.
- Companies (deleted ones are left out of lists unless the conditions name ``deletedFlag``, and
  still read by id), company statuses with ``inactiveFlag``, boards with their statuses
  (``closedStatus``), priorities, sources, ``/system/info``.

Every request is logged (``requests``) and counted (``count``, by path or by endpoint such as
``GET /service/tickets/{id}``); ``writes()`` counts the requests that change something. Faults
(``fail``) answer a status before the request is handled, or answer late after handling it (a
create stored whose answer the client never sees); ``latency_seconds`` delays every answer.
"""

from __future__ import annotations

import base64
import copy
import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.support.loopback import LoopbackServer
from tests.support.loopback_http import Response, json_handler, json_response

API_PATH = "/v4_6_release/apis/3.0"
COMPANY_ID = "backupchecks_test"
PUBLIC_KEY = "FakePublicKey0001"
PRIVATE_KEY = "fake-cw-private-Kq9!z"
CLIENT_ID = "00000000-fake-4c1e-9d2b-c0nnectw15e0"
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 25
SUMMARY_MAX = 100

BOARDS = {1: ("Service Desk", False), 2: ("Monitoring", False), 3: ("Old Helpdesk", True)}
# status id -> (board, name, closed, inactive, default)
STATUSES = {
    11: (1, "New", False, False, True),
    12: (1, "In Progress", False, False, False),
    13: (1, "Completed", True, False, False),
    14: (1, "Closed (old)", True, True, False),
    21: (2, "New (monitoring)", False, False, True),
    22: (2, "Resolved", True, False, False),
    31: (3, "New", False, False, True),
}
NEW, IN_PROGRESS, COMPLETED = 11, 12, 13
OTHER_BOARD_CLOSED = 22
PRIORITIES = {
    1: ("Priority 1 - Emergency Response", 1),
    3: ("Priority 3 - Normal Response", 3),
    4: ("Priority 4 - Schedule Maintenance", 4),
}
SOURCES = {1: ("Email", False), 2: ("Phone", True), 6: ("Monitoring", False)}
COMPANY_STATUSES = {1: ("Active", False), 2: ("Inactive", True), 3: ("Not-Approved", False)}
ACTIVE, INACTIVE = 1, 2

ENTITY_FIELDS = {
    "tickets": {
        "id",
        "summary",
        "board",
        "status",
        "company",
        "priority",
        "source",
        "externalXRef",
        "closedFlag",
        "closedDate",
        "_info",
        "recordType",
    },
    "companies": {"id", "identifier", "name", "status", "deletedFlag", "_info"},
    "time": {
        "id",
        "chargeToId",
        "chargeToType",
        "member",
        "timeStart",
        "timeEnd",
        "actualHours",
        "notes",
        "_info",
    },
    "notes": {
        "id",
        "ticketId",
        "text",
        "detailDescriptionFlag",
        "internalAnalysisFlag",
        "resolutionFlag",
        "processNotifications",
        "dateCreated",
        "createdBy",
        "_info",
    },
    "boards": {"id", "name", "inactiveFlag", "_info"},
    "statuses": {"id", "name", "board", "closedStatus", "inactive", "defaultFlag", "sortOrder", "_info"},
    "priorities": {"id", "name", "sortOrder", "_info"},
    "sources": {"id", "name", "defaultFlag", "_info"},
    "company_statuses": {"id", "name", "inactiveFlag", "defaultFlag", "_info"},
}


@dataclass
class Request:
    method: str
    path: str  # under the API root, e.g. /service/tickets/12
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    status: int | None  # None: handled normally, answered late
    remaining: int
    headers: dict[str, str]
    body: Any
    delay: float


Handler = Callable[[Request, re.Match[str]], Response]


def cw_error(status: int, code: str, message: str, *errors: dict[str, str]) -> Response:
    """ConnectWise's error shape."""
    payload: dict[str, Any] = {"code": code, "message": message}
    if errors:
        payload["errors"] = list(errors)
    return json_response(status, payload)


def invalid(resource: str, *problems: tuple[str, str, str]) -> Response:
    """400 InvalidObject with field errors (code, field, message)."""
    return cw_error(
        400,
        "InvalidObject",
        f"{resource} object is invalid",
        *(
            {"code": code, "message": message, "resource": resource, "field": field}
            for code, field, message in problems
        ),
    )


def settings_body(fake: FakeConnectWise, **changes: Any) -> dict[str, Any]:
    """ConnectWise settings (``ConnectWiseSettingsUpdate``) pointing at this fake, with choices from
    its reference data."""
    body: dict[str, Any] = {
        "site": fake.site,
        "company_id": COMPANY_ID,
        "public_key": PUBLIC_KEY,
        "private_key": PRIVATE_KEY,
        "client_id": CLIENT_ID,
        "board_id": 1,
        "new_status_id": NEW,
        "closed_status_id": COMPLETED,
        "priority_warning_id": 4,
        "priority_failed_id": 1,
        "source_id": 6,
        "backupchecks_base_url": "https://backupchecks.example.test",
    }
    return {**body, **changes}


class FakeConnectWise:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._install_routes()
        self._builtin_routes = list(self._routes)
        self.reset()
        self.loopback = LoopbackServer(json_handler(self.handle), "fake-connectwise")

    def start(self) -> FakeConnectWise:
        self.loopback.start()
        return self

    def stop(self) -> None:
        self.loopback.stop()

    @property
    def site(self) -> str:
        """What the settings' ``site`` is set to for this fake."""
        return f"http://127.0.0.1:{self.loopback.port}"

    @property
    def api_url(self) -> str:
        return f"{self.site}{API_PATH}"

    # --- state that tests arrange and inspect -------------------------------------------------------

    def reset(self) -> None:
        """Back to the reference data alone: no companies, tickets, faults, requests or added routes."""
        with self._lock:
            self._routes = list(self._builtin_routes)
            self.keys = {(COMPANY_ID.lower(), PUBLIC_KEY): PRIVATE_KEY}
            self.client_ids = {CLIENT_ID}
            self.ignore_status_changes = False  # every status change: 200, status kept
            self.latency_seconds = 0.0  # every answer this much later (benches)
            self.max_query_length = 2048  # IIS's default maxQueryString (ConnectWise runs on IIS)
            self.forbidden: list[re.Pattern[str]] = []
            self.requests: list[Request] = []
            self.faults: list[Fault] = []
            self._ids = itertools.count(5001)
            self.boards = {i: {"id": i, "name": n, "inactiveFlag": off} for i, (n, off) in BOARDS.items()}
            self.statuses = {
                i: {
                    "id": i,
                    "name": name,
                    "board": {"id": board, "name": BOARDS[board][0]},
                    "closedStatus": closed,
                    "inactive": inactive,
                    "defaultFlag": default,
                    "sortOrder": i % 10,
                }
                for i, (board, name, closed, inactive, default) in STATUSES.items()
            }
            self.priorities = {i: {"id": i, "name": n, "sortOrder": s} for i, (n, s) in PRIORITIES.items()}
            self.sources = {i: {"id": i, "name": n, "defaultFlag": d} for i, (n, d) in SOURCES.items()}
            self.company_statuses = {
                i: {"id": i, "name": n, "inactiveFlag": off, "defaultFlag": i == ACTIVE}
                for i, (n, off) in COMPANY_STATUSES.items()
            }
            self.companies: dict[int, dict[str, Any]] = {}
            self.tickets: dict[int, dict[str, Any]] = {}
            self.notes: dict[int, dict[str, Any]] = {}
            self.time_entries: dict[int, dict[str, Any]] = {}

    def add_company(
        self, name: str, *, status: int = ACTIVE, deleted: bool = False, identifier: str | None = None
    ) -> int:
        with self._lock:
            company_id = next(self._ids)
            self.companies[company_id] = {
                "id": company_id,
                "identifier": identifier or re.sub(r"\W", "", name)[:25] or f"C{company_id}",
                "name": name,
                "status": self._ref(self.company_statuses, status),
                "deletedFlag": deleted,
                "_info": {"lastUpdated": _now()},
            }
            return company_id

    def rename_company(self, company_id: int, name: str) -> None:
        with self._lock:
            self.companies[company_id]["name"] = name

    def set_company_status(self, company_id: int, status: int) -> None:
        with self._lock:
            self.companies[company_id]["status"] = self._ref(self.company_statuses, status)

    def delete_company(self, company_id: int, *, purge: bool = False) -> None:
        """Deleted in ConnectWise: flagged (still read by id), or gone altogether (``purge``)."""
        with self._lock:
            if purge:
                del self.companies[company_id]
            else:
                self.companies[company_id]["deletedFlag"] = True

    def add_ticket(
        self, *, company_id: int | None = None, board: int = 1, status: int | None = None, **fields: Any
    ) -> dict[str, Any]:
        """A ticket made in ConnectWise by someone else."""
        with self._lock:
            company_id = company_id or next(iter(self.companies), None) or self.add_company("Some customer")
            ticket = self._new_ticket(
                {
                    "summary": "Existing ticket",
                    "company": {"id": company_id},
                    "board": {"id": board},
                    "status": {"id": status or self._default_status(board)},
                    "priority": {"id": 3},
                    **fields,
                }
            )
            return copy.deepcopy(ticket)

    def add_linked_tickets(self, count: int, *, closed: int = 0, deleted: int = 0) -> list[int]:
        """``count`` tickets of one company (the poll's load): the first ``closed`` of them closed
        by a person, the next ``deleted`` deleted; all their ids, in order."""
        with self._lock:
            company_id = self.add_company("Linked tickets Ltd")
            ids = [self.add_ticket(company_id=company_id)["id"] for _ in range(count)]
            for ticket_id in ids[:closed]:
                self.set_status(ticket_id, COMPLETED)
            for ticket_id in ids[closed : closed + deleted]:
                self.delete_ticket(ticket_id)
            return ids

    def add_time_entry(
        self, ticket_id: int, hours: float = 0.5, *, charge_to_type: str = "ServiceTicket"
    ) -> int:
        with self._lock:
            entry_id = next(self._ids)
            self.time_entries[entry_id] = {
                "id": entry_id,
                "chargeToId": ticket_id,
                "chargeToType": charge_to_type,
                "member": {"id": 7, "identifier": "jdoe", "name": "Jane Doe"},
                "timeStart": _now(),
                "actualHours": hours,
                "notes": "worked on it",
            }
            return entry_id

    def set_status(self, ticket_id: int, status_id: int) -> None:
        """A change made in ConnectWise by a person."""
        with self._lock:
            self._change_status(self.tickets[ticket_id], status_id)

    def delete_ticket(self, ticket_id: int) -> None:
        with self._lock:
            del self.tickets[ticket_id]

    def ticket_notes(self, ticket_id: int) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(note) for note in self.notes.values() if note["ticketId"] == ticket_id]

    def forbid(self, path_pattern: str) -> None:
        """The API member's security role may not use these paths: 403."""
        with self._lock:
            self.forbidden.append(re.compile(path_pattern))

    def fail(
        self,
        method: str,
        path_pattern: str,
        status: int | None = 500,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: Any = None,
        delay: float = 0.0,
    ) -> None:
        """The next ``times`` matching requests answer ``status`` before they are handled; with
        ``status=None`` they are handled and then answered ``delay`` seconds late."""
        with self._lock:
            self.faults.append(
                Fault(method.upper(), re.compile(path_pattern), status, times, headers or {}, body, delay)
            )

    def count(
        self,
        method: str | None = None,
        path: str | None = None,
        *,
        endpoint: str | None = None,
        contains: str = "",
    ) -> int:
        """Requests seen: by method, exact path (under the API root), endpoint (ids as ``{id}``), or part."""
        with self._lock:
            return sum(
                1
                for request in self.requests
                if (method is None or request.method == method)
                and (path is None or request.path == path)
                and (endpoint is None or _endpoint(request.path) == endpoint)
                and contains in request.path
            )

    def by_endpoint(self) -> dict[str, int]:
        """``{"GET /service/tickets/{id}": 3, ...}``"""
        with self._lock:
            counts: dict[str, int] = {}
            for request in self.requests:
                key = f"{request.method} {_endpoint(request.path)}"
                counts[key] = counts.get(key, 0) + 1
            return counts

    def writes(self) -> int:
        """Requests that change something (a search is a read, though it is a POST)."""
        with self._lock:
            return sum(
                1
                for request in self.requests
                if request.method in ("POST", "PATCH", "PUT", "DELETE")
                and not request.path.endswith("/search")
            )

    # --- request handling -------------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
        time.sleep(self.latency_seconds)
        split = urlsplit(target)
        if not split.path.lower().startswith(API_PATH.lower()):
            return cw_error(404, "NotFound", "The resource cannot be found.")
        path = split.path[len(API_PATH) :] or "/"
        request = Request(method, path, {k: v[0] for k, v in parse_qs(split.query).items()}, headers, body)
        with self._lock:
            self.requests.append(request)
            fault = self._take_fault(method, path)
        if fault is not None and fault.status is not None:
            time.sleep(fault.delay)
            payload = (
                fault.body
                if fault.body is not None
                else {"code": "ServerError", "message": f"Injected fault {fault.status}"}
            )
            return Response(
                fault.status, json.dumps(payload).encode() if payload != "" else b"", fault.headers
            )
        if len(split.query) > self.max_query_length:
            return cw_error(414, "RequestUriTooLong", "The request URL is too long.")
        if (refusal := self._authenticate(headers)) is not None:
            return refusal
        with self._lock:
            if any(pattern.search(path) for pattern in self.forbidden):
                response = cw_error(403, "Unauthorized", f"You do not have access to {path}.")
            else:
                response = self._dispatch(request)
        if fault is not None:
            time.sleep(fault.delay)
        return response

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.remaining > 0 and fault.method == method and fault.path.search(path):
                fault.remaining -= 1
                return fault
        return None

    def _authenticate(self, headers: dict[str, str]) -> Response | None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        try:
            login, _, private = base64.b64decode(token, validate=True).decode().partition(":")
        except ValueError:
            login, private = "", ""
        company, _, public = login.partition("+")
        with self._lock:
            known = self.keys.get((company.lower(), public))
            client_ok = headers.get("clientid") in self.client_ids
        if scheme.lower() != "basic" or known is None or private != known:
            return cw_error(401, "Unauthorized", "UserNotAuthenticated")
        if not client_ok:
            return cw_error(401, "Unauthorized", "A valid clientId header is required.")
        return None

    def _dispatch(self, request: Request) -> Response:
        for method, pattern, handler in self._routes:
            if (match := pattern.fullmatch(request.path)) and method == request.method:
                return handler(request, match)
        if any(pattern.fullmatch(request.path) for _, pattern, _ in self._routes):
            return cw_error(
                405,
                "MethodNotAllowed",
                f"The requested resource does not support http method '{request.method}'.",
            )
        return cw_error(404, "NotFound", "The resource cannot be found.")

    def route(self, method: str, path_pattern: str, handler: Handler) -> None:
        """Serve ``method`` on paths matching ``path_pattern`` before the built-in routes (under the
        lock), until the next ``reset``."""
        self._routes.insert(0, (method.upper(), re.compile(path_pattern), handler))

    def _install_routes(self) -> None:
        lists: dict[str, Callable[[], tuple[str, dict[int, dict[str, Any]]]]] = {
            r"/service/boards": lambda: ("boards", self.boards),
            r"/service/priorities": lambda: ("priorities", self.priorities),
            r"/service/sources": lambda: ("sources", self.sources),
            r"/company/companies/statuses": lambda: ("company_statuses", self.company_statuses),
            r"/company/companies": lambda: ("companies", self.companies),
            r"/service/tickets": lambda: ("tickets", self.tickets),
            r"/time/entries": lambda: ("time", self.time_entries),
        }
        for path, source in lists.items():
            self.route("GET", path, self._lister(source))
        self.route("GET", r"/system/info", self._info)
        self.route("GET", r"/service/boards/(?P<id>\d+)/statuses", self._board_statuses)
        self.route("GET", r"/company/companies/(?P<id>\d+)", self._getter("companies", "Company"))
        self.route("GET", r"/service/tickets/(?P<id>\d+)", self._getter("tickets", "Ticket"))
        self.route("POST", r"/service/tickets/search", self._search_tickets)
        self.route("POST", r"/service/tickets", self._create_ticket)
        self.route("PATCH", r"/service/tickets/(?P<id>\d+)", self._patch_ticket)
        self.route("POST", r"/service/tickets/(?P<id>\d+)/notes", self._create_note)
        self.route("GET", r"/service/tickets/(?P<id>\d+)/notes", self._list_notes)

    # --- reading ------------------------------------------------------------------------------------

    def _info(self, request: Request, match: re.Match[str]) -> Response:
        return json_response(
            200,
            {
                "version": "v2025.1.98765",
                "isCloud": True,
                "serverTimeZone": "Eastern Standard Time",
                "cloudRegion": "NA",
            },
        )

    def _lister(self, source: Callable[[], tuple[str, dict[int, dict[str, Any]]]]) -> Handler:
        def handler(request: Request, match: re.Match[str]) -> Response:
            entity, rows = source()
            return self._list(entity, list(rows.values()), request.query, request.path)

        return handler

    def _board_statuses(self, request: Request, match: re.Match[str]) -> Response:
        board_id = int(match["id"])
        if board_id not in self.boards:
            return cw_error(404, "NotFound", f"Board ID {board_id} not found.")
        rows = [row for row in self.statuses.values() if row["board"]["id"] == board_id]
        return self._list("statuses", rows, request.query, request.path)

    def _getter(self, rows_name: str, label: str) -> Handler:
        def handler(request: Request, match: re.Match[str]) -> Response:
            row = getattr(self, rows_name).get(int(match["id"]))
            if row is None:
                return cw_error(404, "NotFound", f"{label} ID {match['id']} not found.")
            return json_response(200, _public(row))

        return handler

    def _search_tickets(self, request: Request, match: re.Match[str]) -> Response:
        body = request.json()
        if not isinstance(body, dict):
            return cw_error(400, "InvalidObject", "filterValues object is invalid")
        if (unknown := _unknown_member(body, "FilterValues")) is not None:
            return unknown
        query = {**request.query, **{k: str(v) for k, v in body.items() if k in ("conditions", "orderBy")}}
        return self._list(
            "tickets", list(self.tickets.values()), query, request.path, link_query=request.query
        )

    def _list(
        self,
        entity: str,
        rows: list[dict[str, Any]],
        query: dict[str, str],
        path: str,
        *,
        link_query: dict[str, str] | None = None,
    ) -> Response:
        lowered = {key.lower(): value for key, value in query.items()}
        try:
            page = int(lowered.get("page", "1"))
            size = min(MAX_PAGE_SIZE, int(lowered.get("pagesize", str(DEFAULT_PAGE_SIZE))))
        except ValueError:
            return cw_error(400, "InvalidParameter", "page and pageSize must be numbers.")
        if page < 1 or size < 1:
            return cw_error(400, "InvalidParameter", "page and pageSize must be positive.")
        conditions = lowered.get("conditions", "")
        try:
            test = parse_conditions(conditions, _known_fields(entity, rows)) if conditions.strip() else None
        except ConditionsError as error:
            return cw_error(400, "InvalidConditions", str(error))
        if entity == "companies" and "deletedflag" not in conditions.lower():
            rows = [row for row in rows if not row.get("deletedFlag")]
        selected = [row for row in sorted(rows, key=lambda row: row["id"]) if test is None or test(row)]
        if order := lowered.get("orderby"):
            field, _, direction = order.strip().partition(" ")
            selected.sort(key=lambda row: _sort_key(_value(row, field)), reverse=direction.lower() == "desc")
        last = max(1, -(-len(selected) // size))
        chunk = selected[(page - 1) * size : page * size]
        fields = [name.strip() for name in lowered.get("fields", "").split(",") if name.strip()]
        headers = {}
        if last > 1:
            headers["Link"] = self._link_header(
                path, link_query if link_query is not None else query, page, size, last
            )
        return json_response(200, [_select(_public(row), fields) for row in chunk], headers)

    def _link_header(self, path: str, query: dict[str, str], page: int, size: int, last: int) -> str:
        def url(number: int) -> str:
            kept = {k: v for k, v in query.items() if k.lower() not in ("page", "pagesize")}
            return f"{self.api_url}{path}?{urlencode({**kept, 'pageSize': size, 'page': number})}"

        links = []
        if page < last:
            links.append(f'<{url(page + 1)}>; rel="next"')
        if page > 1:
            links.append(f'<{url(page - 1)}>; rel="prev"')
        links += [f'<{url(1)}>; rel="first"', f'<{url(last)}>; rel="last"']
        return ", ".join(links)

    # --- tickets ----------------------------------------------------------------------------------------

    def _create_ticket(self, request: Request, match: re.Match[str]) -> Response:
        body = request.json()
        if not isinstance(body, dict):
            return cw_error(400, "InvalidObject", "ticket object is invalid")
        if (unknown := _unknown_member(body, "Ticket")) is not None:
            return unknown
        problems = self._ticket_problems(body)
        if problems:
            return invalid("ticket", *problems)
        board_id = body["board"]["id"]
        status = body.get("status") or {"id": self._default_status(board_id)}
        fields = {
            key: body[key]
            for key in ("summary", "company", "board", "priority", "source", "externalXRef", "recordType")
            if key in body
        }
        ticket = self._new_ticket({**fields, "status": {"id": status["id"]}})
        if body.get("initialDescription"):
            self._add_note(ticket["id"], body["initialDescription"], detail=True)
        return json_response(201, _public(ticket))

    def _ticket_problems(self, body: dict[str, Any]) -> list[tuple[str, str, str]]:
        problems: list[tuple[str, str, str]] = []
        summary = body.get("summary")
        if not summary:
            problems.append(("NullValue", "summary", "The summary field is required."))
        elif len(str(summary)) > SUMMARY_MAX:
            problems.append(
                ("InvalidField", "summary", f"The summary field must be {SUMMARY_MAX} characters or less.")
            )
        references = {
            "company": self.companies,
            "board": self.boards,
            "priority": self.priorities,
            "source": self.sources,
            "status": self.statuses,
        }
        for field, rows in references.items():
            ref = body.get(field)
            if ref is None:
                if field in ("company", "board"):
                    problems.append(("NullValue", field, f"The {field} field is required."))
                continue
            ref_id = ref.get("id") if isinstance(ref, dict) else None
            row = rows.get(ref_id) if isinstance(ref_id, int) else None
            if row is None or (field == "company" and row.get("deletedFlag")):
                problems.append(("InvalidField", field, f"The {field} ID {ref_id} is invalid."))
            elif field == "board" and row.get("inactiveFlag"):
                problems.append(("InvalidField", field, f"Board {row['name']} is inactive."))
        status_ref, board_ref = body.get("status"), body.get("board")
        if not problems and isinstance(status_ref, dict):
            status = self.statuses[status_ref["id"]]
            if status["board"]["id"] != board_ref["id"]:
                problems.append(
                    ("InvalidField", "status", f"Status {status['name']} is not a status of the board.")
                )
        if len(str(body.get("externalXRef") or "")) > 100:
            problems.append(
                ("InvalidField", "externalXRef", "The externalXRef field must be 100 characters or less.")
            )
        return problems

    def _new_ticket(self, fields: dict[str, Any]) -> dict[str, Any]:
        ticket_id = next(self._ids)
        now = _now()
        company = self.companies[fields["company"]["id"]]
        ticket: dict[str, Any] = {
            "id": ticket_id,
            "summary": fields["summary"],
            "recordType": fields.get("recordType", "ServiceTicket"),
            "board": self._ref(self.boards, fields["board"]["id"]),
            "status": {"id": fields["status"]["id"], "name": self.statuses[fields["status"]["id"]]["name"]},
            "company": {"id": company["id"], "identifier": company["identifier"], "name": company["name"]},
            "priority": self._ref(self.priorities, fields["priority"]["id"])
            if fields.get("priority")
            else None,
            "source": self._ref(self.sources, fields["source"]["id"]) if fields.get("source") else None,
            "externalXRef": fields.get("externalXRef"),
            "closedFlag": False,
            "closedDate": None,
            "_info": {"dateEntered": now, "lastUpdated": now, "enteredBy": PUBLIC_KEY},
        }
        self.tickets[ticket_id] = ticket
        self._change_status(ticket, fields["status"]["id"])
        return ticket

    def _patch_ticket(self, request: Request, match: re.Match[str]) -> Response:
        ticket = self.tickets.get(int(match["id"]))
        if ticket is None:
            return cw_error(404, "NotFound", f"Ticket ID {match['id']} not found.")
        operations = request.json()
        if not isinstance(operations, list) or not operations:
            return cw_error(
                400, "InvalidObject", "The request body must be a JSON Patch document (a list of operations)."
            )
        changes: dict[str, Any] = {}
        for operation in operations:
            if not isinstance(operation, dict) or operation.get("op") not in ("replace", "add"):
                return cw_error(400, "InvalidObject", f"Unsupported patch operation {operation!r}.")
            path = str(operation.get("path", "")).strip("/").lower()
            field, _, sub = path.partition("/")
            value = operation.get("value")
            if field in ("status", "priority", "board", "source", "company"):
                ref_id = (
                    value.get("id") if isinstance(value, dict) and not sub else value if sub == "id" else None
                )
                if not isinstance(ref_id, int):
                    return invalid(
                        "ticket", ("InvalidField", field, f"The {field} value {value!r} is invalid.")
                    )
                changes[field] = ref_id
            elif field in ("summary", "externalxref"):
                changes["externalXRef" if field == "externalxref" else field] = value
            else:
                return invalid(
                    "ticket", ("InvalidField", field or "path", f"Cannot patch {operation.get('path')!r}.")
                )
        if "status" in changes and changes["status"] not in self.statuses:
            return invalid(
                "ticket", ("InvalidField", "status", f"The status ID {changes['status']} is invalid.")
            )
        if "summary" in changes and len(str(changes["summary"] or "")) > SUMMARY_MAX:
            return invalid(
                "ticket",
                ("InvalidField", "summary", f"The summary field must be {SUMMARY_MAX} characters or less."),
            )
        references = {"priority": self.priorities, "source": self.sources}
        for field, rows in references.items():
            if field in changes:
                if changes[field] not in rows:
                    return invalid(
                        "ticket", ("InvalidField", field, f"The {field} ID {changes[field]} is invalid.")
                    )
                ticket[field] = self._ref(rows, changes[field])
        for field in ("summary", "externalXRef"):
            if field in changes:
                ticket[field] = changes[field]
        if "status" in changes:
            self._patch_status(ticket, changes["status"])
        ticket["_info"]["lastUpdated"] = _now()
        return json_response(200, _public(ticket))

    def _patch_status(self, ticket: dict[str, Any], status_id: int) -> None:
        """ConnectWise answers 200 and keeps the old status when the new one is not on the
        ticket's board (or a workflow refuses it: ``ignore_status_changes``)."""
        on_board = self.statuses[status_id]["board"]["id"] == ticket["board"]["id"]
        if on_board and not self.ignore_status_changes:
            self._change_status(ticket, status_id)

    def _change_status(self, ticket: dict[str, Any], status_id: int) -> None:
        status = self.statuses[status_id]
        ticket["status"] = {"id": status_id, "name": status["name"]}
        closed = bool(status["closedStatus"])
        if closed != ticket["closedFlag"]:
            ticket["closedFlag"] = closed
            ticket["closedDate"] = _now() if closed else None
        ticket["_info"]["lastUpdated"] = _now()

    def _default_status(self, board_id: int) -> int:
        return next(
            i for i, row in self.statuses.items() if row["board"]["id"] == board_id and row["defaultFlag"]
        )

    # --- notes ------------------------------------------------------------------------------------------

    def _create_note(self, request: Request, match: re.Match[str]) -> Response:
        ticket_id = int(match["id"])
        if ticket_id not in self.tickets:
            return cw_error(404, "NotFound", f"Ticket ID {ticket_id} not found.")
        body = request.json()
        if not isinstance(body, dict):
            return cw_error(400, "InvalidObject", "serviceNote object is invalid")
        if (unknown := _unknown_member(body, "ServiceNote")) is not None:
            return unknown
        if not body.get("text"):
            return invalid("serviceNote", ("NullValue", "text", "The text field is required."))
        flags = ("detailDescriptionFlag", "internalAnalysisFlag", "resolutionFlag")
        if not any(body.get(flag) is True for flag in flags):
            return invalid(
                "serviceNote",
                (
                    "InvalidField",
                    "detailDescriptionFlag",
                    "At least one of detailDescriptionFlag, internalAnalysisFlag or resolutionFlag must be true.",
                ),
            )
        note = self._add_note(
            ticket_id,
            body["text"],
            detail=body.get("detailDescriptionFlag") is True,
            internal=body.get("internalAnalysisFlag") is True,
            resolution=body.get("resolutionFlag") is True,
            notify=body.get("processNotifications", True) is not False,
        )
        return json_response(201, _public(note))

    def _add_note(
        self,
        ticket_id: int,
        text: str,
        *,
        detail: bool = False,
        internal: bool = False,
        resolution: bool = False,
        notify: bool = True,
    ) -> dict[str, Any]:
        note_id = next(self._ids)
        note = {
            "id": note_id,
            "ticketId": ticket_id,
            "text": text,
            "detailDescriptionFlag": detail,
            "internalAnalysisFlag": internal,
            "resolutionFlag": resolution,
            "processNotifications": notify,
            "dateCreated": _now(),
            "createdBy": PUBLIC_KEY,
        }
        self.notes[note_id] = note
        self.tickets[ticket_id]["_info"]["lastUpdated"] = _now()
        return note

    def _list_notes(self, request: Request, match: re.Match[str]) -> Response:
        ticket_id = int(match["id"])
        if ticket_id not in self.tickets:
            return cw_error(404, "NotFound", f"Ticket ID {ticket_id} not found.")
        rows = [note for note in self.notes.values() if note["ticketId"] == ticket_id]
        return self._list("notes", rows, request.query, request.path)

    @staticmethod
    def _ref(rows: dict[int, dict[str, Any]], ref_id: int) -> dict[str, Any]:
        return {"id": ref_id, "name": rows[ref_id]["name"]}


# --- conditions as ConnectWise reads them --------------------------------------------------------------


class ConditionsError(ValueError):
    pass


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<date>\[[^\]]*\])
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op>!=|<=|>=|=|<|>)
      | (?P<paren>[(),])
      | (?P<word>[A-Za-z_][A-Za-z0-9_/]*)
    )""",
    re.VERBOSE,
)

Test = Callable[[dict[str, Any]], bool]


def parse_conditions(text: str, known_fields: set[str]) -> Test:
    tokens = _tokens(text)
    parser = _Parser(tokens, {name.lower() for name in known_fields})
    test = parser.expression()
    if parser.position != len(tokens):
        raise ConditionsError(f"Unexpected {tokens[parser.position][1]!r} in conditions.")
    return test


def _tokens(text: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    position = 0
    while position < len(text):
        if not text[position:].strip():
            break
        match = _TOKEN.match(text, position)
        if match is None:
            raise ConditionsError(
                f"Cannot read the conditions at position {position}: {text[position : position + 20]!r}"
            )
        kind = match.lastgroup or ""
        raw = match.group(kind)
        if kind == "string":
            tokens.append(("value", re.sub(r"\\(.)", r"\1", raw[1:-1])))
        elif kind == "date":
            try:
                tokens.append(("value", datetime.fromisoformat(raw[1:-1].strip().replace("Z", "+00:00"))))
            except ValueError:
                raise ConditionsError(f"Not a date: {raw}") from None
        elif kind == "number":
            tokens.append(("value", float(raw) if "." in raw else int(raw)))
        elif kind == "word" and raw.lower() in ("true", "false"):
            tokens.append(("value", raw.lower() == "true"))
        elif kind == "word" and raw.lower() == "null":
            tokens.append(("value", None))
        elif kind == "word" and raw.lower() in ("and", "or", "not", "in", "contains", "like"):
            tokens.append(("keyword", raw.lower()))
        else:
            tokens.append((kind, raw))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, Any]], known: set[str]) -> None:
        self.tokens, self.known, self.position = tokens, known, 0

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, kind: str, value: Any = None) -> Any:
        token = self.peek()
        if token is None or token[0] != kind or (value is not None and token[1] != value):
            found = "the end" if token is None else repr(token[1])
            raise ConditionsError(f"Expected {value or kind} in conditions, found {found}.")
        self.position += 1
        return token[1]

    def accept(self, kind: str, value: Any) -> bool:
        if self.peek() == (kind, value):
            self.position += 1
            return True
        return False

    def expression(self) -> Test:
        tests = [self.conjunction()]
        while self.accept("keyword", "or"):
            tests.append(self.conjunction())
        return tests[0] if len(tests) == 1 else lambda row: any(test(row) for test in tests)

    def conjunction(self) -> Test:
        tests = [self.factor()]
        while self.accept("keyword", "and"):
            tests.append(self.factor())
        return tests[0] if len(tests) == 1 else lambda row: all(test(row) for test in tests)

    def factor(self) -> Test:
        if self.accept("paren", "("):
            inner = self.expression()
            self.take("paren", ")")
            return inner
        field = self.take("word")
        if field.split("/")[0].lower() not in self.known:
            raise ConditionsError(f"Unknown field {field!r} in conditions.")
        negated = self.accept("keyword", "not")
        if self.accept("keyword", "in"):
            values = {_normal(value) for value in self.values()}  # a set: a thousand ids stay quick
            return lambda row: (_normal(_value(row, field)) in values) != negated
        for keyword in ("contains", "like"):
            if self.accept("keyword", keyword):
                wanted = self.take("value")
                if not isinstance(wanted, str):
                    raise ConditionsError(f"{keyword} needs a string.")
                match = _contains if keyword == "contains" else _like
                return lambda row: match(_value(row, field), wanted) != negated
        if negated:
            raise ConditionsError("'not' must be followed by in, contains or like.")
        op = self.take("op")
        wanted = self.take("value")
        return lambda row: _compare(op, _value(row, field), wanted)

    def values(self) -> list[Any]:
        self.take("paren", "(")
        values = [self.take("value")]
        while self.accept("paren", ","):
            values.append(self.take("value"))
        self.take("paren", ")")
        return values


def _value(row: dict[str, Any], path: str) -> Any:
    value: Any = row
    for part in path.split("/"):
        if not isinstance(value, dict):
            return None
        value = next((v for k, v in value.items() if k.lower() == part.lower()), None)
    return value


def _normal(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return (
                datetime.fromisoformat(value.replace("Z", "+00:00"))
                if re.match(r"\d{4}-\d\d-\d\dT", value)
                else value.lower()
            )
        except ValueError:
            return value.lower()
    return value


def _equal(left: Any, right: Any) -> bool:
    return bool(_normal(left) == _normal(right))


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "=":
        return _equal(left, right)
    if op == "!=":
        return not _equal(left, right)
    a, b = _normal(left), _normal(right)
    if a is None or b is None:
        return False
    try:
        return bool({"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op])
    except TypeError:
        return False


def _contains(value: Any, wanted: str) -> bool:
    return isinstance(value, str) and wanted.lower() in value.lower()


def _like(value: Any, pattern: str) -> bool:
    regex = ".*".join(re.escape(part) for part in pattern.lower().split("%"))
    return isinstance(value, str) and re.fullmatch(regex, value.lower()) is not None


# The members a request body may have: ConnectWise refuses any other ("Could not find member").
BODY_MEMBERS = {
    "FilterValues": {"conditions", "orderBy", "childConditions", "customFieldConditions"},
    "Ticket": {
        "summary",
        "recordType",
        "board",
        "status",
        "company",
        "contact",
        "priority",
        "source",
        "type",
        "subType",
        "item",
        "owner",
        "team",
        "site",
        "severity",
        "impact",
        "externalXRef",
        "poNumber",
        "requiredDate",
        "budgetHours",
        "initialDescription",
        "initialInternalAnalysis",
        "initialResolution",
        "processNotifications",
        "skipCallback",
        "automaticEmailContactFlag",
        "customFields",
    },
    "ServiceNote": {
        "text",
        "detailDescriptionFlag",
        "internalAnalysisFlag",
        "resolutionFlag",
        "issueFlag",
        "member",
        "contact",
        "customerUpdatedFlag",
        "processNotifications",
        "internalFlag",
        "externalFlag",
    },
}


def _unknown_member(body: dict[str, Any], kind: str) -> Response | None:
    allowed = {name.lower() for name in BODY_MEMBERS[kind]}
    for name in body:
        if name.lower() not in allowed:
            return cw_error(
                400,
                "ConnectWiseApi",
                f"Could not find member '{name}' on object of type '{kind}'. Path '{name}'.",
            )
    return None


def _known_fields(entity: str, rows: list[dict[str, Any]]) -> set[str]:
    return ENTITY_FIELDS[entity] | {key for row in rows for key in row}


def _sort_key(value: Any) -> tuple[int, Any]:
    return (0, "") if value is None else (1, _normal(value) if not isinstance(value, dict) else str(value))


def _select(row: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """ConnectWise's ``fields``: only these (``a/b`` keeps part of a reference)."""
    if not fields:
        return row
    picked: dict[str, Any] = {}
    for field in fields:
        head, _, rest = field.partition("/")
        key = next((k for k in row if k.lower() == head.lower()), None)
        if key is None:
            continue
        if rest and isinstance(row[key], dict):
            picked.setdefault(key, {}).update(_select(row[key], [rest]))
        else:
            picked[key] = row[key]
    return picked


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(row)


def _endpoint(path: str) -> str:
    return re.sub(r"/\d+(?=/|$)", "/{id}", path)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
