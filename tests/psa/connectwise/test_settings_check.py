"""Saving ConnectWise settings: checked against the fake before anything is kept, every problem a
422 naming its fields."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from shared_code.errors import InvalidInput
from shared_code.psa.connectwise.models import ConnectWiseSettingsUpdate
from shared_code.psa.connectwise.settings_check import checked_reference_data
from tests.support import fake_connectwise
from tests.support.fake_connectwise import FakeConnectWise

KEY = SecretStr(fake_connectwise.PRIVATE_KEY)


def settings(fake: FakeConnectWise, **changes: object) -> ConnectWiseSettingsUpdate:
    return ConnectWiseSettingsUpdate.model_validate(fake_connectwise.settings_body(fake, **changes))


def fields(raised: pytest.ExceptionInfo[InvalidInput]) -> list[str]:
    return [item["field"] for item in raised.value.details]


def test_good_settings_give_the_reference_data(connectwise: FakeConnectWise) -> None:
    data = checked_reference_data(settings(connectwise), KEY)
    assert {board.name for board in data.boards} == {"Service Desk", "Monitoring", "Old Helpdesk"}
    assert connectwise.count("GET", "/system/info") == 1
    assert connectwise.writes() == 0


def test_refused_credentials_name_the_four_credential_fields(connectwise: FakeConnectWise) -> None:
    with pytest.raises(InvalidInput) as raised:
        checked_reference_data(settings(connectwise), SecretStr("not-the-key"))
    assert raised.value.code == "connectwise_auth_failed"
    assert fields(raised) == ["body.company_id", "body.public_key", "body.private_key", "body.client_id"]
    assert "not-the-key" not in str(raised.value.details)
    assert connectwise.count() == 1


def test_no_private_key_stored_or_given_asks_nothing(connectwise: FakeConnectWise) -> None:
    with pytest.raises(InvalidInput) as raised:
        checked_reference_data(settings(connectwise), None)
    assert fields(raised) == ["body.private_key"]
    assert connectwise.count() == 0


def test_a_site_that_does_not_answer_is_reported_on_the_site(connectwise: FakeConnectWise) -> None:
    with pytest.raises(InvalidInput) as raised:
        checked_reference_data(settings(connectwise, site="http://127.0.0.1:9"), KEY)
    assert raised.value.code == "connectwise_unreachable"
    assert fields(raised) == ["body.site"]


def test_choices_connectwise_does_not_have_name_their_fields(connectwise: FakeConnectWise) -> None:
    with pytest.raises(InvalidInput) as raised:
        checked_reference_data(settings(connectwise, closed_status_id=12, priority_warning_id=2), KEY)
    assert fields(raised) == ["body.closed_status_id", "body.priority_warning_id"]
    assert raised.value.message.startswith(
        "closed_status_id, priority_warning_id: not among ConnectWise's choices"
    )
