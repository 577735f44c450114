"""ConnectWise ``conditions``: values quoted and escaped as ConnectWise reads them, mistakes caught
before sending, and the fake reading them back as ConnectWise does."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared_code.psa.connectwise.client import ConnectWiseClient
from shared_code.psa.connectwise.conditions import ConditionError, all_of, is_in, literal, where
from tests.support.fake_connectwise import FakeConnectWise


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Acme", '"Acme"'),
        ('Acme "Best" Co', r'"Acme \"Best\" Co"'),
        ("C:\\backups\\", r'"C:\\backups\\"'),
        (True, "true"),
        (False, "false"),
        (None, "null"),
        (42, "42"),
        (datetime(2024, 5, 1, 10, 30, tzinfo=UTC), "[2024-05-01T10:30:00Z]"),
    ],
)
def test_literals_are_written_as_connectwise_reads_them(value: object, expected: str) -> None:
    assert literal(value) == expected


def test_conditions_combine_with_grouping() -> None:
    condition = all_of(is_in("id", [1, 2, 3]), where("closedFlag", "=", False))
    assert condition.text == "(id in (1,2,3)) and (closedFlag = false)"
    either = where("name", "contains", "Acme") | where("id", "=", 12)
    assert either.text == '((name contains "Acme") or (id = 12))'
    assert (where("deletedFlag", "=", False) & either).text == (
        '(deletedFlag = false) and ((name contains "Acme") or (id = 12))'
    )


@pytest.mark.parametrize(
    "build",
    [
        lambda: where("name", "==", "x"),
        lambda: where("name", "ne", "x"),
        lambda: where("name contains", "=", "x"),
        lambda: where("id) or (1", "=", 1),
        lambda: where("id", "contains", 5),
        lambda: is_in("id", []),
        lambda: literal("two\nlines"),
        lambda: literal(datetime(2024, 5, 1)),  # a naive date is refused
        lambda: all_of(),
    ],
)
def test_conditions_connectwise_would_misread_are_refused(build: object) -> None:
    with pytest.raises(ConditionError):
        build()


def test_a_name_with_quotes_is_searched_for_not_executed(
    client: ConnectWiseClient, connectwise: FakeConnectWise
) -> None:
    tricky = 'Acme" or id > 0 or name = "'
    wanted = connectwise.add_company(tricky)
    connectwise.add_company("Contoso")
    connectwise.add_company('Backslash \\" Ltd')
    rows = client.query("/company/companies", conditions=where("name", "=", tricky))
    assert [row["id"] for row in rows] == [wanted]
    rows = client.query("/company/companies", conditions=where("name", "contains", '\\"'))
    assert [row["name"] for row in rows] == ['Backslash \\" Ltd']


def test_the_fake_like_connectwise_refuses_unreadable_conditions_and_unknown_fields(
    client: ConnectWiseClient, connectwise: FakeConnectWise
) -> None:
    from shared_code.psa.connectwise import errors as cw
    from shared_code.psa.connectwise.conditions import Condition

    connectwise.add_company("Acme")
    with pytest.raises(cw.Rejected) as raised:
        client.query("/company/companies", conditions=Condition('name = "unterminated'))
    assert raised.value.status == 400
    assert raised.value.cw_code == "InvalidConditions"
    with pytest.raises(cw.Rejected, match="Unknown field 'nmae'"):
        client.query("/company/companies", conditions=where("nmae", "=", "Acme"))


def test_like_uses_percent_wildcards_and_comparisons_ignore_case(
    client: ConnectWiseClient, connectwise: FakeConnectWise
) -> None:
    connectwise.add_company("Acme Corp")
    connectwise.add_company("ACME Holdings")
    connectwise.add_company("Contoso")
    names = {
        row["name"] for row in client.query("/company/companies", conditions=where("name", "like", "acme%"))
    }
    assert names == {"Acme Corp", "ACME Holdings"}
    rows = client.query("/company/companies", conditions=where("name", "=", "contoso"))
    assert [row["name"] for row in rows] == ["Contoso"]
