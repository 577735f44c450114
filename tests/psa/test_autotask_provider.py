"""Autotask behind the provider interface, against the fake's real-API semantics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared_code.psa import provider as psa
from shared_code.psa.autotask.provider import AutotaskProvider
from tests.support import fake_autotask
from tests.support.fake_autotask import FakeAutotask

DESCRIPTION = "Backup failed on SRV01.\nBackupchecks run 12"


def draft(company_id: int, **changes: object) -> psa.TicketDraft:
    values: dict[str, object] = {
        "reference": "Backupchecks run 12",
        "company_id": company_id,
        "title": "Backup failed: Acme / Nightly",
        "description": DESCRIPTION,
        "queue_id": 29683378,
        "source_id": 8,
        "status_id": 1,
        "priority_id": 2,
        "due_at": datetime.now(UTC) + timedelta(hours=4),
    }
    return psa.TicketDraft.model_validate(values | changes)


def test_connection_reports_zone_user_and_api_usage(
    provider: AutotaskProvider, autotask: FakeAutotask
) -> None:
    info = provider.test_connection()
    assert info.zone == "Fake zone1"
    assert info.api_url == autotask.api_url
    assert info.user == fake_autotask.USERNAME
    assert info.usage == psa.ApiUsage(limit=10000, used=1, window_minutes=60)


def test_reference_data_comes_from_the_entity_picklists(provider: AutotaskProvider) -> None:
    data = provider.reference_data()
    assert {value.id: value.label for value in data.queues} == fake_autotask.QUEUES
    assert [value.id for value in data.queues if not value.active] == [29683380]
    assert data.label("statuses", 5) == "Complete"
    assert data.label("priorities", 1) == "High"
    assert {value.id for value in data.sources} == set(fake_autotask.SOURCES)
    assert {value.id for value in data.note_publish} == set(fake_autotask.NOTE_PUBLISH)
    assert data.refreshed_at is not None


def test_company_search_get_and_batch(provider: AutotaskProvider, autotask: FakeAutotask) -> None:
    acme = autotask.add_company("Acme Corp")
    gone = autotask.add_company("Acme Old", active=False)
    autotask.add_company("Globex")
    assert [(c.id, c.active) for c in provider.search_companies("acme")] == [(acme, True), (gone, False)]
    assert [c.id for c in provider.search_companies(str(acme))] == [acme]
    assert provider.get_company(acme) == psa.Company(id=acme, name="Acme Corp", active=True)
    assert provider.get_company(999_999) is None
    assert {c.id for c in provider.companies_by_ids([acme, gone, 999_999])} == {acme, gone}


def test_create_ticket_returns_id_number_and_web_url(
    provider: AutotaskProvider, autotask: FakeAutotask
) -> None:
    company = autotask.add_company("Acme")
    ticket = provider.create_ticket(draft(company))
    stored = autotask.tickets[ticket.id]
    assert ticket.number == stored["ticketNumber"]
    assert stored["description"] == DESCRIPTION
    assert stored["queueID"] == 29683378 and stored["source"] == 8 and stored["dueDateTime"]
    assert ticket.web_url and ticket.web_url.startswith(autotask.web_url)
    assert ticket.web_url.endswith(f"TicketID={ticket.id}")


def test_a_create_autotask_refuses_names_the_field(
    provider: AutotaskProvider, autotask: FakeAutotask
) -> None:
    company = autotask.add_company("Acme")
    with pytest.raises(psa.PsaRejected, match="does not exist for the field queueID"):
        provider.create_ticket(draft(company, queue_id=1))
    assert autotask.tickets == {}


def test_a_stored_create_whose_answer_was_lost_is_found_again(
    provider: AutotaskProvider, autotask: FakeAutotask
) -> None:
    company = autotask.add_company("Acme")
    since = datetime.now(UTC) - timedelta(seconds=1)
    autotask.fail("POST", "^/Tickets$", 500, body="")  # answered 500 before handling: nothing stored
    with pytest.raises(psa.PsaOutcomeUnknown):
        provider.create_ticket(draft(company))
    assert provider.find_created_ticket(draft(company), since=since) is None
    created = provider.create_ticket(draft(company))
    autotask.add_ticket(companyID=company, title=draft(company).title, description="someone else's")
    found = provider.find_created_ticket(draft(company), since=since)
    assert found is not None and found.id == created.id


def test_tickets_by_ids_excluding_the_completed_status(
    provider: AutotaskProvider, autotask: FakeAutotask
) -> None:
    open_one = autotask.add_ticket(status=1)["id"]
    done = autotask.add_ticket(status=fake_autotask.COMPLETE)["id"]
    assert {t.id for t in provider.tickets_by_ids([open_one, done, 1])} == {open_one, done}
    active = provider.tickets_by_ids([open_one, done], excluding_status=fake_autotask.COMPLETE)
    assert [t.id for t in active] == [open_one]


def test_get_ticket_by_number_and_deleted_ones(provider: AutotaskProvider, autotask: FakeAutotask) -> None:
    ticket = autotask.add_ticket(ticketNumber="T20260101.0042")
    found = provider.get_ticket_by_number(" T20260101.0042 ")
    assert found is not None and found.id == ticket["id"]
    autotask.delete_ticket(ticket["id"])
    assert provider.get_ticket(ticket["id"]) is None
    assert provider.get_ticket_by_number("T20260101.0042") is None


def test_time_entries_are_read_by_ticket_id(provider: AutotaskProvider, autotask: FakeAutotask) -> None:
    ticket = autotask.add_ticket()["id"]
    other = autotask.add_ticket()["id"]
    entry = autotask.add_time_entry(ticket, hours=1.25)
    autotask.add_time_entry(other)
    assert [(e.id, e.hours_worked) for e in provider.time_entries(ticket)] == [(entry, 1.25)]
    assert autotask.count("POST", "/TimeEntries/query") == 1


def test_internal_notes_go_to_the_tickets_notes_with_the_internal_publish_value(
    provider: AutotaskProvider, autotask: FakeAutotask
) -> None:
    ticket = autotask.add_ticket(description=DESCRIPTION)["id"]
    note_id = provider.add_internal_note(
        ticket, title="Backupchecks: resolved", text="Resolved from Backupchecks"
    )
    note = autotask.notes[note_id]
    assert note["ticketID"] == ticket
    assert fake_autotask.NOTE_PUBLISH[note["publish"]] == "Internal Project Team"
    assert autotask.count("POST", f"/Tickets/{ticket}/Notes") == 1
    assert autotask.count("POST", "/TicketNotes") == 0
    assert autotask.tickets[ticket]["description"] == DESCRIPTION


# --- no update path loses the description (the fake's PUT nulls what it is not given) ----------------


def test_the_fakes_put_nulls_the_description_it_is_not_given(
    provider: AutotaskProvider, autotask: FakeAutotask
) -> None:
    """The trap every update path must avoid."""
    ticket = autotask.add_ticket(description=DESCRIPTION)
    provider.client.request(
        "PUT", "/Tickets", json={k: ticket[k] for k in ("id", "companyID", "title", "status", "priority")}
    )
    assert autotask.tickets[ticket["id"]]["description"] is None


def test_a_status_update_is_a_patch_that_keeps_the_description(
    provider: AutotaskProvider, autotask: FakeAutotask
) -> None:
    ticket = autotask.add_ticket(description=DESCRIPTION, queueID=29683378, source=8)["id"]
    provider.update_ticket_status(ticket, fake_autotask.COMPLETE)
    stored = autotask.tickets[ticket]
    assert stored["status"] == fake_autotask.COMPLETE and stored["completedDate"]
    assert (stored["description"], stored["queueID"], stored["source"]) == (DESCRIPTION, 29683378, 8)
    assert autotask.count("PATCH", "/Tickets") == 1
    assert autotask.count("PUT", "/Tickets") == 0


def test_where_patch_is_refused_the_put_carries_the_current_description(
    provider: AutotaskProvider, autotask: FakeAutotask
) -> None:
    autotask.patch_allowed = False
    ticket = autotask.add_ticket(description=DESCRIPTION, queueID=29683378, source=8)["id"]
    provider.update_ticket_status(ticket, fake_autotask.COMPLETE)
    stored = autotask.tickets[ticket]
    assert stored["status"] == fake_autotask.COMPLETE
    assert (stored["description"], stored["queueID"], stored["source"]) == (DESCRIPTION, 29683378, 8)
    assert autotask.count("PUT", "/Tickets") == 1


def test_a_patch_autotask_accepts_but_ignores_is_visible_on_re_fetch(
    provider: AutotaskProvider, autotask: FakeAutotask
) -> None:
    autotask.ignored_patches = True
    ticket = autotask.add_ticket(status=1)["id"]
    provider.update_ticket_status(ticket, fake_autotask.COMPLETE)
    refetched = provider.get_ticket(ticket)
    assert refetched is not None and refetched.status_id == 1
