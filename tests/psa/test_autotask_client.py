"""The Autotask transport against the fake: zone, headers, queries and paging, errors, retries."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from shared_code.psa import provider as psa
from shared_code.psa.autotask.client import AutotaskClient, RetryPolicy
from shared_code.psa.autotask.filters import Condition, FilterError, Group
from shared_code.psa.calls import retry_after_seconds
from tests.psa.conftest import Sleeps, credentials
from tests.support import fake_autotask
from tests.support.fake_autotask import FakeAutotask


def ticket_body(company_id: int) -> dict[str, object]:
    return {
        "companyID": company_id,
        "title": "t",
        "status": 1,
        "priority": 2,
        "dueDateTime": "2030-01-01T00:00:00Z",
    }


def test_the_zone_is_discovered_once_and_cached(client: AutotaskClient, autotask: FakeAutotask) -> None:
    zone = client.zone()
    assert zone.api_url == autotask.api_url
    assert zone.web_url == autotask.web_url
    client.get("/ThresholdInformation")
    client.get("/ThresholdInformation")
    assert autotask.count("GET", "zoneInformation") == 1


def test_a_moved_zone_answers_401_and_is_discovered_once_more(
    client: AutotaskClient, autotask: FakeAutotask
) -> None:
    client.get("/ThresholdInformation")
    autotask.move_zone("zone7")
    assert "currentTimeframeRequestCount" in client.get("/ThresholdInformation")
    assert client.zone().api_url.endswith("/zone7/ATServicesRest/V1.0")
    assert autotask.count("GET", "zoneInformation") == 2


def test_wrong_credentials_are_an_auth_error_after_one_rediscovery(
    autotask: FakeAutotask, sleeps: Sleeps
) -> None:
    client = AutotaskClient(
        credentials("not-the-secret"),
        zone_lookup_url=autotask.zone_lookup_url,
        sleep=sleeps,
        clock=sleeps.clock,
    )
    with pytest.raises(psa.PsaAuthError) as raised:
        client.get("/ThresholdInformation")
    assert autotask.count("GET", "zoneInformation") == 2
    assert autotask.count("GET", "/ThresholdInformation") == 2
    assert not raised.value.transient


def test_an_unknown_user_has_no_zone(autotask: FakeAutotask) -> None:
    creds = credentials()
    other = type(creds)("nobody@example.test", creds.integration_code, creds.secret)
    with pytest.raises(psa.PsaAuthError, match=r"no zone for user 'nobody@example\.test'"):
        AutotaskClient(other, zone_lookup_url=autotask.zone_lookup_url).zone()


def test_an_unreachable_zone_lookup_is_reported_as_unreachable() -> None:
    client = AutotaskClient(
        credentials(), zone_lookup_url="http://127.0.0.1:9/atservicesrest", timeout_seconds=2
    )
    with pytest.raises(psa.PsaUnreachable, match="did not answer"):
        client.zone()


def test_a_configured_api_url_skips_discovery(autotask: FakeAutotask) -> None:
    client = AutotaskClient(credentials(), api_url=autotask.api_url.removesuffix("/V1.0") + "/")
    client.get("/ThresholdInformation")
    assert autotask.count("GET", "zoneInformation") == 0


def test_queries_page_through_next_page_urls_with_post(
    client: AutotaskClient, autotask: FakeAutotask
) -> None:
    for index in range(1203):
        autotask.add_company(f"Company {index:04d}")
    rows = client.query("Companies", [Condition("companyName", "beginsWith", "Company")])
    assert len(rows) == 1203
    assert len({row["id"] for row in rows}) == 1203
    assert autotask.count("POST", "/Companies/query") == 1
    assert autotask.count("POST", "/Companies/query/next") == 2
    assert autotask.count("GET", "/Companies/query/next") == 0


def test_long_in_lists_are_split_at_500(client: AutotaskClient, autotask: FakeAutotask) -> None:
    ids = [autotask.add_company(f"C{index}") for index in range(1100)]
    rows = client.query("Companies", [Condition("id", "in", ids)])
    assert sorted(row["id"] for row in rows) == sorted(ids)
    assert autotask.count("POST", "/Companies/query") == 3


def test_noteq_and_groups_are_sent_as_autotask_reads_them(
    client: AutotaskClient, autotask: FakeAutotask
) -> None:
    company = autotask.add_company("Acme")
    open_ticket = autotask.add_ticket(companyID=company, status=1)["id"]
    autotask.add_ticket(companyID=company, status=fake_autotask.COMPLETE)
    rows = client.query(
        "Tickets",
        [Condition("companyID", "eq", company), Condition("status", "noteq", fake_autotask.COMPLETE)],
    )
    assert [row["id"] for row in rows] == [open_ticket]
    either = Group("or", (Condition("id", "eq", open_ticket), Condition("title", "contains", "nothing")))
    assert [row["id"] for row in client.query("Tickets", [either])] == [open_ticket]


@pytest.mark.parametrize(
    "bad",
    [Condition("status", "ne", 5), Condition("status", "neq", 5), Condition("id", "in", 5), Group("xor", ())],
)
def test_operators_autotask_would_ignore_are_refused_before_sending(
    client: AutotaskClient, autotask: FakeAutotask, bad: Condition
) -> None:
    with pytest.raises(FilterError):
        client.query("Tickets", [bad])
    assert autotask.count() == 0


def test_the_fake_like_autotask_answers_an_unknown_operator_with_every_row(
    client: AutotaskClient, autotask: FakeAutotask
) -> None:
    """Why the client validates: the raw request returns all rows instead of an error."""
    autotask.add_ticket(status=1)
    autotask.add_ticket(status=5)
    page = client.request(
        "POST", "/Tickets/query", json={"filter": [{"op": "ne", "field": "status", "value": 5}]}
    )
    assert len(page["items"]) == 2


def test_get_by_id_null_item_or_404_both_mean_not_found(
    client: AutotaskClient, autotask: FakeAutotask
) -> None:
    assert client.get_item("Tickets", 424242) is None
    autotask.missing_as_404 = True
    assert client.get_item("Tickets", 424242) is None


def test_validation_errors_in_http_500_are_permanent_and_carry_autotasks_texts(
    client: AutotaskClient, autotask: FakeAutotask, sleeps: Sleeps
) -> None:
    with pytest.raises(psa.PsaRejected) as raised:
        client.request("POST", "/Tickets", json={"title": "x"}, idempotent=False)
    assert "Missing Required Field: companyID" in raised.value.messages
    assert "Missing Required Field: companyID" in str(raised.value)
    assert autotask.count("POST", "/Tickets") == 1
    assert sleeps == []


def test_429_is_retried_honouring_retry_after(
    client: AutotaskClient, autotask: FakeAutotask, sleeps: Sleeps
) -> None:
    autotask.fail("GET", "/ThresholdInformation", 429, times=2, headers={"Retry-After": "3"})
    client.get("/ThresholdInformation")
    assert sleeps == [3.0, 3.0]
    assert autotask.count("GET", "/ThresholdInformation") == 3


def test_thread_limit_errors_in_http_500_are_retried(client: AutotaskClient, autotask: FakeAutotask) -> None:
    text = "Thread threshold exceeded: too many concurrent requests for this integration."
    autotask.fail("POST", "/Tickets/query", 500, body={"errors": [text]})
    assert client.query("Tickets", [Condition("id", "gt", 0)]) == []
    assert autotask.count("POST", "/Tickets/query") == 2


def test_retries_stop_at_the_time_budget(autotask: FakeAutotask, sleeps: Sleeps) -> None:
    client = AutotaskClient(
        credentials(),
        zone_lookup_url=autotask.zone_lookup_url,
        retry=RetryPolicy(budget_seconds=10),
        sleep=sleeps,
        clock=sleeps.clock,
    )
    autotask.fail("GET", "/ThresholdInformation", 503, times=100, headers={"Retry-After": "4"})
    with pytest.raises(psa.PsaUnavailable) as raised:
        client.get("/ThresholdInformation")
    assert raised.value.transient
    assert sleeps == [4.0, 4.0]  # a third wait would pass the 10 s budget (sleeps are not real here)
    assert autotask.count("GET", "/ThresholdInformation") == 3


def test_a_create_is_not_retried_after_a_server_error(client: AutotaskClient, autotask: FakeAutotask) -> None:
    autotask.fail("POST", "^/Tickets$", 503)
    with pytest.raises(psa.PsaOutcomeUnknown):
        client.request("POST", "/Tickets", json={}, idempotent=False)
    assert autotask.count("POST", "/Tickets") == 1


def test_a_create_refused_by_throttling_is_sent_again(client: AutotaskClient, autotask: FakeAutotask) -> None:
    company = autotask.add_company("Acme")
    autotask.fail("POST", "^/Tickets$", 429, headers={"Retry-After": "1"})
    body = ticket_body(company)
    assert client.request("POST", "/Tickets", json=body, idempotent=False)["itemId"]
    assert autotask.count("POST", "/Tickets") == 2
    assert len(autotask.tickets) == 1


def test_a_create_timing_out_is_outcome_unknown_and_the_fake_stored_it(autotask: FakeAutotask) -> None:
    client = AutotaskClient(credentials(), zone_lookup_url=autotask.zone_lookup_url, timeout_seconds=0.5)
    company = autotask.add_company("Acme")
    autotask.fail("POST", "^/Tickets$", None, delay=1.5)
    body = ticket_body(company)
    with pytest.raises(psa.PsaOutcomeUnknown, match="may have been stored"):
        client.request("POST", "/Tickets", json=body, idempotent=False)
    assert autotask.count("POST", "/Tickets") == 1
    assert len(autotask.tickets) == 1


def test_a_next_page_url_on_another_host_is_not_followed(
    client: AutotaskClient, autotask: FakeAutotask
) -> None:
    with pytest.raises(psa.PsaError, match="another host"):
        client.request("POST", "http://203.0.113.9/ATServicesRest/V1.0/Tickets/query/next?paging=x", json={})


def test_every_call_is_logged_with_run_and_ticket_and_never_the_secret(
    autotask: FakeAutotask, caplog: pytest.LogCaptureFixture, sleeps: Sleeps
) -> None:
    secret = fake_autotask.SECRET
    autotask.fail(
        "GET", "/Tickets/77", 500, body={"errors": [f"Echoing {secret} back, as a careless server might"]}
    )
    client = AutotaskClient(
        credentials(), zone_lookup_url=autotask.zone_lookup_url, sleep=sleeps, clock=sleeps.clock
    )
    caplog.set_level(logging.DEBUG)
    with psa.about_run(4711), pytest.raises(psa.PsaRejected) as raised:
        client.get_item("Tickets", 77, ticket_id=77)
    assert secret not in str(raised.value)
    assert "***" in str(raised.value)
    lines = [record for record in caplog.records if record.name.startswith("shared_code.psa")]
    assert any("run 4711, ticket 77" in record.getMessage() for record in lines)
    assert all(secret not in record.getMessage() for record in caplog.records)
    assert secret not in caplog.text


def test_at_most_three_requests_per_endpoint_are_in_flight(
    client: AutotaskClient, autotask: FakeAutotask
) -> None:
    autotask.fail("POST", "/Tickets/query", None, times=8, delay=0.3)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: client.query("Tickets", [Condition("id", "gt", 0)]), range(8)))
    assert autotask.count("POST", "/Tickets/query") == 8
    assert autotask.max_in_flight["tickets"] == 3


def _retry_after(response: httpx.Response) -> float | None:
    return retry_after_seconds(response.headers.get("retry-after"))


def test_retry_after_takes_seconds_or_an_http_date_and_ignores_anything_else() -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert _retry_after(httpx.Response(429, headers={"retry-after": "7"})) == 7.0
    assert 20 < (_retry_after(httpx.Response(429, headers={"retry-after": later})) or 0) <= 30
    assert _retry_after(httpx.Response(429, headers={"retry-after": "soon"})) is None
    assert _retry_after(httpx.Response(429)) is None
