"""ConnectWise as Backupchecks uses it, against the fake: connection, reference data and settings
checks, companies, tickets (create, find a lost create, link by number), the poll, time entries,
notes and the verified status change behind Resolve."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr, ValidationError

from shared_code import errors
from shared_code.psa.connectwise import errors as cw
from shared_code.psa.connectwise.client import ConnectWiseClient, RetryPolicy
from shared_code.psa.connectwise.models import (
    ConnectWiseSettingsUpdate,
    ConnectWiseSettingsView,
    TicketDraft,
    connection_problems,
    settings_problems,
)
from shared_code.psa.connectwise.provider import (
    SKIPPED_NO_CLOSED_STATUS,
    ConnectWiseProvider,
    NoteText,
)
from tests.psa.conftest import Sleeps
from tests.psa.connectwise.conftest import fake_credentials, make_client, wait_until
from tests.support import fake_connectwise
from tests.support.fake_connectwise import COMPLETED, IN_PROGRESS, NEW, OTHER_BOARD_CLOSED, FakeConnectWise
from tests.support.loopback_http import json_response

NOTE_A = NoteText(title="Backupchecks: resolved", text="Resolved from Backupchecks by ops on today.")


def note_b(entries: int) -> NoteText:
    return NoteText(title="Backupchecks: resolve requested", text=f"This ticket has {entries} time entries.")


def draft(company_id: int, **changes: object) -> TicketDraft:
    values: dict[str, object] = {
        "reference": "Backupchecks run 123",
        "company_id": company_id,
        "title": "Backup failed: Acme / Nightly SQL",
        "description": "Run 123 failed.\nSRV-DC01: Failed to create snapshot\nhttps://bc.example.test/jobs/9",
        "board_id": 1,
        "status_id": NEW,
        "priority_id": 1,
        "source_id": 6,
        **changes,
    }
    return TicketDraft.model_validate(values)


# --- connection, reference data, settings ---------------------------------------------------------------


def test_test_connection_reads_system_info(
    provider: ConnectWiseProvider, connectwise: FakeConnectWise
) -> None:
    info = provider.test_connection()
    assert info.version == "v2025.1.98765"
    assert info.is_cloud is True
    assert info.cloud_region == "NA"
    assert info.api_url == connectwise.api_url
    assert info.company_id == fake_connectwise.COMPANY_ID


def test_reference_data_has_every_boards_statuses_with_their_closed_flag(
    provider: ConnectWiseProvider, connectwise: FakeConnectWise
) -> None:
    data = provider.reference_data()
    assert {(board.id, board.name, board.inactive) for board in data.boards} == {
        (1, "Service Desk", False),
        (2, "Monitoring", False),
        (3, "Old Helpdesk", True),
    }
    desk = {status.name: status for status in data.board_statuses(1)}
    assert set(desk) == {"New", "In Progress", "Completed", "Closed (old)"}
    assert desk["Completed"].closed and not desk["In Progress"].closed
    assert desk["Closed (old)"].inactive and desk["New"].default
    assert [status.name for status in data.board_statuses(2)] == ["New (monitoring)", "Resolved"]
    completed = data.status(COMPLETED)
    assert completed is not None and (completed.name, completed.board_id) == ("Completed", 1)
    assert data.status(999) is None
    assert {priority.id for priority in data.priorities} == {1, 3, 4}
    assert {source.name for source in data.sources} == {"Email", "Phone", "Monitoring"}
    assert data.refreshed_at is not None
    # one request per list and one per board's statuses
    assert connectwise.by_endpoint() == {
        "GET /service/boards": 1,
        "GET /service/boards/{id}/statuses": 3,
        "GET /service/priorities": 1,
        "GET /service/sources": 1,
    }


def test_settings_matching_connectwises_choices_have_no_problems(
    provider: ConnectWiseProvider, connectwise: FakeConnectWise
) -> None:
    settings = ConnectWiseSettingsUpdate.model_validate(fake_connectwise.settings_body(connectwise))
    assert settings_problems(settings, provider.reference_data()) == []
    no_closed = settings.model_copy(update={"closed_status_id": None, "source_id": None})
    assert settings_problems(no_closed, provider.reference_data()) == []


@pytest.mark.parametrize(
    ("changes", "field", "text"),
    [
        ({"board_id": 3, "new_status_id": 31}, "board_id", "not an active service board"),
        ({"board_id": 99}, "board_id", "not an active service board"),
        ({"new_status_id": 21}, "new_status_id", "not an active status of board 1"),
        ({"new_status_id": COMPLETED}, "new_status_id", "Completed is a closed status"),
        ({"closed_status_id": IN_PROGRESS}, "closed_status_id", "In Progress is not a closed status"),
        ({"closed_status_id": OTHER_BOARD_CLOSED}, "closed_status_id", "not an active status of board 1"),
        ({"closed_status_id": 14}, "closed_status_id", "not an active status of board 1"),
        ({"priority_failed_id": 2}, "priority_failed_id", "not a ConnectWise priority"),
        ({"source_id": 99}, "source_id", "not a ConnectWise ticket source"),
    ],
)
def test_settings_not_among_connectwises_choices_name_the_field(
    provider: ConnectWiseProvider,
    connectwise: FakeConnectWise,
    changes: dict[str, int],
    field: str,
    text: str,
) -> None:
    settings = ConnectWiseSettingsUpdate.model_validate(
        fake_connectwise.settings_body(connectwise, **changes)
    )
    problems = settings_problems(settings, provider.reference_data())
    assert [problem["field"] for problem in problems] == [f"body.{field}"]
    assert text in problems[0]["message"]


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"private_key": "wrong"}, ["company_id", "public_key", "private_key", "client_id"]),
        ({"client_id": "not-registered"}, ["company_id", "public_key", "private_key", "client_id"]),
        ({"site": "http://127.0.0.1:9"}, ["site"]),
    ],
)
def test_a_failed_connection_test_names_the_settings_to_look_at(
    connectwise: FakeConnectWise, sleeps: Sleeps, changes: dict[str, str], fields: list[str]
) -> None:
    with pytest.raises(cw.ConnectWiseError) as raised:
        creds = fake_credentials(connectwise, **changes)
        client = ConnectWiseClient(
            creds, retry=RetryPolicy(budget_seconds=1), sleep=sleeps, clock=sleeps.clock
        )
        with ConnectWiseProvider(client) as provider:
            provider.test_connection()
    problems = connection_problems(raised.value)
    assert [problem["field"] for problem in problems] == [f"body.{field}" for field in fields]
    assert all(problem["message"] == raised.value.message for problem in problems)


@pytest.mark.parametrize("site", ["http://cw.example.test", "cw example", "ftp://cw.example.test"])
def test_a_site_that_is_not_an_https_host_is_refused_naming_the_field(
    connectwise: FakeConnectWise, site: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        ConnectWiseSettingsUpdate.model_validate(fake_connectwise.settings_body(connectwise, site=site))
    assert [error["loc"] for error in raised.value.errors()] == [("site",)]


def test_the_private_key_is_write_only(connectwise: FakeConnectWise) -> None:
    settings = ConnectWiseSettingsUpdate.model_validate(fake_connectwise.settings_body(connectwise))
    assert isinstance(settings.private_key, SecretStr)
    for shown in (repr(settings), str(settings), settings.model_dump_json()):
        assert fake_connectwise.PRIVATE_KEY not in shown
    stored = {**settings.model_dump(exclude={"private_key"}), "private_key_set": True}
    view = ConnectWiseSettingsView.model_validate(stored)
    assert "private_key" not in ConnectWiseSettingsView.model_fields
    assert fake_connectwise.PRIVATE_KEY not in view.model_dump_json()
    keep = fake_connectwise.settings_body(connectwise)
    del keep["private_key"]
    assert ConnectWiseSettingsUpdate.model_validate(keep).private_key is None  # left out: keep the stored one
    with pytest.raises(ValidationError, match="private_key"):
        ConnectWiseSettingsUpdate.model_validate({**keep, "private_key": ""})
    with pytest.raises(ValidationError, match="extra"):
        ConnectWiseSettingsUpdate.model_validate({**keep, "privateKey": "x"})


# --- companies ------------------------------------------------------------------------------------------


def test_company_search_by_name_or_id_leaves_deleted_ones_out(
    provider: ConnectWiseProvider, connectwise: FakeConnectWise
) -> None:
    acme = connectwise.add_company("Acme Corp")
    connectwise.add_company("Acme (old)", deleted=True)
    sleepy = connectwise.add_company("Acme Sleepy", status=fake_connectwise.INACTIVE)
    connectwise.add_company("Contoso")
    found = provider.search_companies("acme")
    assert [(c.id, c.name, c.active) for c in found] == [
        (acme, "Acme Corp", True),
        (sleepy, "Acme Sleepy", False),
    ]
    assert [c.name for c in provider.search_companies(str(acme))] == ["Acme Corp"]
    assert [c.name for c in provider.search_companies('Acme" or name contains "')] == []
    assert len(provider.search_companies("")) == 3


def test_get_company_reads_a_deleted_one_and_none_when_gone(
    provider: ConnectWiseProvider, connectwise: FakeConnectWise
) -> None:
    company = connectwise.add_company("Acme")
    connectwise.delete_company(company)
    found = provider.get_company(company)
    assert found is not None and found.deleted
    connectwise.delete_company(company, purge=True)
    assert provider.get_company(company) is None


def test_company_check_finds_renamed_inactive_deleted_and_missing(
    provider: ConnectWiseProvider, connectwise: FakeConnectWise
) -> None:
    ok = connectwise.add_company("Fine Ltd")
    renamed = connectwise.add_company("Old Name")
    connectwise.rename_company(renamed, "New Name")
    inactive = connectwise.add_company("Sleepy BV")
    connectwise.set_company_status(inactive, fake_connectwise.INACTIVE)
    deleted = connectwise.add_company("Gone Inc")
    connectwise.delete_company(deleted)
    missing = connectwise.add_company("Purged")
    connectwise.delete_company(missing, purge=True)
    cached = {
        ok: "Fine Ltd",
        renamed: "Old Name",
        inactive: "Sleepy BV",
        deleted: "Gone Inc",
        missing: "Purged",
    }
    checks = {check.company_id: check for check in provider.check_companies(cached)}
    assert {company_id: check.state for company_id, check in checks.items()} == {
        ok: "ok",
        renamed: "renamed",
        inactive: "inactive",
        deleted: "deleted",
        missing: "missing",
    }
    assert checks[renamed].name == "New Name"
    assert checks[missing].name is None
    # the inactive statuses once, one query for all five, one lookup each for the two it left out
    assert connectwise.by_endpoint() == {
        "GET /company/companies/statuses": 1,
        "GET /company/companies": 1,
        "GET /company/companies/{id}": 2,
    }


# --- tickets ------------------------------------------------------------------------------------------------


def test_create_ticket_sends_the_run_within_connectwises_limits(
    provider: ConnectWiseProvider, connectwise: FakeConnectWise
) -> None:
    company = connectwise.add_company("Acme")
    long_summary = "Backup failed: " + "Very long job name " * 10
    ticket = provider.create_ticket(draft(company, title=long_summary))
    stored = connectwise.tickets[ticket.id]
    assert len(stored["summary"]) == 100
    assert stored["summary"].endswith("…")
    assert (
        stored["board"]["id"],
        stored["status"]["id"],
        stored["priority"]["id"],
        stored["source"]["id"],
    ) == (
        1,
        NEW,
        1,
        6,
    )
    assert stored["company"]["id"] == company
    assert stored["externalXRef"] == "Backupchecks run 123"
    assert ticket.number == str(ticket.id)
    assert (ticket.status_id, ticket.status_name, ticket.closed) == (NEW, "New", False)
    assert ticket.web_url == (
        f"{connectwise.site}/v4_6_release/services/system_io/Service/fv_sr100_request.rss"
        f"?locale=en_US&companyName={fake_connectwise.COMPANY_ID}&recid={ticket.id}"
    )
    [description] = connectwise.ticket_notes(ticket.id)
    assert description["detailDescriptionFlag"] is True
    assert "SRV-DC01: Failed to create snapshot" in description["text"]
    assert "https://bc.example.test/jobs/9" in description["text"]


def test_a_status_of_another_board_is_refused_on_create(
    provider: ConnectWiseProvider, connectwise: FakeConnectWise
) -> None:
    company = connectwise.add_company("Acme")
    with pytest.raises(cw.Rejected) as raised:
        provider.create_ticket(draft(company, status_id=21))
    assert "status: Status New (monitoring) is not a status of the board." in raised.value.messages
    assert connectwise.tickets == {}


def test_a_create_whose_answer_was_lost_is_found_not_made_twice(
    connectwise: FakeConnectWise, sleeps: Sleeps
) -> None:
    company = connectwise.add_company("Acme")
    connectwise.add_ticket(company_id=company, externalXRef="Backupchecks run 999")
    before = datetime.now(UTC)
    connectwise.fail("POST", "^/service/tickets$", None, delay=1.5)
    with ConnectWiseProvider(make_client(connectwise, sleeps, timeout_seconds=0.5)) as provider:
        with pytest.raises(cw.OutcomeUnknown):
            provider.create_ticket(draft(company))
        assert wait_until(lambda: len(connectwise.tickets) == 2)  # ConnectWise stored it all the same
        found = provider.find_created_ticket(draft(company), since=before)
        assert found is not None
        assert found.external_ref == "Backupchecks run 123"
        assert (
            provider.find_created_ticket(draft(company, reference="Backupchecks run 124"), since=before)
            is None
        )
        assert provider.find_created_ticket(draft(company), since=before + timedelta(hours=1)) is None
    assert connectwise.count("POST", "/service/tickets") == 1
    assert len(connectwise.tickets) == 2


def test_concurrent_creates_each_make_one_ticket_and_are_found_by_their_reference(
    provider: ConnectWiseProvider, connectwise: FakeConnectWise
) -> None:
    """The provider sends each create once (the core's claim makes it one per run)."""
    company = connectwise.add_company("Acme")
    drafts = [draft(company, reference=f"Backupchecks run {n}") for n in range(50)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        tickets = list(pool.map(provider.create_ticket, drafts))
    assert len({ticket.id for ticket in tickets}) == 50
    assert connectwise.count("POST", "/service/tickets") == 50
    since = datetime.now(UTC) - timedelta(minutes=1)
    found = provider.find_created_ticket(drafts[17], since=since)
    assert found is not None and found.id == tickets[17].id


@pytest.mark.parametrize("number", ["{id}", "#{id}", " {id} ", "# {id}"])
def test_link_by_number_reads_the_ticket(
    provider: ConnectWiseProvider, connectwise: FakeConnectWise, number: str
) -> None:
    ticket = connectwise.add_ticket(summary="Made by a person")
    found = provider.get_ticket_by_number(number.format(id=ticket["id"]))
    assert found is not None
    assert (found.id, found.title, found.board_id) == (ticket["id"], "Made by a person", 1)


@pytest.mark.parametrize("number", ["T20240501.0001", "12a", "", "0", "１２", "1234567890"])
def test_a_number_that_cannot_be_a_connectwise_ticket_asks_nothing(
    provider: ConnectWiseProvider, connectwise: FakeConnectWise, number: str
) -> None:
    assert provider.get_ticket_by_number(number) is None
    assert connectwise.count() == 0


def test_a_missing_ticket_number_is_none(provider: ConnectWiseProvider, connectwise: FakeConnectWise) -> None:
    assert provider.get_ticket_by_number("424242") is None
    assert connectwise.count("GET", "/service/tickets/424242") == 1


# --- the poll -------------------------------------------------------------------------------------------------


def test_poll_over_2000_tickets_costs_two_searches_and_one_lookup_per_missing_one(
    provider: ConnectWiseProvider, connectwise: FakeConnectWise
) -> None:
    ids = connectwise.add_linked_tickets(2000, closed=20, deleted=20)
    closed, deleted = ids[:20], ids[20:40]
    connectwise.requests.clear()
    result = provider.poll(ids)
    assert len(result.open) == 1960
    assert sorted(ticket.id for ticket in result.closed) == closed
    assert all(ticket.closed and ticket.status_name == "Completed" for ticket in result.closed)
    assert result.deleted == deleted
    assert result.failed == {}
    assert connectwise.by_endpoint() == {"POST /service/tickets/search": 2, "GET /service/tickets/{id}": 40}
    assert connectwise.count() == 2 + 40  # ceil(2000 / 1000) + 40
    assert connectwise.writes() == 0
    for search in (r for r in connectwise.requests if r.path.endswith("/search")):
        assert search.query["pageSize"] == "1000"
        assert search.json()["conditions"].endswith("and (closedFlag = false)")


def test_a_failing_lookup_fails_only_its_ticket(
    provider: ConnectWiseProvider, connectwise: FakeConnectWise
) -> None:
    company = connectwise.add_company("Acme")
    first, second, third = (connectwise.add_ticket(company_id=company)["id"] for _ in range(3))
    connectwise.set_status(first, COMPLETED)
    connectwise.delete_ticket(second)
    connectwise.set_status(third, COMPLETED)
    connectwise.fail(
        "GET", rf"^/service/tickets/{first}$", 403, body={"code": "Unauthorized", "message": "no"}
    )
    result = provider.poll([first, second, third])
    assert list(result.failed) == [first]
    assert result.deleted == [second]
    assert [ticket.id for ticket in result.closed] == [third]


def test_polling_nothing_asks_nothing(provider: ConnectWiseProvider, connectwise: FakeConnectWise) -> None:
    assert provider.poll([]).open == []
    assert connectwise.count() == 0


# --- time entries, notes, status ----------------------------------------------------------------------------


def test_time_entries_are_those_charged_to_the_service_ticket(
    provider: ConnectWiseProvider, connectwise: FakeConnectWise
) -> None:
    ticket = connectwise.add_ticket()["id"]
    other = connectwise.add_ticket()["id"]
    mine = connectwise.add_time_entry(ticket, 1.25)
    connectwise.add_time_entry(other)
    connectwise.add_time_entry(ticket, charge_to_type="ProjectTicket")  # a project ticket with the same id
    entries = provider.time_entries(ticket)
    assert [
        (entry.id, entry.ticket_id, entry.hours_worked, entry.resource_id, entry.member) for entry in entries
    ] == [(mine, ticket, 1.25, 7, "Jane Doe")]
    [request] = connectwise.requests
    assert request.query["conditions"] == f'(chargeToType = "ServiceTicket") and (chargeToId = {ticket})'


def test_a_note_from_backupchecks_is_internal_analysis_without_notifications(
    provider: ConnectWiseProvider, connectwise: FakeConnectWise
) -> None:
    ticket = connectwise.add_ticket()["id"]
    note_id = provider.add_internal_note(ticket, title=NOTE_A.title, text=NOTE_A.text)
    [note] = connectwise.ticket_notes(ticket)
    assert note["id"] == note_id
    assert note["text"] == "Backupchecks: resolved\n\nResolved from Backupchecks by ops on today."
    assert (note["internalAnalysisFlag"], note["detailDescriptionFlag"], note["resolutionFlag"]) == (
        True,
        False,
        False,
    )
    assert note["processNotifications"] is False


def test_the_fake_like_connectwise_refuses_a_note_without_a_flag(
    provider: ConnectWiseProvider, connectwise: FakeConnectWise
) -> None:
    ticket = connectwise.add_ticket()["id"]
    with pytest.raises(cw.Rejected, match="At least one of"):
        provider.client.request(
            "POST", f"/service/tickets/{ticket}/notes", json={"text": "x"}, idempotent=False
        )


def test_a_status_change_is_a_json_patch_of_the_status_alone_and_verified(
    provider: ConnectWiseProvider, connectwise: FakeConnectWise
) -> None:
    ticket = connectwise.add_ticket(summary="Keep me")["id"]
    done = provider.set_status_verified(ticket, COMPLETED)
    assert (done.status_id, done.closed) == (COMPLETED, True)
    patch = next(r for r in connectwise.requests if r.method == "PATCH")
    assert patch.path == f"/service/tickets/{ticket}"
    assert patch.json() == [{"op": "replace", "path": "status/id", "value": COMPLETED}]
    assert connectwise.tickets[ticket]["summary"] == "Keep me"
    assert connectwise.tickets[ticket]["closedDate"] is not None


def test_a_status_of_another_board_is_accepted_ignored_and_caught(
    provider: ConnectWiseProvider, connectwise: FakeConnectWise
) -> None:
    ticket = connectwise.add_ticket()["id"]
    with pytest.raises(cw.StatusNotTaken) as raised:
        provider.set_status_verified(ticket, OTHER_BOARD_CLOSED)
    error = raised.value
    assert isinstance(error, errors.UpstreamError)  # the HTTP plumbing answers 502
    assert error.code == "status_not_taken"
    assert (error.observed_status_id, error.observed_status_name) == (NEW, "New")
    assert error.details["wanted_status_id"] == OTHER_BOARD_CLOSED
    assert connectwise.tickets[ticket]["status"]["id"] == NEW
    assert connectwise.count("PATCH") == 1  # ConnectWise answered 200


def test_a_status_change_on_a_deleted_ticket_is_not_found(
    provider: ConnectWiseProvider, connectwise: FakeConnectWise
) -> None:
    ticket = connectwise.add_ticket()["id"]
    connectwise.delete_ticket(ticket)
    with pytest.raises(cw.NotFound):
        provider.set_status_verified(ticket, COMPLETED)


# --- resolve -------------------------------------------------------------------------------------------------


def test_resolve_without_time_entries_posts_note_a_and_closes_verified(
    provider: ConnectWiseProvider, connectwise: FakeConnectWise
) -> None:
    ticket = connectwise.add_ticket()["id"]
    outcome = provider.resolve(ticket, closed_status_id=COMPLETED, closing_note=NOTE_A, open_note=note_b)
    assert (outcome.note, outcome.time_entries, outcome.status_id, outcome.status_name, outcome.closed) == (
        "A",
        0,
        COMPLETED,
        "Completed",
        True,
    )
    assert outcome.transition_skipped_reason is None
    [note] = connectwise.ticket_notes(ticket)
    assert note["id"] == outcome.note_id
    assert note["text"].startswith("Backupchecks: resolved")
    assert connectwise.tickets[ticket]["closedFlag"] is True
    assert connectwise.writes() == 2  # the note and the status


def test_resolve_with_time_entries_posts_note_b_and_leaves_the_ticket_open(
    provider: ConnectWiseProvider, connectwise: FakeConnectWise
) -> None:
    ticket = connectwise.add_ticket(status=IN_PROGRESS)["id"]
    connectwise.add_time_entry(ticket)
    connectwise.add_time_entry(ticket)
    outcome = provider.resolve(ticket, closed_status_id=COMPLETED, closing_note=NOTE_A, open_note=note_b)
    assert (outcome.note, outcome.time_entries, outcome.status_id, outcome.closed) == (
        "B",
        2,
        IN_PROGRESS,
        False,
    )
    [note] = connectwise.ticket_notes(ticket)
    assert note["text"] == "Backupchecks: resolve requested\n\nThis ticket has 2 time entries."
    assert connectwise.count("PATCH") == 0
    assert connectwise.writes() == 1


def test_resolve_without_a_closed_status_posts_the_note_and_says_why_it_skipped(
    provider: ConnectWiseProvider, connectwise: FakeConnectWise
) -> None:
    ticket = connectwise.add_ticket()["id"]
    outcome = provider.resolve(ticket, closed_status_id=None, closing_note=NOTE_A, open_note=note_b)
    assert (outcome.note, outcome.status_id, outcome.closed) == ("A", NEW, False)
    assert outcome.transition_skipped_reason == SKIPPED_NO_CLOSED_STATUS
    assert len(connectwise.ticket_notes(ticket)) == 1
    assert connectwise.count("PATCH") == 0


def test_resolve_whose_status_connectwise_silently_ignores_fails_loudly(
    provider: ConnectWiseProvider, connectwise: FakeConnectWise
) -> None:
    ticket = connectwise.add_ticket()["id"]
    connectwise.ignore_status_changes = True  # a board workflow refusing it: 200, status kept
    with pytest.raises(cw.StatusNotTaken) as raised:
        provider.resolve(ticket, closed_status_id=COMPLETED, closing_note=NOTE_A, open_note=note_b)
    assert raised.value.code == "status_not_taken"
    assert connectwise.tickets[ticket]["status"]["id"] == NEW
    assert connectwise.count("PATCH") == 1


def test_an_answer_that_is_not_a_ticket_is_connectwises_error_said_plainly(
    provider: ConnectWiseProvider, connectwise: FakeConnectWise
) -> None:
    def odd(request: fake_connectwise.Request, match: re.Match[str]) -> fake_connectwise.Response:
        return json_response(200, {"id": "not-a-number", "summary": "?"})

    connectwise.route("GET", r"/service/tickets/\d+", odd)
    with pytest.raises(cw.ConnectWiseError, match="unexpected TicketRecord: id: "):
        provider.get_ticket(5)


def test_lists_ask_connectwise_for_the_fields_backupchecks_reads(
    provider: ConnectWiseProvider, connectwise: FakeConnectWise
) -> None:
    connectwise.add_company("Acme")
    provider.search_companies("acme")
    companies = next(r for r in connectwise.requests if r.path == "/company/companies")
    assert companies.query["fields"] == "id,identifier,name,status,deletedFlag"
    provider.open_tickets([1, 2])
    search = connectwise.requests[-1]
    assert search.query["fields"] == (
        "id,summary,board,status,company,priority,externalXRef,closedFlag,closedDate,_info"
    )


def test_tickets_time_entries_and_companies_read_as_the_neutral_psa_models(
    provider: ConnectWiseProvider, connectwise: FakeConnectWise
) -> None:
    """Field names follow shared_code.psa.provider's models, so wiring ConnectWise in is a validate."""
    from shared_code.psa import provider as psa

    company = connectwise.add_company("Acme")
    created = provider.create_ticket(draft(company))
    provider.set_status_verified(created.id, COMPLETED)
    connectwise.add_time_entry(created.id, 2.0)
    ticket = provider.get_ticket(created.id)
    assert ticket is not None
    neutral = psa.Ticket.model_validate(ticket.model_dump())
    assert (neutral.id, neutral.number, neutral.title, neutral.status_id, neutral.company_id) == (
        created.id,
        str(created.id),
        "Backup failed: Acme / Nightly SQL",
        COMPLETED,
        company,
    )
    assert neutral.completed_at is not None and neutral.last_activity_at is not None
    assert neutral.web_url == provider.ticket_web_url(created.id)
    [entry] = [psa.TimeEntry.model_validate(e.model_dump()) for e in provider.time_entries(created.id)]
    assert (entry.ticket_id, entry.hours_worked, entry.resource_id) == (created.id, 2.0, 7)
    [found] = [psa.Company.model_validate(c.model_dump()) for c in provider.companies_by_ids([company])]
    assert (found.id, found.name, found.active) == (company, "Acme", True)
