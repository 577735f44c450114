"""A fake Autotask REST API on loopback, behaving as the real one does where Backupchecks cares.

Served (under ``{zone}/ATServicesRest/V1.0``, the zone lookup under ``/atservicesrest/V1.0``):
- ``GET zoneInformation?user=``: the zone of a known user; ``move_zone()`` moves the database to
  another zone, after which the old zone answers 401 (as Autotask does);
- ``POST /{Entity}/query`` with JSON filters (``eq noteq gt gte lt lte beginsWith endsWith
  contains exist notExist in notIn`` and ``and``/``or`` groups). An unknown operator is ignored,
  so the query answers every row, as Autotask does. ``MaxRecords`` over 500 is refused; pages
  continue at ``pageDetails.nextPageUrl`` (POST with the same body; GET answers 405);
- ``GET /{Entity}/{id}``: ``{"item": …}``, ``{"item": null}`` when missing (or 404, see
  ``missing_as_404``);
- ``GET /{Entity}/entityInformation/fields`` with picklists for Tickets and TicketNotes;
- Tickets ``POST`` (required fields, picklist values, length limits; errors as HTTP 500 with
  ``{"errors": [...]}``), ``PATCH`` (only the given fields change), ``PUT`` (every writable field
  left out becomes null), ``POST /Tickets/{id}/Notes`` (``POST /TicketNotes`` answers 404);
- Companies and TimeEntries (query, get); ``GET /ThresholdInformation``.

Every request is counted (``count``), so tests can prove that nothing called Autotask. Faults
(``fail``) answer a status before the request is handled, or delay the answer after it was
handled (a create stored whose answer the client never sees), for the next N matching requests
or a share of them. ``route`` adds handlers, so later features extend the fake without forking it.
"""

from __future__ import annotations

import copy
import itertools
import json
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from tests.support.loopback import LoopbackServer
from tests.support.loopback_http import Response, json_handler, json_response

USERNAME = "api-user@example.test"
SECRET = "fake-autotask-secret-Zq7!x"
INTEGRATION_CODE = "FAKE-TRACKING-ID-0001"
MAX_RECORDS = 500

QUEUES = {29683378: "Monitoring Alert", 29683379: "Service Desk", 29683380: "Backups (inactive)"}
INACTIVE_QUEUES = {29683380}
SOURCES = {2: "Phone", 4: "Email", 8: "Monitoring Alert"}
PRIORITIES = {1: "High", 2: "Medium", 3: "Low", 4: "Critical"}
STATUSES = {1: "New", 5: "Complete", 8: "In Progress", 12: "Waiting Customer"}
COMPLETE = 5
NOTE_TYPES = {1: "Task Detail", 3: "Task Notes"}
NOTE_PUBLISH = {1: "All Autotask Users", 2: "Internal Project Team", 3: "Internal Only"}

# Tickets fields a PUT rewrites; what a PUT leaves out becomes null (read-only ones are kept).
TICKET_WRITABLE = (
    "companyID",
    "title",
    "description",
    "status",
    "priority",
    "queueID",
    "source",
    "dueDateTime",
    "issueType",
    "subIssueType",
    "ticketType",
    "assignedResourceID",
)
TICKET_READ_ONLY = ("id", "ticketNumber", "createDate", "lastActivityDate", "completedDate")
TICKET_LIMITS = {"title": 255, "description": 8000}
NOTE_LIMITS = {"title": 250, "description": 32000}


@dataclass
class Request:
    method: str
    path: str  # after the API root, e.g. /Tickets/query
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    status: int | None  # None: handle normally, only delayed
    remaining: int
    share: float
    headers: dict[str, str]
    body: Any
    delay: float  # seconds before answering (after handling when status is None)


Handler = Callable[[Request, re.Match[str]], Response]


def errors_response(*texts: str, status: int = 500) -> Response:
    """Autotask's error shape; validation errors come as HTTP 500."""
    return json_response(status, {"errors": list(texts)})


def enabled_body(**changes: Any) -> dict[str, Any]:
    """A settings body (PUT /api/settings/autotask) that enables the integration against this fake:
    its credentials and choices from its reference data."""
    body: dict[str, Any] = {
        "enabled": True,
        "environment": "sandbox",
        "username": USERNAME,
        "integration_code": INTEGRATION_CODE,
        "secret": SECRET,
        "backupchecks_base_url": "https://backupchecks.example.test",
        "queue_id": 29683378,
        "source_id": 8,
        "status_id": 1,
        "priority_warning_id": 3,
        "priority_failed_id": 1,
        "completed_status_id": COMPLETE,
        "due_hours": 8,
    }
    return {**body, **changes}


class FakeAutotask:
    def __init__(self, *, seed: int = 13) -> None:
        self._lock = threading.RLock()
        self._random = random.Random(seed)
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._install_routes()
        self.reset()
        self.loopback = LoopbackServer(json_handler(self.handle), "fake-autotask")

    def start(self) -> FakeAutotask:
        """Serve (the address was fixed when the fake was made)."""
        self.loopback.start()
        return self

    # --- configuration the app is pointed at ---------------------------------------------------

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.loopback.port}"

    @property
    def zone_lookup_url(self) -> str:
        return f"{self.origin}/atservicesrest"

    @property
    def api_url(self) -> str:
        return f"{self.origin}/{self.zone}/ATServicesRest/V1.0"

    def env(self) -> dict[str, str]:
        """The app settings that point the app's Autotask client here."""
        return {"AUTOTASK_ZONE_LOOKUP_URL": self.zone_lookup_url, "AUTOTASK_TIMEOUT_SECONDS": "5"}

    @property
    def web_url(self) -> str:
        return f"{self.origin}/web-{self.zone}/"

    # --- state that tests arrange and inspect ------------------------------------------------------

    def reset(self) -> None:
        with self._lock:
            self.zone = "zone1"
            self.users = {USERNAME.lower(): (SECRET, INTEGRATION_CODE)}
            self.missing_as_404 = False
            self.patch_allowed = True
            self.ignored_patches = False  # PATCH answers 200 but changes nothing
            self.required_on_create = {"companyID", "title", "status", "priority", "dueDateTime"}
            self.requests: list[tuple[str, str]] = []
            self.faults: list[Fault] = []
            self.tickets: dict[int, dict[str, Any]] = {}
            self.companies: dict[int, dict[str, Any]] = {}
            self.time_entries: dict[int, dict[str, Any]] = {}
            self.notes: dict[int, dict[str, Any]] = {}
            self.threshold_used = 0
            self._in_flight: dict[str, int] = {}
            self.max_in_flight: dict[str, int] = {}  # endpoint (e.g. "tickets") -> most at once
            self._ids = itertools.count(9001)
            self._pages: dict[str, list[dict[str, Any]]] = {}

    def add_company(self, name: str, *, active: bool = True, company_id: int | None = None) -> int:
        with self._lock:
            company_id = company_id or next(self._ids)
            self.companies[company_id] = {"id": company_id, "companyName": name, "isActive": active}
            return company_id

    def add_ticket(self, **fields: Any) -> dict[str, Any]:
        """A ticket made in Autotask by someone else (defaults for what is not given)."""
        with self._lock:
            ticket = self._new_ticket({"title": "Existing ticket", "status": 1, "priority": 2, **fields})
            return copy.deepcopy(ticket)

    def add_time_entry(self, ticket_id: int, hours: float = 0.5, resource_id: int = 29682885) -> int:
        with self._lock:
            entry_id = next(self._ids)
            self.time_entries[entry_id] = {
                "id": entry_id,
                "ticketID": ticket_id,
                "hoursWorked": hours,
                "dateWorked": _now(),
                "resourceID": resource_id,
            }
            return entry_id

    def set_status(self, ticket_id: int, status: int) -> None:
        """A change made in Autotask by a person."""
        with self._lock:
            ticket = self.tickets[ticket_id]
            ticket["status"] = status
            ticket["completedDate"] = _now() if status == COMPLETE else None
            ticket["lastActivityDate"] = _now()

    def delete_ticket(self, ticket_id: int) -> None:
        with self._lock:
            del self.tickets[ticket_id]

    def move_zone(self, zone: str = "zone2") -> None:
        """The database moves: the old zone answers 401 from now on, the lookup gives the new one."""
        with self._lock:
            self.zone = zone

    def fail(
        self,
        method: str,
        path_pattern: str,
        status: int | None = 500,
        *,
        times: int = 1,
        share: float = 1.0,
        headers: dict[str, str] | None = None,
        body: Any = None,
        delay: float = 0.0,
    ) -> None:
        """The next ``times`` matching requests (each with probability ``share``) answer ``status``
        with ``body`` (default ``{"errors": [...]}``) before they are handled; with ``status=None``
        they are handled and then answered ``delay`` seconds late."""
        with self._lock:
            self.faults.append(
                Fault(
                    method.upper(), re.compile(path_pattern), status, times, share, headers or {}, body, delay
                )
            )

    def count(self, method: str | None = None, path: str | None = None, *, contains: str = "") -> int:
        """Requests seen: by method, exact path under the API root (or the zone lookup), or part."""
        with self._lock:
            return sum(
                1
                for m, p in self.requests
                if (method is None or m == method) and (path is None or p == path) and contains in p
            )

    def route(self, method: str, path_pattern: str, handler: Handler) -> None:
        """Serve ``method`` on paths (under the API root) matching ``path_pattern``, before the
        built-in routes. The handler runs under the fake's lock."""
        self._routes.insert(0, (method.upper(), re.compile(path_pattern + "$"), handler))

    def stop(self) -> None:
        self.loopback.stop()

    # --- request handling ---------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
        """Counts the requests in flight per endpoint (Autotask allows 3 per tracking identifier)."""
        endpoint = _endpoint(unquote(urlsplit(target).path))
        with self._lock:
            self._in_flight[endpoint] = self._in_flight.get(endpoint, 0) + 1
            self.max_in_flight[endpoint] = max(self.max_in_flight.get(endpoint, 0), self._in_flight[endpoint])
        try:
            return self._handle(method, target, headers, body)
        finally:
            with self._lock:
                self._in_flight[endpoint] -= 1

    def _handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
        split = urlsplit(target)
        raw_path = unquote(split.path)
        query = {k: v[0] for k, v in parse_qs(split.query).items()}
        lookup = re.fullmatch(r"/atservicesrest/v1\.0/zoneinformation", raw_path, re.IGNORECASE)
        api = re.fullmatch(r"/(?P<zone>[^/]+)/ATServicesRest/V1\.0(?P<path>/.*)", raw_path, re.IGNORECASE)
        path = "zoneInformation" if lookup else api["path"] if api else raw_path
        with self._lock:
            self.requests.append((method, path))
            fault = self._take_fault(method, path)
        if fault is not None and fault.status is not None:
            time.sleep(fault.delay)
            payload = fault.body if fault.body is not None else {"errors": [f"Injected fault {fault.status}"]}
            return Response(
                fault.status, json.dumps(payload).encode() if payload != "" else b"", fault.headers
            )
        if lookup:
            response = self._zone_information(query.get("user", ""))
        elif api is None:
            response = Response(404)
        elif not self._authorized(api["zone"], headers):
            response = Response(401)
        else:
            with self._lock:
                self.threshold_used += 1
                response = self._dispatch(Request(method, api["path"], query, headers, body))
        if fault is not None:
            time.sleep(fault.delay)  # handled (e.g. stored), answered late
        return response

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.remaining > 0 and fault.method == method and fault.path.search(path):
                if self._random.random() >= fault.share:
                    return None
                fault.remaining -= 1
                return fault
        return None

    def _zone_information(self, user: str) -> Response:
        if user.lower() not in self.users:
            return errors_response(f"Zone information could not be determined for user '{user}'.")
        return json_response(
            200,
            {
                "zoneName": f"Fake {self.zone}",
                "url": f"{self.origin}/{self.zone}/ATServicesRest/",
                "webUrl": self.web_url,
                "ci": 1,
            },
        )

    def _authorized(self, zone: str, headers: dict[str, str]) -> bool:
        with self._lock:
            known = self.users.get(headers.get("username", "").lower())
            current_zone = self.zone
        return (
            zone == current_zone
            and known is not None
            and headers.get("secret") == known[0]
            and headers.get("apiintegrationcode") == known[1]
        )

    def _dispatch(self, request: Request) -> Response:
        for method, pattern, handler in self._routes:
            if (match := pattern.match(request.path)) and method == request.method:
                return handler(request, match)
        if any(pattern.match(request.path) for _, pattern, _ in self._routes):
            return errors_response(
                f"The requested resource does not support http method '{request.method}'.", status=405
            )
        return Response(404)

    def _install_routes(self) -> None:
        entity = r"/(?P<entity>Tickets|Companies|TimeEntries|TicketNotes)"
        self.route("GET", r"/ThresholdInformation", self._threshold)
        self.route("GET", entity + r"/entityInformation/fields", self._fields)
        self.route("POST", entity + r"/query", self._query)
        self.route("POST", entity + r"/query/next", self._next_page)
        self.route("GET", entity + r"/query/next", self._next_page_by_get)
        self.route("GET", entity + r"/(?P<id>-?\d+)", self._get)
        self.route("POST", r"/Tickets", self._create_ticket)
        self.route("PATCH", r"/Tickets", self._patch_ticket)
        self.route("PUT", r"/Tickets", self._put_ticket)
        self.route("POST", r"/Tickets/(?P<id>\d+)/Notes", self._create_note)

    # --- entities ------------------------------------------------------------------------------

    def _rows(self, entity: str) -> dict[int, dict[str, Any]]:
        return {
            "Tickets": self.tickets,
            "Companies": self.companies,
            "TimeEntries": self.time_entries,
            "TicketNotes": self.notes,
        }[entity]

    def _threshold(self, request: Request, match: re.Match[str]) -> Response:
        return json_response(
            200,
            {
                "externalRequestThreshold": 10000,
                "requestThresholdTimeframe": 60,
                "currentTimeframeRequestCount": self.threshold_used,
            },
        )

    def _fields(self, request: Request, match: re.Match[str]) -> Response:
        picklists = {
            "Tickets": {"queueID": QUEUES, "source": SOURCES, "priority": PRIORITIES, "status": STATUSES},
            "TicketNotes": {"noteType": NOTE_TYPES, "publish": NOTE_PUBLISH},
        }.get(match["entity"], {})
        fields: list[dict[str, Any]] = [{"name": "id", "dataType": "long", "isPickList": False}]
        for name, values in picklists.items():
            fields.append(
                {
                    "name": name,
                    "dataType": "integer",
                    "isPickList": True,
                    "picklistValues": [
                        {
                            "value": str(value),
                            "label": label,
                            "isDefaultValue": index == 0,
                            "sortOrder": index,
                            "parentValue": "",
                            "isActive": value not in INACTIVE_QUEUES,
                            "isSystem": False,
                        }
                        for index, (value, label) in enumerate(values.items())
                    ],
                }
            )
        return json_response(200, {"fields": fields})

    def _get(self, request: Request, match: re.Match[str]) -> Response:
        row = self._rows(match["entity"]).get(int(match["id"]))
        if row is None and self.missing_as_404:
            return Response(404)
        return json_response(200, {"item": copy.deepcopy(row)})

    def _query(self, request: Request, match: re.Match[str]) -> Response:
        body = request.json() or {}
        body = {key.lower(): value for key, value in body.items()}
        size = int(body.get("maxrecords") or MAX_RECORDS)
        if not 1 <= size <= MAX_RECORDS:
            return errors_response(f"MaxRecords must be between 1 and {MAX_RECORDS}.")
        rows = [
            row
            for _, row in sorted(self._rows(match["entity"]).items())
            if all(_matches(row, item) for item in body.get("filter") or [])
        ]
        include = [name for name in body.get("includefields") or []]
        rows = [_include(row, include) for row in rows]
        return self._page(match["entity"], rows, size)

    def _page(self, entity: str, rows: list[dict[str, Any]], size: int) -> Response:
        page, rest = rows[:size], rows[size:]
        next_url = None
        if rest:
            token = f"{next(self._ids)}"
            self._pages[token] = rest
            paging = quote(json.dumps({"pageSize": size, "token": token}))
            next_url = f"{self.api_url}/{entity}/query/next?paging={paging}"
        details = {"count": len(page), "requestCount": size, "prevPageUrl": None, "nextPageUrl": next_url}
        return json_response(200, {"items": copy.deepcopy(page), "pageDetails": details})

    def _next_page(self, request: Request, match: re.Match[str]) -> Response:
        try:
            paging = json.loads(request.query.get("paging", ""))
            rest = self._pages.pop(paging["token"])
        except (ValueError, KeyError):
            return errors_response("The paging token is not valid.")
        return self._page(match["entity"], rest, int(paging["pageSize"]))

    def _next_page_by_get(self, request: Request, match: re.Match[str]) -> Response:
        return errors_response("The requested resource does not support http method 'GET'.", status=405)

    # --- tickets --------------------------------------------------------------------------------

    def _create_ticket(self, request: Request, match: re.Match[str]) -> Response:
        body = request.json() or {}
        if problems := self._ticket_problems(body, self.required_on_create):
            return errors_response(*problems)
        ticket = self._new_ticket({name: body.get(name) for name in TICKET_WRITABLE if name in body})
        return json_response(200, {"itemId": ticket["id"]})

    def _new_ticket(self, fields: dict[str, Any]) -> dict[str, Any]:
        ticket_id = fields.pop("id", None) or next(self._ids)
        now = _now()
        ticket: dict[str, Any] = {name: None for name in TICKET_WRITABLE}
        ticket |= {
            "id": ticket_id,
            "ticketNumber": fields.pop("ticketNumber", None)
            or f"T{datetime.now(UTC):%Y%m%d}.{ticket_id % 10000:04d}",
            "createDate": now,
            "lastActivityDate": now,
            "completedDate": None,
        }
        if "companyID" not in fields:
            ticket["companyID"] = next(iter(self.companies), None) or self.add_company("Some customer")
        ticket |= fields
        self.tickets[ticket_id] = ticket
        return ticket

    def _patch_ticket(self, request: Request, match: re.Match[str]) -> Response:
        if not self.patch_allowed:
            return errors_response("The requested resource does not support http method 'PATCH'.", status=405)
        body = request.json() or {}
        ticket = self.tickets.get(int(body.get("id") or 0))
        if ticket is None:
            return errors_response(f"Entity with id {body.get('id')} was not found.")
        changes = {name: value for name, value in body.items() if name in TICKET_WRITABLE}
        if problems := self._ticket_problems({**ticket, **changes}, set()):
            return errors_response(*problems)
        if not self.ignored_patches:
            self._apply(ticket, changes)
        return json_response(200, {"itemId": ticket["id"]})

    def _put_ticket(self, request: Request, match: re.Match[str]) -> Response:
        body = request.json() or {}
        ticket = self.tickets.get(int(body.get("id") or 0))
        if ticket is None:
            return errors_response(f"Entity with id {body.get('id')} was not found.")
        replacement = {name: body.get(name) for name in TICKET_WRITABLE}  # left out: null
        if problems := self._ticket_problems(replacement, self.required_on_create - {"dueDateTime"}):
            return errors_response(*problems)
        self._apply(ticket, replacement)
        return json_response(200, {"itemId": ticket["id"]})

    def _apply(self, ticket: dict[str, Any], changes: dict[str, Any]) -> None:
        if "status" in changes and changes["status"] != ticket.get("status"):
            ticket["completedDate"] = _now() if changes["status"] == COMPLETE else None
        ticket.update(changes)
        ticket["lastActivityDate"] = _now()

    def _ticket_problems(self, ticket: dict[str, Any], required: set[str]) -> list[str]:
        problems = [
            f"Missing Required Field: {name}" for name in sorted(required) if ticket.get(name) in (None, "")
        ]
        for name, limit in TICKET_LIMITS.items():
            if len(str(ticket.get(name) or "")) > limit:
                problems.append(f"Value for field {name} exceeds the maximum length of {limit} characters.")
        picklists = {"queueID": QUEUES, "source": SOURCES, "priority": PRIORITIES, "status": STATUSES}
        for name, values in picklists.items():
            value = ticket.get(name)
            if value is not None and int(value) not in values:
                problems.append(f"Value {value} does not exist for the field {name}.")
        if ticket.get("companyID") is not None and int(ticket["companyID"]) not in self.companies:
            problems.append(f"Value {ticket['companyID']} does not exist for the field companyID.")
        return problems

    def _create_note(self, request: Request, match: re.Match[str]) -> Response:
        body = request.json() or {}
        ticket_id = int(match["id"])
        if ticket_id not in self.tickets:
            return errors_response(f"Parent entity with id {ticket_id} was not found.")
        problems = [
            f"Missing Required Field: {n}"
            for n in ("description", "noteType", "publish", "title")
            if not body.get(n)
        ]
        problems += [
            f"Value for field {n} exceeds the maximum length of {limit} characters."
            for n, limit in NOTE_LIMITS.items()
            if len(str(body.get(n) or "")) > limit
        ]
        if body.get("publish") and int(body["publish"]) not in NOTE_PUBLISH:
            problems.append(f"Value {body['publish']} does not exist for the field publish.")
        if problems:
            return errors_response(*problems)
        note_id = next(self._ids)
        self.notes[note_id] = {
            "id": note_id,
            "ticketID": ticket_id,
            **{n: body.get(n) for n in ("title", "description", "noteType", "publish")},
            "createDateTime": _now(),
        }
        self.tickets[ticket_id]["lastActivityDate"] = _now()
        return json_response(200, {"itemId": note_id})


# --- filters as Autotask evaluates them ---------------------------------------------------------


def _matches(row: dict[str, Any], item: dict[str, Any]) -> bool:
    item = {key.lower(): value for key, value in item.items()}
    op = str(item.get("op", ""))
    if op.lower() in ("and", "or"):
        results = [_matches(row, child) for child in item.get("items") or []]
        return all(results) if op.lower() == "and" else any(results)
    value = _field(row, str(item.get("field", "")))
    wanted = item.get("value")
    test = _OPERATORS.get(op)
    if test is None:
        return True  # Autotask ignores a condition it does not understand
    return test(value, wanted)


def _field(row: dict[str, Any], name: str) -> Any:
    for key, value in row.items():
        if key.lower() == name.lower():
            return value
    return None


def _comparable(value: Any, wanted: Any) -> tuple[Any, Any]:
    if isinstance(value, str) and isinstance(wanted, str):
        return value.lower(), wanted.lower()
    if isinstance(value, int | float) and isinstance(wanted, str):
        try:
            return value, float(wanted)
        except ValueError:
            return str(value), wanted
    return value, wanted


def _compare(test: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def compare(value: Any, wanted: Any) -> bool:
        if value is None or wanted is None:
            return False
        left, right = _comparable(value, wanted)
        try:
            return test(left, right)
        except TypeError:
            return False

    return compare


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": _compare(lambda a, b: a == b),
    "noteq": lambda a, b: not _compare(lambda x, y: x == y)(a, b),
    "gt": _compare(lambda a, b: a > b),
    "gte": _compare(lambda a, b: a >= b),
    "lt": _compare(lambda a, b: a < b),
    "lte": _compare(lambda a, b: a <= b),
    "beginsWith": _compare(lambda a, b: str(a).startswith(str(b))),
    "endsWith": _compare(lambda a, b: str(a).endswith(str(b))),
    "contains": _compare(lambda a, b: str(b) in str(a)),
    "exist": lambda a, b: a not in (None, ""),
    "notExist": lambda a, b: a in (None, ""),
    "in": lambda a, b: any(_compare(lambda x, y: x == y)(a, v) for v in b or []),
    "notIn": lambda a, b: not any(_compare(lambda x, y: x == y)(a, v) for v in b or []),
}


def _include(row: dict[str, Any], include: list[str]) -> dict[str, Any]:
    if not include:
        return row
    wanted = {name.lower() for name in include} | {"id"}
    return {key: value for key, value in row.items() if key.lower() in wanted}


def _endpoint(path: str) -> str:
    parts = [part.lower() for part in path.split("/") if part]
    return parts[parts.index("v1.0") + 1] if "v1.0" in parts[:-1] else "/".join(parts)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
