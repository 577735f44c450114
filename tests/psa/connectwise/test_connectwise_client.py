"""The ConnectWise transport against the fake: auth and clientId, the base URL, paging, the
``…/search`` endpoints, errors, bounded retries and logs that never carry a key."""

from __future__ import annotations

import base64
import logging
import re

import pytest

from shared_code.correlation import correlation_scope
from shared_code.psa.connectwise import errors as cw
from shared_code.psa.connectwise.client import API_PATH, ConnectWiseClient, RetryPolicy, api_root
from shared_code.psa.connectwise.conditions import all_of, is_in, where
from shared_code.psa.connectwise.provider import credentials
from tests.psa.conftest import Sleeps
from tests.psa.connectwise.conftest import fake_credentials, make_client, wait_until
from tests.support import fake_connectwise
from tests.support.fake_connectwise import FakeConnectWise
from tests.support.loopback_http import json_response


def test_every_call_carries_basic_auth_and_the_client_id(
    client: ConnectWiseClient, connectwise: FakeConnectWise
) -> None:
    client.get("/system/info")
    client.query("/service/boards")
    assert len(connectwise.requests) == 2
    for request in connectwise.requests:
        scheme, _, token = request.headers["authorization"].partition(" ")
        assert scheme == "Basic"
        assert base64.b64decode(token).decode() == (
            f"{fake_connectwise.COMPANY_ID}+{fake_connectwise.PUBLIC_KEY}:{fake_connectwise.PRIVATE_KEY}"
        )
        assert request.headers["clientid"] == fake_connectwise.CLIENT_ID
        assert request.headers["accept"] == "application/json"


@pytest.mark.parametrize(
    "changes",
    [
        {"private_key": "not-the-key"},
        {"public_key": "OtherPublicKey"},
        {"company_id": "someone_else"},
        {"client_id": "11111111-2222-3333-4444-555555555555"},
    ],
)
def test_refused_credentials_or_client_id_are_an_auth_error_without_retry(
    connectwise: FakeConnectWise, sleeps: Sleeps, changes: dict[str, str]
) -> None:
    with (
        ConnectWiseClient(
            fake_credentials(connectwise, **changes), sleep=sleeps, clock=sleeps.clock
        ) as client,
        pytest.raises(cw.AuthFailed) as raised,
    ):
        client.get("/system/info")
    assert raised.value.status == 401
    assert not raised.value.transient
    assert sleeps == []
    assert connectwise.count() == 1
    assert fake_connectwise.PRIVATE_KEY not in str(raised.value.details)


def test_missing_settings_send_nothing(connectwise: FakeConnectWise) -> None:
    with pytest.raises(cw.NotConfigured, match="private key, clientId"):
        ConnectWiseClient(fake_credentials(connectwise, private_key="", client_id=""))
    assert connectwise.count() == 0


@pytest.mark.parametrize(
    ("site", "root"),
    [
        ("na.myconnectwise.net", f"https://na.myconnectwise.net{API_PATH}"),
        (" api-eu.myconnectwise.net/ ", f"https://api-eu.myconnectwise.net{API_PATH}"),
        ("https://cw.example.com/", f"https://cw.example.com{API_PATH}"),
        ("https://cw.example.com/v4_6_release/apis/3.0", f"https://cw.example.com{API_PATH}"),
        ("cw.example.com:8443", f"https://cw.example.com:8443{API_PATH}"),
        ("http://127.0.0.1:8080", f"http://127.0.0.1:8080{API_PATH}"),
    ],
)
def test_the_api_root_is_built_from_the_site(site: str, root: str) -> None:
    assert api_root(site) == root


@pytest.mark.parametrize(
    "site", ["http://cw.example.com", "ftp://cw.example.com", "cw example com", "cw.example.com/path?x", ""]
)
def test_a_site_that_is_not_an_https_host_is_refused(site: str) -> None:
    with pytest.raises(cw.NotConfigured):
        api_root(site)


def test_lists_are_read_a_thousand_at_a_time_following_the_link_header(
    client: ConnectWiseClient, connectwise: FakeConnectWise
) -> None:
    company = connectwise.add_company("Acme")
    ids = {connectwise.add_ticket(company_id=company)["id"] for _ in range(2000)}
    rows = client.query("/service/tickets", conditions=where("company/id", "=", company), fields=("id",))
    assert {row["id"] for row in rows} == ids
    assert connectwise.count("GET", "/service/tickets") == 2
    first, second = connectwise.requests
    assert first.query["pageSize"] == "1000"
    assert first.query["page"] == "1"
    assert second.query["page"] == "2"
    assert second.query["conditions"] == first.query["conditions"]


def test_a_page_size_over_1000_is_asked_as_1000(
    client: ConnectWiseClient, connectwise: FakeConnectWise
) -> None:
    for index in range(1001):
        connectwise.add_company(f"Company {index:04d}")
    rows = client.query("/company/companies", page_size=5000)
    assert len(rows) == 1001
    assert [request.query["pageSize"] for request in connectwise.requests] == ["1000", "1000"]


def test_limit_stops_reading_pages(client: ConnectWiseClient, connectwise: FakeConnectWise) -> None:
    for index in range(60):
        connectwise.add_company(f"Company {index:02d}")
    assert len(client.query("/company/companies", limit=25)) == 25
    assert connectwise.count() == 1
    assert connectwise.requests[0].query["pageSize"] == "25"


def test_without_a_link_header_full_pages_are_followed_by_page_number(
    client: ConnectWiseClient, connectwise: FakeConnectWise
) -> None:
    """A proxy may drop the Link header: a full page still means another may follow."""

    def pages(request: fake_connectwise.Request, match: re.Match[str]) -> fake_connectwise.Response:
        page, size = int(request.query["page"]), int(request.query["pageSize"])
        rows = [{"id": n, "name": f"P{n}"} for n in range(1, 1501)][(page - 1) * size : page * size]
        return json_response(200, rows)

    connectwise.route("GET", r"/service/priorities", pages)
    assert len(client.query("/service/priorities")) == 1500
    assert [request.query["page"] for request in connectwise.requests] == ["1", "2"]


def test_a_next_link_to_another_host_is_not_followed(
    client: ConnectWiseClient, connectwise: FakeConnectWise
) -> None:
    def elsewhere(request: fake_connectwise.Request, match: re.Match[str]) -> fake_connectwise.Response:
        link = '<https://evil.example.test/v4_6_release/apis/3.0/service/sources?page=2>; rel="next"'
        return json_response(200, [{"id": 1, "name": "Email"}], {"Link": link})

    connectwise.route("GET", r"/service/sources", elsewhere)
    with pytest.raises(cw.ConnectWiseError, match="another host"):
        client.query("/service/sources")
    assert connectwise.count() == 1


def test_a_next_link_back_to_a_page_already_read_stops(
    client: ConnectWiseClient, connectwise: FakeConnectWise
) -> None:
    def again(request: fake_connectwise.Request, match: re.Match[str]) -> fake_connectwise.Response:
        link = f'<{connectwise.api_url}/service/sources?page=2&pageSize=1000>; rel="next"'
        return json_response(200, [{"id": 1, "name": "Email"}], {"Link": link})

    connectwise.route("GET", r"/service/sources", again)
    with pytest.raises(cw.ConnectWiseError, match="already read"):
        client.query("/service/sources")
    assert connectwise.count() == 2


def test_a_thousand_ids_go_to_search_in_the_body_not_the_url(
    client: ConnectWiseClient, connectwise: FakeConnectWise
) -> None:
    company = connectwise.add_company("Acme")
    ids = [connectwise.add_ticket(company_id=company)["id"] for _ in range(1000)]
    condition = all_of(is_in("id", ids), where("closedFlag", "=", False))
    with pytest.raises(cw.Rejected) as raised:  # why: the URL would be too long
        client.query("/service/tickets", conditions=condition)
    assert raised.value.status == 414
    rows = client.search("/service/tickets/search", condition, fields=("id",))
    assert sorted(row["id"] for row in rows) == ids
    search = connectwise.requests[-1]
    assert (search.method, search.path) == ("POST", "/service/tickets/search")
    assert search.json() == {"conditions": condition.text}
    assert "conditions" not in search.query
    assert search.query["fields"] == "id"


def test_search_pages_follow_the_link_with_the_same_body(
    client: ConnectWiseClient, connectwise: FakeConnectWise
) -> None:
    company = connectwise.add_company("Acme")
    for _ in range(1500):
        connectwise.add_ticket(company_id=company)
    rows = client.search("/service/tickets/search", where("company/id", "=", company))
    assert len(rows) == 1500
    assert connectwise.count("POST", "/service/tickets/search") == 2
    assert connectwise.requests[0].json() == connectwise.requests[1].json()


def test_validation_errors_carry_connectwise_field_texts(
    client: ConnectWiseClient, connectwise: FakeConnectWise, sleeps: Sleeps
) -> None:
    with pytest.raises(cw.Rejected) as raised:
        client.request("POST", "/service/tickets", json={"board": {"id": 1}}, idempotent=False)
    error = raised.value
    assert error.status == 400
    assert error.cw_code == "InvalidObject"
    assert "summary: The summary field is required." in error.messages
    assert "company: The company field is required." in error.messages
    assert error.messages[-1] == "ticket object is invalid"
    assert "summary: The summary field is required." in str(error)
    assert error.details["psa_code"] == "InvalidObject"
    assert sleeps == []


def test_the_fake_like_connectwise_refuses_unknown_body_members(
    client: ConnectWiseClient, connectwise: FakeConnectWise
) -> None:
    body = {"conditions": "id = 1", "fields": "id"}
    with pytest.raises(cw.Rejected, match="Could not find member 'fields' on object of type 'FilterValues'"):
        client.request("POST", "/service/tickets/search", json=body)


def test_403_and_404_are_typed(client: ConnectWiseClient, connectwise: FakeConnectWise) -> None:
    connectwise.forbid(r"^/time/")
    with pytest.raises(cw.Forbidden) as forbidden:
        client.query("/time/entries")
    assert forbidden.value.status == 403
    with pytest.raises(cw.NotFound) as missing:
        client.get("/service/tickets/424242")
    assert missing.value.cw_code == "NotFound"
    assert "Ticket ID 424242 not found." in missing.value.messages
    assert client.get_or_none("/service/tickets/424242") is None


def test_429_is_retried_honouring_retry_after(
    client: ConnectWiseClient, connectwise: FakeConnectWise, sleeps: Sleeps
) -> None:
    connectwise.fail("GET", "^/system/info$", 429, times=2, headers={"Retry-After": "3"})
    assert client.get("/system/info")["isCloud"] is True
    assert sleeps == [3.0, 3.0]
    assert connectwise.count("GET", "/system/info") == 3


def test_a_long_retry_after_is_capped(connectwise: FakeConnectWise, sleeps: Sleeps) -> None:
    connectwise.fail("GET", "^/system/info$", 429, headers={"Retry-After": "3600"})
    with make_client(
        connectwise, sleeps, retry=RetryPolicy(budget_seconds=100, max_retry_after=30)
    ) as client:
        client.get("/system/info")
    assert sleeps == [30.0]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried_within_the_budget_then_unavailable(
    connectwise: FakeConnectWise, sleeps: Sleeps, status: int
) -> None:
    connectwise.fail("GET", "^/system/info$", status, times=100, headers={"Retry-After": "4"})
    with (
        make_client(connectwise, sleeps, retry=RetryPolicy(budget_seconds=10)) as client,
        pytest.raises(cw.Unavailable) as raised,
    ):
        client.get("/system/info")
    assert raised.value.transient
    assert raised.value.status == status
    assert sleeps == [4.0, 4.0]  # a third wait would pass the 10 s budget (sleeps are not real here)
    assert connectwise.count("GET", "/system/info") == 3


def test_backoff_without_retry_after_grows_and_stays_in_budget(
    connectwise: FakeConnectWise, sleeps: Sleeps
) -> None:
    connectwise.fail("GET", "^/system/info$", 503, times=100)
    policy = RetryPolicy(budget_seconds=12, first_backoff=1, max_backoff=4)
    with make_client(connectwise, sleeps, retry=policy) as client, pytest.raises(cw.Unavailable):
        client.get("/system/info")
    assert sum(sleeps) <= 12
    assert sleeps[0] < sleeps[1] < sleeps[2]
    assert connectwise.count() == len(sleeps) + 1


def test_a_create_is_not_retried_after_a_server_error(
    client: ConnectWiseClient, connectwise: FakeConnectWise, sleeps: Sleeps
) -> None:
    connectwise.fail("POST", "^/service/tickets$", 503)
    with pytest.raises(cw.OutcomeUnknown) as raised:
        client.request("POST", "/service/tickets", json={}, idempotent=False)
    assert raised.value.transient
    assert connectwise.count("POST", "/service/tickets") == 1
    assert sleeps == []


def test_a_throttled_create_is_sent_again(
    client: ConnectWiseClient, connectwise: FakeConnectWise, sleeps: Sleeps
) -> None:
    company = connectwise.add_company("Acme")
    connectwise.fail("POST", "^/service/tickets$", 429, headers={"Retry-After": "1"})
    body = {"summary": "s", "company": {"id": company}, "board": {"id": 1}}
    created = client.request("POST", "/service/tickets", json=body, idempotent=False).body
    assert created["status"]["name"] == "New"
    assert sleeps == [1.0]
    assert len(connectwise.tickets) == 1


def test_a_create_whose_answer_times_out_is_outcome_unknown(
    connectwise: FakeConnectWise, sleeps: Sleeps
) -> None:
    company = connectwise.add_company("Acme")
    connectwise.fail("POST", "^/service/tickets$", None, delay=1.5)
    body = {"summary": "s", "company": {"id": company}, "board": {"id": 1}}
    with (
        make_client(connectwise, sleeps, timeout_seconds=0.5) as client,
        pytest.raises(cw.OutcomeUnknown, match="Timeout"),
    ):
        client.request("POST", "/service/tickets", json=body, idempotent=False)
    assert wait_until(lambda: len(connectwise.tickets) == 1)  # stored all the same
    assert connectwise.count("POST", "/service/tickets") == 1


def test_an_unreachable_site_is_reported_after_the_budget(sleeps: Sleeps) -> None:
    creds = credentials(
        site="http://127.0.0.1:9", company_id="c", public_key="p", private_key="k", client_id="id"
    )
    with (
        ConnectWiseClient(
            creds, retry=RetryPolicy(budget_seconds=2), sleep=sleeps, clock=sleeps.clock
        ) as client,
        pytest.raises(cw.Unreachable, match="did not answer"),
    ):
        client.get("/system/info")
    assert sleeps  # retried before giving up
    assert sum(sleeps) <= 2


def test_every_call_is_logged_with_correlation_run_and_ticket_never_a_key(
    connectwise: FakeConnectWise, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    company = connectwise.add_company("Acme")
    ticket = connectwise.add_ticket(company_id=company)["id"]
    connectwise.fail("GET", rf"^/service/tickets/{ticket}$", 503, body={"code": "x", "message": "boom"})
    caplog.set_level(logging.DEBUG)
    with (
        correlation_scope("corr-cw-1"),
        make_client(connectwise, sleeps, current_run_id=lambda: 77) as client,
    ):
        client.get(f"/service/tickets/{ticket}", ticket_id=ticket)
        with pytest.raises(cw.AuthFailed):
            ConnectWiseClient(fake_credentials(connectwise, private_key="wrong-key-value")).get(
                "/system/info"
            )
    mine = [record for record in caplog.records if record.name == "shared_code.psa.connectwise.client"]
    assert [record.getMessage().split(" in ")[0] for record in mine] == [
        f"ConnectWise GET {API_PATH}/service/tickets/{ticket} -> 503",
        f"ConnectWise GET {API_PATH}/service/tickets/{ticket} -> 200",
        f"ConnectWise GET {API_PATH}/system/info -> 401",
    ]
    # (the app's log setup may append the correlation id to the text as well)
    assert f"(attempt 2, run 77, ticket {ticket})" in mine[1].getMessage()
    assert all(record.correlation_id == "corr-cw-1" for record in mine)  # type: ignore[attr-defined]
    assert (mine[0].psa_run_id, mine[0].psa_ticket_id) == (77, ticket)  # type: ignore[attr-defined]
    token = base64.b64encode(
        f"{fake_connectwise.COMPANY_ID}+{fake_connectwise.PUBLIC_KEY}:{fake_connectwise.PRIVATE_KEY}".encode()
    ).decode()
    everything = caplog.text + " ".join(str(record.__dict__) for record in caplog.records)
    for secret in (fake_connectwise.PRIVATE_KEY, "wrong-key-value", token):
        assert secret not in everything


def test_a_key_echoed_in_an_error_is_scrubbed(
    client: ConnectWiseClient, connectwise: FakeConnectWise
) -> None:
    echo = {"code": "InvalidObject", "message": f"bad credentials {fake_connectwise.PRIVATE_KEY}"}
    connectwise.fail("GET", "^/system/info$", 400, body=echo)
    with pytest.raises(cw.Rejected) as raised:
        client.get("/system/info")
    assert fake_connectwise.PRIVATE_KEY not in str(raised.value)
    assert fake_connectwise.PRIVATE_KEY not in str(raised.value.details)
    assert "bad credentials ***" in raised.value.messages


def test_credentials_never_show_the_private_key() -> None:
    creds = credentials(
        site="na.myconnectwise.net", company_id="c", public_key="p", private_key="s3cr3t", client_id="i"
    )
    assert "s3cr3t" not in repr(creds)
    assert "s3cr3t" not in str(creds)
