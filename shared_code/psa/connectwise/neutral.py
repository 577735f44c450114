"""ConnectWise PSA behind the ``PsaProvider`` interface: the neutral models and errors mapped to the
ConnectWise operations (``provider``), so the PSA layer (create, link, poll, resolve, company
mapping) treats it as it treats Autotask.

- A board is what the interface calls a queue; a new ticket goes to the configured board.
- ConnectWise flags closed tickets itself (``closedFlag``): the active-ticket query asks for the
  ones not closed, whatever the configured closed status, and a ticket it did not return is looked
  up and reported ``closed``.
- A deleted company is missing for the mapping check.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from shared_code.psa import provider as psa
from shared_code.psa.connectwise import errors as cw
from shared_code.psa.connectwise import models
from shared_code.psa.connectwise.client import MAX_PAGE_SIZE
from shared_code.psa.connectwise.provider import ConnectWiseProvider

# ConnectWise's errors as the interface's, by kind (a status ConnectWise ignored is checked by the
# caller, which fetches the ticket again).
ERRORS: tuple[tuple[type[cw.ConnectWiseError], type[psa.PsaError]], ...] = (
    (cw.NotConfigured, psa.PsaNotConfigured),
    (cw.AuthFailed, psa.PsaAuthError),
    (cw.Forbidden, psa.PsaAuthError),
    (cw.NotFound, psa.PsaNotFound),
    (cw.Rejected, psa.PsaRejected),
    (cw.Unavailable, psa.PsaUnavailable),
    (cw.Unreachable, psa.PsaUnreachable),
    (cw.OutcomeUnknown, psa.PsaOutcomeUnknown),
)


@contextmanager
def _as_psa_errors() -> Iterator[None]:
    try:
        yield
    except cw.ConnectWiseError as error:
        kind = next((neutral for mine, neutral in ERRORS if isinstance(error, mine)), psa.PsaError)
        raise kind(error.message, messages=error.messages, status=error.status) from error


class ConnectWisePsa:
    name = "connectwise"
    label = "ConnectWise PSA"
    max_ids_per_query = MAX_PAGE_SIZE  # one ``…/search`` request per thousand ids

    def __init__(self, operations: ConnectWiseProvider) -> None:
        self.operations = operations

    def __enter__(self) -> ConnectWisePsa:
        return self

    def __exit__(self, *exc: object) -> None:
        self.operations.close()

    def test_connection(self) -> psa.ConnectionInfo:
        with _as_psa_errors():
            info = self.operations.test_connection()
        return psa.ConnectionInfo(
            zone=info.cloud_region, api_url=info.api_url, web_url=None, user=info.company_id, usage=None
        )

    def reference_data(self) -> psa.ReferenceData:
        with _as_psa_errors():
            return neutral_reference_data(self.operations.reference_data())

    def search_companies(self, text: str, *, limit: int = 25) -> list[psa.Company]:
        with _as_psa_errors():
            return [_company(c) for c in self.operations.search_companies(text, limit=limit)]

    def get_company(self, company_id: int) -> psa.Company | None:
        with _as_psa_errors():
            company = self.operations.get_company(company_id)
        return _company(company) if company is not None and not company.deleted else None

    def companies_by_ids(self, company_ids: Sequence[int]) -> list[psa.Company]:
        with _as_psa_errors():
            return [_company(c) for c in self.operations.companies_by_ids(company_ids) if not c.deleted]

    def create_ticket(self, draft: psa.TicketDraft) -> psa.Ticket:
        with _as_psa_errors():
            return _ticket(self.operations.create_ticket(_draft(draft)))

    def find_created_ticket(self, draft: psa.TicketDraft, *, since: datetime) -> psa.Ticket | None:
        with _as_psa_errors():
            found = self.operations.find_created_ticket(_draft(draft), since=since)
        return _ticket(found) if found else None

    def get_ticket(self, ticket_id: int) -> psa.Ticket | None:
        with _as_psa_errors():
            found = self.operations.get_ticket(ticket_id)
        return _ticket(found) if found else None

    def get_ticket_by_number(self, number: str) -> psa.Ticket | None:
        with _as_psa_errors():
            found = self.operations.get_ticket_by_number(number)
        return _ticket(found) if found else None

    def tickets_by_ids(
        self, ticket_ids: Sequence[int], *, excluding_status: int | None = None
    ) -> list[psa.Ticket]:
        """The open ones (``closedFlag`` false): any closed status counts as closed."""
        with _as_psa_errors():
            return [_ticket(t) for t in self.operations.open_tickets(ticket_ids)]

    def update_ticket_status(self, ticket_id: int, status_id: int) -> None:
        with _as_psa_errors():
            self.operations.update_ticket_status(ticket_id, status_id)

    def time_entries(self, ticket_id: int) -> list[psa.TimeEntry]:
        with _as_psa_errors():
            entries = self.operations.time_entries(ticket_id)
        return [
            psa.TimeEntry(
                id=e.id,
                ticket_id=e.ticket_id,
                hours_worked=e.hours_worked,
                worked_at=e.worked_at,
                resource_id=e.resource_id,
            )
            for e in entries
        ]

    def add_internal_note(self, ticket_id: int, *, title: str, text: str) -> int:
        with _as_psa_errors():
            return self.operations.add_internal_note(ticket_id, title=title, text=text)

    def ticket_web_url(self, ticket_id: int) -> str | None:
        return self.operations.ticket_web_url(ticket_id)


def neutral_reference_data(data: models.ReferenceData) -> psa.ReferenceData:
    """Boards as queues; every board's statuses (named with their board when it is not the only one)."""
    boards = {board.id: board.name for board in data.boards}
    return psa.ReferenceData(
        queues=[psa.PicklistValue(id=b.id, label=b.name, active=not b.inactive) for b in data.boards],
        statuses=[
            psa.PicklistValue(
                id=s.id,
                label=s.name if len(boards) < 2 else f"{s.name} ({boards.get(s.board_id, s.board_id)})",
                active=not s.inactive,
                is_default=s.default,
            )
            for s in data.statuses
        ],
        priorities=[psa.PicklistValue(id=p.id, label=p.name) for p in data.priorities],
        sources=[psa.PicklistValue(id=s.id, label=s.name, is_default=s.default) for s in data.sources],
        refreshed_at=data.refreshed_at,
    )


def _company(company: models.Company) -> psa.Company:
    return psa.Company(id=company.id, name=company.name, active=company.active and not company.deleted)


def _draft(draft: psa.TicketDraft) -> models.TicketDraft:
    if draft.queue_id is None:
        raise psa.PsaNotConfigured("No ConnectWise service board is configured for new tickets.")
    return models.TicketDraft(
        reference=draft.reference,
        company_id=draft.company_id,
        title=draft.title,
        description=draft.description,
        board_id=draft.queue_id,
        status_id=draft.status_id,
        priority_id=draft.priority_id,
        source_id=draft.source_id,
    )


def _ticket(ticket: models.Ticket) -> psa.Ticket:
    return psa.Ticket(
        id=ticket.id,
        number=ticket.number,
        title=ticket.title,
        status_id=ticket.status_id,
        company_id=ticket.company_id,
        completed_at=ticket.completed_at,
        last_activity_at=ticket.last_activity_at,
        web_url=ticket.web_url,
        closed=ticket.closed,
    )
