"""ConnectWise PSA as Backupchecks uses it: settings checks, companies, one ticket per run, the
poll and the operator's Resolve, in ConnectWise's terms.

- A ticket's number is its id. A new ticket carries the run's reference in ``externalXRef``, so a
  create whose answer was lost is found again (``find_created_ticket``) instead of made twice.
- Updates are JSON Patch documents (``[{"op": "replace", "path": "status/id", "value": 5}]``):
  only the status changes, nothing else on the ticket.
- ConnectWise answers 200 to a status it then ignores (a status of another board, or one the
  board's workflow refuses), so a status change is always fetched again and compared
  (``set_status_verified`` raises ``StatusNotTaken``).
- Notes from Backupchecks are internal analysis notes (``internalAnalysisFlag``; not the
  description, not the resolution, no notification e-mails).
- The poll asks for the open tickets among those linked, a thousand ids per ``…/search``
  request, then looks up each one not returned: closed (closed in the PSA) or 404 (deleted).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr

from shared_code.psa.connectwise import errors as cw
from shared_code.psa.connectwise.client import (
    MAX_PAGE_SIZE,
    ConnectWiseClient,
    Credentials,
    RetryPolicy,
)
from shared_code.psa.connectwise.conditions import Condition, all_of, is_in, where
from shared_code.psa.connectwise.models import (
    SUMMARY_MAX,
    Board,
    BoardStatus,
    Company,
    CompanyCheck,
    ConnectionInfo,
    Priority,
    ReferenceData,
    ResolveOutcome,
    Source,
    Ticket,
    TicketDraft,
    TimeEntry,
)
from shared_code.psa.connectwise.records import (
    BoardRecord,
    BoardStatusRecord,
    CompanyRecord,
    CompanyStatusRecord,
    NoteCreate,
    NoteRecord,
    PatchOperation,
    PriorityRecord,
    Record,
    Reference,
    SourceRecord,
    SystemInfo,
    TicketCreate,
    TicketRecord,
    TimeEntryRecord,
    fields_of,
    parse,
    patch_body,
)

NOTE_MAX = 4000  # what Backupchecks writes stays well inside a note
COMPANY_IDS_PER_QUERY = 100  # company checks use GET (conditions in the URL): keep it short
# ConnectWise stamps dateEntered by its own clock, to the second: a create is looked for from a
# little before it was sent.
CLOCK_SKEW = timedelta(minutes=5)
SKIPPED_NO_CLOSED_STATUS = "No closed status is configured for ConnectWise, so the note was posted and the ticket's status left as it is."


class NoteText(BaseModel):
    title: str = Field(min_length=1)
    text: str = Field(min_length=1)


class TicketPoll(BaseModel):
    """The linked tickets as ConnectWise has them now. A ticket whose lookup failed is in
    ``failed`` (id → why), to be tried again at the next poll; it never fails the others."""

    open: list[Ticket] = Field(default_factory=list)
    closed: list[Ticket] = Field(default_factory=list)
    deleted: list[int] = Field(default_factory=list)
    failed: dict[int, str] = Field(default_factory=dict)


class ConnectWiseProvider:
    name = "connectwise"  # as stored with a ticket link
    label = "ConnectWise PSA"

    def __init__(self, client: ConnectWiseClient) -> None:
        self.client = client
        self._inactive_company_statuses: set[int] | None = None

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> ConnectWiseProvider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- connection and reference data ------------------------------------------------------------

    def test_connection(self) -> ConnectionInfo:
        info = parse(SystemInfo, self.client.get("/system/info"))
        return ConnectionInfo(
            api_url=self.client.api_url,
            company_id=self.client.credentials.company_id,
            version=info.version,
            is_cloud=info.is_cloud,
            server_time_zone=info.server_time_zone,
            cloud_region=info.cloud_region,
        )

    def reference_data(self) -> ReferenceData:
        boards = [
            Board(id=board.id, name=board.name, inactive=board.inactive_flag)
            for board in self._records(BoardRecord, "/service/boards", order_by="name")
        ]
        statuses = [status for board in boards for status in self.board_statuses(board.id)]
        priorities = [
            Priority(id=priority.id, name=priority.name, sort=priority.sort_order)
            for priority in self._records(PriorityRecord, "/service/priorities")
        ]
        sources = [
            Source(id=source.id, name=source.name, default=source.default_flag)
            for source in self._records(SourceRecord, "/service/sources")
        ]
        return ReferenceData(
            boards=boards, statuses=statuses, priorities=priorities, sources=sources, refreshed_at=_now()
        )

    def board_statuses(self, board_id: int) -> list[BoardStatus]:
        return [
            BoardStatus(
                id=status.id,
                name=status.name,
                board_id=board_id,
                closed=status.closed_status,
                inactive=status.inactive,
                default=status.default_flag,
            )
            for status in self._records(
                BoardStatusRecord, f"/service/boards/{board_id}/statuses", order_by="sortOrder"
            )
        ]

    # --- companies -----------------------------------------------------------------------------------

    def search_companies(self, text: str, *, limit: int = 25) -> list[Company]:
        """Companies whose name contains ``text`` (or whose id it is), deleted ones left out."""
        text = text.strip()
        condition = where("deletedFlag", "=", False)
        if text:
            matching = where("name", "contains", text)
            if text.isdigit() and len(text) <= 9:
                matching = matching | where("id", "=", int(text))
            condition = condition & matching
        records = self._records(
            CompanyRecord, "/company/companies", conditions=condition, order_by="name", limit=limit
        )
        return [self._company(record) for record in records]

    def get_company(self, company_id: int) -> Company | None:
        row = self.client.get_or_none(f"/company/companies/{company_id}")
        return self._company(parse(CompanyRecord, row)) if row else None

    def companies_by_ids(self, company_ids: Sequence[int]) -> list[Company]:
        """The companies ConnectWise has with these ids: one query per hundred ids, then one
        lookup per company the query did not return (deleted companies are left out of lists but
        still read by id, flagged ``deleted``); ids ConnectWise does not know are left out."""
        ids = sorted(set(company_ids))
        found: dict[int, Company] = {}
        for chunk in _chunks(ids, COMPANY_IDS_PER_QUERY):
            records = self._records(CompanyRecord, "/company/companies", conditions=is_in("id", chunk))
            found |= {company.id: company for company in map(self._company, records)}
        for company_id in ids:
            if company_id not in found and (company := self.get_company(company_id)) is not None:
                found[company_id] = company
        return [found[company_id] for company_id in ids if company_id in found]

    def check_companies(self, cached_names: dict[int, str | None]) -> list[CompanyCheck]:
        """Each mapped company (id → the name stored with the mapping) as ConnectWise has it now:
        ok, renamed (``name`` is the new one), inactive, deleted or missing."""
        found = {company.id: company for company in self.companies_by_ids(list(cached_names))}
        return [
            _company_check(company_id, found.get(company_id), cached_names[company_id])
            for company_id in sorted(cached_names)
        ]

    def _company(self, record: CompanyRecord) -> Company:
        status = record.status
        return Company(
            id=record.id,
            identifier=record.identifier,
            name=record.name,
            status_id=status.id if status else None,
            status_name=status.name if status else None,
            active=status is None or status.id not in self._inactive_statuses(),
            deleted=record.deleted_flag,
        )

    def _inactive_statuses(self) -> set[int]:
        """The company statuses ConnectWise flags inactive (read once per provider)."""
        if self._inactive_company_statuses is None:
            statuses = self._records(
                CompanyStatusRecord,
                "/company/companies/statuses",
                conditions=where("inactiveFlag", "=", True),
            )
            self._inactive_company_statuses = {status.id for status in statuses}
        return self._inactive_company_statuses

    # --- tickets ---------------------------------------------------------------------------------------

    def create_ticket(self, draft: TicketDraft) -> Ticket:
        """Sent once: raises ``OutcomeUnknown`` when ConnectWise may have stored it anyway."""
        body = TicketCreate(
            summary=_summary(draft.title),
            company=Reference(id=draft.company_id),
            board=Reference(id=draft.board_id),
            status=Reference(id=draft.status_id),
            priority=Reference(id=draft.priority_id),
            source=Reference(id=draft.source_id) if draft.source_id is not None else None,
            initial_description=draft.description,
            external_x_ref=draft.reference,
        )
        created = self.client.request("POST", "/service/tickets", json=body.body(), idempotent=False).body
        return self._ticket(parse(TicketRecord, created))

    def find_created_ticket(self, draft: TicketDraft, *, since: datetime) -> Ticket | None:
        """The ticket an earlier ``create_ticket(draft)`` stored at or after ``since``, if any."""
        condition = all_of(
            where("externalXRef", "=", draft.reference), where("company/id", "=", draft.company_id)
        )
        records = self._records(TicketRecord, "/service/tickets", conditions=condition)
        earliest = since - CLOCK_SKEW
        mine = [
            ticket
            for ticket in map(self._ticket, records)
            if ticket.entered_at is None or ticket.entered_at >= earliest
        ]
        return min(mine, key=lambda ticket: ticket.id) if mine else None

    def get_ticket(self, ticket_id: int) -> Ticket | None:
        row = self.client.get_or_none(f"/service/tickets/{ticket_id}", ticket_id=ticket_id)
        return self._ticket(parse(TicketRecord, row)) if row else None

    def get_ticket_by_number(self, number: str) -> Ticket | None:
        """``12345`` or ``#12345``: a ConnectWise ticket's number is its id (anything else: None, no call)."""
        text = number.strip().removeprefix("#").strip()
        if not (text.isascii() and text.isdigit()) or len(text) > 9 or int(text) == 0:
            return None
        return self.get_ticket(int(text))

    def open_tickets(self, ticket_ids: Sequence[int]) -> list[Ticket]:
        """The tickets among ``ticket_ids`` that exist and are not closed, a thousand ids per request."""
        tickets: list[Ticket] = []
        for chunk in _chunks(sorted(set(ticket_ids)), MAX_PAGE_SIZE):
            condition = all_of(is_in("id", chunk), where("closedFlag", "=", False))
            # At most one row per id: a full page is the last one, whatever the Link header says.
            rows = self.client.search(
                "/service/tickets/search", condition, fields=fields_of(TicketRecord), limit=len(chunk)
            )
            tickets += (self._ticket(parse(TicketRecord, row)) for row in rows)
        return tickets

    def poll(self, ticket_ids: Sequence[int]) -> TicketPoll:
        """``ceil(n / 1000)`` searches for the open ones, then one lookup per ticket not returned."""
        result = TicketPoll(open=self.open_tickets(ticket_ids))
        seen = {ticket.id for ticket in result.open}
        for ticket_id in sorted(set(ticket_ids) - seen):
            try:
                ticket = self.get_ticket(ticket_id)
            except cw.ConnectWiseError as error:
                result.failed[ticket_id] = error.message
                continue
            if ticket is None:
                result.deleted.append(ticket_id)
            elif ticket.closed:
                result.closed.append(ticket)
            else:  # reopened between the two requests
                result.open.append(ticket)
        return result

    def update_ticket_status(self, ticket_id: int, status_id: int) -> None:
        """A JSON Patch of the status alone (ConnectWise may answer 200 and ignore it)."""
        operations = patch_body(PatchOperation(op="replace", path="status/id", value=status_id))
        self.client.request("PATCH", f"/service/tickets/{ticket_id}", json=operations, ticket_id=ticket_id)

    def set_status_verified(self, ticket_id: int, status_id: int) -> Ticket:
        """Sets the status, fetches the ticket again and returns it once the status took;
        ``StatusNotTaken`` if ConnectWise kept another one, ``NotFound`` if the ticket is gone."""
        self.update_ticket_status(ticket_id, status_id)
        ticket = self.get_ticket(ticket_id)
        if ticket is None:
            raise cw.NotFound(f"ConnectWise ticket {ticket_id} no longer exists.", status=404)
        if ticket.status_id != status_id:
            raise cw.StatusNotTaken(ticket_id, status_id, (ticket.status_id, ticket.status_name))
        return ticket

    def time_entries(self, ticket_id: int) -> list[TimeEntry]:
        charged = all_of(where("chargeToType", "=", "ServiceTicket"), where("chargeToId", "=", ticket_id))
        return [
            TimeEntry(
                id=entry.id,
                ticket_id=entry.charge_to_id or ticket_id,
                hours_worked=entry.actual_hours,
                worked_at=entry.time_start,
                resource_id=entry.member.id if entry.member else None,
                member=entry.member.name if entry.member else None,
            )
            for entry in self._records(
                TimeEntryRecord, "/time/entries", conditions=charged, ticket_id=ticket_id
            )
        ]

    def add_internal_note(self, ticket_id: int, *, title: str, text: str) -> int:
        """An internal analysis note, without notification e-mails; returns its id. Sent once.
        ConnectWise notes have no title: it is the note's first line."""
        note = NoteCreate(
            text=f"{title}\n\n{text}"[:NOTE_MAX], internal_analysis_flag=True, process_notifications=False
        )
        created = self.client.request(
            "POST",
            f"/service/tickets/{ticket_id}/notes",
            json=note.body(),
            idempotent=False,
            ticket_id=ticket_id,
        ).body
        return parse(NoteRecord, created).id

    def resolve(
        self,
        ticket_id: int,
        *,
        closed_status_id: int | None,
        closing_note: NoteText,
        open_note: Callable[[int], NoteText],
    ) -> ResolveOutcome:
        """The operator's Resolve. No time entries: ``closing_note`` (note A), then the closed
        status, fetched again and verified (``StatusNotTaken`` if ignored); with no closed status
        configured, note A only and the reason the transition was skipped. Time entries:
        ``open_note(n)`` (note B) and the ticket stays open."""
        entries = len(self.time_entries(ticket_id))
        if entries:
            note_id = self._add_note(ticket_id, open_note(entries))
            return self._outcome("B", note_id, entries, self.get_ticket(ticket_id))
        note_id = self._add_note(ticket_id, closing_note)
        if closed_status_id is None:
            outcome = self._outcome("A", note_id, 0, self.get_ticket(ticket_id))
            return outcome.model_copy(update={"transition_skipped_reason": SKIPPED_NO_CLOSED_STATUS})
        return self._outcome("A", note_id, 0, self.set_status_verified(ticket_id, closed_status_id))

    def _add_note(self, ticket_id: int, note: NoteText) -> int:
        return self.add_internal_note(ticket_id, title=note.title, text=note.text)

    @staticmethod
    def _outcome(note: str, note_id: int, entries: int, ticket: Ticket | None) -> ResolveOutcome:
        return ResolveOutcome.model_validate(
            {
                "note": note,
                "note_id": note_id,
                "time_entries": entries,
                "status_id": ticket.status_id if ticket else None,
                "status_name": ticket.status_name if ticket else None,
                "closed": ticket.closed if ticket else False,
            }
        )

    def ticket_web_url(self, ticket_id: int) -> str:
        """The ticket in ConnectWise's web client (on the site's web host, not its ``api-`` host)."""
        parts = urlsplit(self.client.api_url)
        host = parts.netloc.removeprefix("api-")
        return (
            f"{parts.scheme}://{host}/v4_6_release/services/system_io/Service/fv_sr100_request.rss"
            f"?locale=en_US&companyName={self.client.credentials.company_id}&recid={ticket_id}"
        )

    def _records(
        self,
        model: type[Record],
        path: str,
        *,
        conditions: Condition | None = None,
        order_by: str | None = None,
        limit: int | None = None,
        ticket_id: int | None = None,
    ) -> list[Record]:
        """``GET path`` as ``model`` records, asking ConnectWise for that model's fields only."""
        rows = self.client.query(
            path,
            conditions=conditions,
            fields=fields_of(model),
            order_by=order_by,
            limit=limit,
            ticket_id=ticket_id,
        )
        return [parse(model, row) for row in rows]

    def _ticket(self, record: TicketRecord) -> Ticket:
        info = record.info
        return Ticket(
            id=record.id,
            number=str(record.id),
            title=record.summary,
            board_id=record.board.id if record.board else None,
            status_id=record.status.id if record.status else None,
            status_name=record.status.name if record.status else None,
            closed=record.closed_flag,
            company_id=record.company.id if record.company else None,
            priority_id=record.priority.id if record.priority else None,
            external_ref=record.external_x_ref,
            entered_at=info.date_entered if info else None,
            last_activity_at=info.last_updated if info else None,
            completed_at=record.closed_date,
            web_url=self.ticket_web_url(record.id),
        )


def connectwise_provider(
    credentials: Credentials,
    *,
    timeout_seconds: float = 30.0,
    retry: RetryPolicy | None = None,
    current_run_id: Callable[[], int | None] = lambda: None,
) -> ConnectWiseProvider:
    """A provider for these credentials (use it as a context manager: it holds a connection pool)."""
    return ConnectWiseProvider(
        ConnectWiseClient(
            credentials, timeout_seconds=timeout_seconds, retry=retry, current_run_id=current_run_id
        )
    )


def credentials(
    *, site: str, company_id: str, public_key: str, private_key: SecretStr | str, client_id: str
) -> Credentials:
    key = private_key if isinstance(private_key, SecretStr) else SecretStr(private_key)
    return Credentials(site.strip(), company_id.strip(), public_key.strip(), key, client_id.strip())


def _summary(text: str) -> str:
    """One line within ConnectWise's 100 characters (an ellipsis says it was cut)."""
    line = " ".join(text.split())
    return line if len(line) <= SUMMARY_MAX else line[: SUMMARY_MAX - 1].rstrip() + "…"


def _company_check(company_id: int, company: Company | None, cached_name: str | None) -> CompanyCheck:
    if company is None:
        return CompanyCheck(company_id=company_id, state="missing", name=None)
    if company.deleted:
        state = "deleted"
    elif not company.active:
        state = "inactive"
    elif company.name != cached_name:
        state = "renamed"
    else:
        state = "ok"
    return CompanyCheck.model_validate({"company_id": company_id, "state": state, "name": company.name})


def _chunks(values: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


def _now() -> datetime:
    return datetime.now(UTC)
