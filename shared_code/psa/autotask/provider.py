"""Autotask as a ``PsaProvider``: the neutral models mapped to Autotask's entities and fields.

Updates never lose a ticket's ``description``: a status change is a PATCH carrying only ``id``
and ``status``. Where Autotask refuses PATCH (HTTP 405), the ticket is read and PUT back whole
with the change, because a PUT nulls every writable field it leaves out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from shared_code.psa import provider as psa
from shared_code.psa.autotask.client import AutotaskClient
from shared_code.psa.autotask.filters import Condition, Filter, Group

TICKET_FIELDS = (
    "id",
    "ticketNumber",
    "title",
    "description",
    "status",
    "companyID",
    "completedDate",
    "lastActivityDate",
)
COMPANY_FIELDS = ("id", "companyName", "isActive")
TICKET_PICKLISTS = {"queues": "queueID", "sources": "source", "priorities": "priority", "statuses": "status"}
NOTE_PICKLISTS = {"note_types": "noteType", "note_publish": "publish"}
TITLE_MAX = 255
DESCRIPTION_MAX = 8000


class AutotaskProvider:
    """Used as a context manager: leaving it closes the client's connections."""

    name = "autotask"
    label = "Autotask"
    max_ids_per_query = 500  # the query's ``in`` limit

    def __init__(
        self, client: AutotaskClient, *, note_type_id: int | None = None, note_publish_id: int | None = None
    ) -> None:
        self.client = client
        self._note_type_id = note_type_id
        self._note_publish_id = note_publish_id

    def __enter__(self) -> AutotaskProvider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    # --- connection and reference data ------------------------------------------------------------

    def test_connection(self) -> psa.ConnectionInfo:
        zone = self.client.zone()
        threshold = self.client.get("/ThresholdInformation")
        return psa.ConnectionInfo(
            zone=zone.name,
            api_url=zone.api_url,
            web_url=zone.web_url,
            user=self.client.credentials.username,
            usage=psa.ApiUsage(
                limit=threshold.get("externalRequestThreshold"),
                used=threshold.get("currentTimeframeRequestCount"),
                window_minutes=threshold.get("requestThresholdTimeframe"),
            ),
        )

    def reference_data(self) -> psa.ReferenceData:
        tickets = _picklists(self.client.get("/Tickets/entityInformation/fields"))
        notes = _picklists(self.client.get("/TicketNotes/entityInformation/fields"))
        values = {kind: tickets.get(field, []) for kind, field in TICKET_PICKLISTS.items()}
        values |= {kind: notes.get(field, []) for kind, field in NOTE_PICKLISTS.items()}
        return psa.ReferenceData(**values, refreshed_at=datetime.now(UTC))

    # --- companies -----------------------------------------------------------------------------------

    def search_companies(self, text: str, *, limit: int = 25) -> list[psa.Company]:
        text = text.strip()
        condition: Filter = Condition("companyName", "contains", text) if text else Condition("id", "gte", 0)
        if text.isdigit():
            condition = Group("or", (condition, Condition("id", "eq", int(text))))
        rows = self.client.query("Companies", [condition], include_fields=COMPANY_FIELDS, limit=limit)
        return sorted((_company(row) for row in rows), key=lambda company: company.name.lower())

    def get_company(self, company_id: int) -> psa.Company | None:
        row = self.client.get_item("Companies", company_id)
        return _company(row) if row else None

    def companies_by_ids(self, company_ids: Sequence[int]) -> list[psa.Company]:
        if not company_ids:
            return []
        rows = self.client.query(
            "Companies", [Condition("id", "in", sorted(set(company_ids)))], include_fields=COMPANY_FIELDS
        )
        return [_company(row) for row in rows]

    # --- tickets ---------------------------------------------------------------------------------------

    def create_ticket(self, draft: psa.TicketDraft) -> psa.Ticket:
        body: dict[str, Any] = {
            "companyID": draft.company_id,
            "title": draft.title[:TITLE_MAX],
            "description": draft.description[:DESCRIPTION_MAX],
            "status": draft.status_id,
            "priority": draft.priority_id,
        }
        optional = {"queueID": draft.queue_id, "source": draft.source_id, "dueDateTime": _iso(draft.due_at)}
        body |= {name: value for name, value in optional.items() if value is not None}
        created = self.client.request("POST", "/Tickets", json=body, idempotent=False)
        ticket_id = int(created["itemId"])
        return self.get_ticket(ticket_id) or psa.Ticket(
            id=ticket_id, number=None, web_url=self.ticket_web_url(ticket_id)
        )

    def find_created_ticket(self, draft: psa.TicketDraft, *, since: datetime) -> psa.Ticket | None:
        rows = self.client.query(
            "Tickets",
            [
                Condition("companyID", "eq", draft.company_id),
                Condition("title", "eq", draft.title[:TITLE_MAX]),
                Condition("createDate", "gte", _iso(since)),
            ],
            include_fields=TICKET_FIELDS,
        )
        mine = [row for row in rows if draft.reference in (row.get("description") or "")]
        return self._ticket(min(mine, key=lambda row: int(row["id"]))) if mine else None

    def get_ticket(self, ticket_id: int) -> psa.Ticket | None:
        row = self.client.get_item("Tickets", ticket_id, ticket_id=ticket_id)
        return self._ticket(row) if row else None

    def get_ticket_by_number(self, number: str) -> psa.Ticket | None:
        rows = self.client.query(
            "Tickets", [Condition("ticketNumber", "eq", number.strip())], include_fields=TICKET_FIELDS
        )
        return self._ticket(rows[0]) if rows else None

    def tickets_by_ids(
        self, ticket_ids: Sequence[int], *, excluding_status: int | None = None
    ) -> list[psa.Ticket]:
        if not ticket_ids:
            return []
        conditions: list[Filter] = [Condition("id", "in", sorted(set(ticket_ids)))]
        if excluding_status is not None:
            conditions.append(Condition("status", "noteq", excluding_status))
        return [
            self._ticket(row)
            for row in self.client.query("Tickets", conditions, include_fields=TICKET_FIELDS)
        ]

    def update_ticket_status(self, ticket_id: int, status_id: int) -> None:
        try:
            self.client.request(
                "PATCH", "/Tickets", json={"id": ticket_id, "status": status_id}, ticket_id=ticket_id
            )
        except psa.PsaRejected as error:
            if error.status != 405:
                raise
            self._replace_ticket(ticket_id, {"status": status_id})

    def _replace_ticket(self, ticket_id: int, changes: dict[str, Any]) -> None:
        """PUT the ticket as it is now plus ``changes``: everything left out of a PUT is nulled."""
        current = self.client.get_item("Tickets", ticket_id, ticket_id=ticket_id)
        if current is None:
            raise psa.PsaNotFound(f"Autotask ticket {ticket_id} no longer exists.", status=404)
        self.client.request(
            "PUT", "/Tickets", json={**current, **changes, "id": ticket_id}, ticket_id=ticket_id
        )

    def time_entries(self, ticket_id: int) -> list[psa.TimeEntry]:
        rows = self.client.query(
            "TimeEntries",
            [Condition("ticketID", "eq", ticket_id)],
            include_fields=("id", "ticketID", "hoursWorked", "dateWorked", "resourceID"),
            ticket_id=ticket_id,
        )
        return [
            psa.TimeEntry(
                id=row["id"],
                ticket_id=row.get("ticketID") or ticket_id,
                hours_worked=row.get("hoursWorked"),
                worked_at=row.get("dateWorked"),
                resource_id=row.get("resourceID"),
            )
            for row in rows
        ]

    def add_internal_note(self, ticket_id: int, *, title: str, text: str) -> int:
        note_type, publish = self._internal_note_choices()
        body = {"title": title[:250], "description": text, "noteType": note_type, "publish": publish}
        created = self.client.request(
            "POST", f"/Tickets/{ticket_id}/Notes", json=body, idempotent=False, ticket_id=ticket_id
        )
        return int(created["itemId"])

    def ticket_web_url(self, ticket_id: int) -> str | None:
        web = self.client.zone().web_url
        if not web:
            return None
        return f"{web.rstrip('/')}/Autotask/AutotaskExtend/ExecuteCommand.aspx?Code=OpenTicketDetail&TicketID={ticket_id}"

    # --- mapping ----------------------------------------------------------------------------------------

    def _ticket(self, row: dict[str, Any]) -> psa.Ticket:
        ticket_id = int(row["id"])
        return psa.Ticket(
            id=ticket_id,
            number=row.get("ticketNumber"),
            title=row.get("title"),
            description=row.get("description"),
            status_id=row.get("status"),
            company_id=row.get("companyID"),
            completed_at=row.get("completedDate"),
            last_activity_at=row.get("lastActivityDate"),
            web_url=self.ticket_web_url(ticket_id),
        )

    def _internal_note_choices(self) -> tuple[int, int]:
        """The note type and the ``publish`` value meaning "internal users only", from the
        TicketNotes picklists unless configured."""
        if self._note_type_id is None or self._note_publish_id is None:
            picklists = _picklists(self.client.get("/TicketNotes/entityInformation/fields"))
            if self._note_publish_id is None:
                self._note_publish_id = _internal_publish(picklists.get("publish", []))
            if self._note_type_id is None:
                self._note_type_id = _default_value(picklists.get("noteType", []), "noteType")
        return self._note_type_id, self._note_publish_id


def _picklists(body: dict[str, Any]) -> dict[str, list[psa.PicklistValue]]:
    found: dict[str, list[psa.PicklistValue]] = {}
    for field in body.get("fields") or []:
        if not field.get("isPickList"):
            continue
        found[field["name"]] = [
            psa.PicklistValue(
                id=int(value["value"]),
                label=str(value.get("label") or value["value"]),
                active=bool(value.get("isActive", True)),
                is_default=bool(value.get("isDefaultValue", False)),
            )
            for value in field.get("picklistValues") or []
            if str(value.get("value", "")).lstrip("-").isdigit()
        ]
    return found


def internal_publish_id(values: Sequence[psa.PicklistValue]) -> int | None:
    """The ``publish`` choice for internal users: its label says "internal"."""
    internal = [value for value in values if value.active and "internal" in value.label.lower()]
    return internal[0].id if internal else None


def _internal_publish(values: list[psa.PicklistValue]) -> int:
    found = internal_publish_id(values)
    if found is None:
        raise psa.PsaRejected("Autotask's TicketNotes 'publish' picklist has no internal choice.")
    return found


def _default_value(values: list[psa.PicklistValue], name: str) -> int:
    active = [value for value in values if value.active]
    if not active:
        raise psa.PsaRejected(f"Autotask's TicketNotes {name!r} picklist has no active value.")
    return next((value.id for value in active if value.is_default), active[0].id)


def _company(row: dict[str, Any]) -> psa.Company:
    return psa.Company(
        id=int(row["id"]), name=str(row.get("companyName") or ""), active=bool(row.get("isActive", True))
    )


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
