"""Autotask settings through the HTTP API: checked against Autotask before saving, secret kept safe."""

from __future__ import annotations

import logging
import os
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared_code.config import load_settings
from shared_code.db.models import AppSettings, AuditLog
from shared_code.psa.autotask.settings import (
    AutotaskSettingsUpdate,
    autotask_provider,
    save_autotask_settings,
)
from shared_code.psa.secrets import KEY_VAULT_SECRET_NAME, _key_vault_store
from tests.support import fake_autotask
from tests.support.fake_autotask import FakeAutotask, enabled_body
from tests.support.fake_keyvault import FakeKeyVault

PATH = "/api/settings/autotask"
NEW_SECRET = "n3w-Secret-value-9f8e7d"


def stored_row(db: Session) -> AppSettings | None:
    db.expire_all()
    return db.scalars(select(AppSettings)).first()


def test_fresh_settings_are_disabled_without_a_secret(api: Any, autotask: FakeAutotask) -> None:
    response = api.get(PATH)
    assert response.status == 200
    assert response.json()["enabled"] is False and response.json()["secret_set"] is False
    assert autotask.count() == 0


def test_saving_checks_with_autotask_keeps_the_secret_encrypted_and_caches_reference_data(
    api: Any, db: Session, autotask: FakeAutotask
) -> None:
    response = api.put(PATH, body=enabled_body())
    assert response.status == 200, response.json()
    saved = response.json()
    assert saved["secret_set"] is True and "secret" not in saved
    assert saved["queue_id"] == 29683378 and saved["due_hours"] == 8
    assert {q["id"] for q in saved["reference_data"]["queues"]} == set(fake_autotask.QUEUES)
    assert saved["reference_refreshed_at"]
    row = stored_row(db)
    assert row is not None and row.autotask_secret_encrypted
    assert fake_autotask.SECRET.encode() not in row.autotask_secret_encrypted
    assert autotask.count("GET", "zoneInformation") == 1
    assert autotask.count("GET", "/Tickets/entityInformation/fields") == 1
    assert api.get(PATH).json() == saved


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"queue_id": 12345}, "body.queue_id", "invalid_input"),
        ({"queue_id": 29683380}, "body.queue_id", "invalid_input"),  # inactive in Autotask
        ({"priority_failed_id": 99}, "body.priority_failed_id", "invalid_input"),
        ({"completed_status_id": 77}, "body.completed_status_id", "invalid_input"),
        ({"secret": "wrong-secret"}, "body.secret", "autotask_auth_failed"),
        ({"integration_code": "WRONG"}, "body.integration_code", "autotask_auth_failed"),
        ({"username": "nobody@example.test"}, "body.username", "autotask_unknown_user"),
        ({"api_base_url": "http://127.0.0.1:9/ATServicesRest"}, "body.api_base_url", "autotask_unreachable"),
        ({"queue_id": None}, "body.queue_id", "invalid_input"),
    ],
)
def test_bad_settings_are_refused_naming_the_field_and_nothing_is_saved(
    api: Any, db: Session, autotask: FakeAutotask, changes: dict[str, Any], field: str, code: str
) -> None:
    assert api.put(PATH, body=enabled_body()).status == 200
    before = api.get(PATH).json()
    encrypted_before = stored_row(db).autotask_secret_encrypted  # type: ignore[union-attr]

    response = api.put(
        PATH, body=enabled_body(**changes, backupchecks_base_url="https://changed.example.test")
    )

    assert response.status == 422, response.json()
    error = response.json()["error"]
    assert error["code"] == code
    assert field in {detail["field"] for detail in error["details"]}
    assert api.get(PATH).json() == before
    assert stored_row(db).autotask_secret_encrypted == encrypted_before  # type: ignore[union-attr]


def test_an_unreachable_discovered_zone_is_refused(api: Any, autotask: FakeAutotask) -> None:
    autotask.fail("GET", "zoneInformation", 503, times=100)
    response = api.put(PATH, body=enabled_body())
    assert response.status == 422
    assert response.json()["error"]["code"] == "autotask_unreachable"
    assert response.json()["error"]["details"][0]["field"] == "body.username"
    assert api.get(PATH).json()["enabled"] is False


def test_a_new_secret_replaces_the_stored_one_and_leaving_it_out_keeps_it(
    api: Any, db: Session, autotask: FakeAutotask
) -> None:
    assert api.put(PATH, body=enabled_body()).status == 200
    autotask.users[fake_autotask.USERNAME.lower()] = (NEW_SECRET, fake_autotask.INTEGRATION_CODE)
    assert api.put(PATH, body=enabled_body(secret=NEW_SECRET)).status == 200
    without_secret = enabled_body()
    del without_secret["secret"]
    assert api.put(PATH, body=without_secret).status == 200  # checked with the stored (new) secret
    assert api.post(PATH + "/test").json()["user"] == fake_autotask.USERNAME


def test_saving_disabled_settings_calls_autotask_not_at_all(api: Any, autotask: FakeAutotask) -> None:
    response = api.put(PATH, body=enabled_body(enabled=False, queue_id=1, secret="anything"))
    assert response.status == 200
    assert response.json()["secret_set"] is True
    assert autotask.count() == 0


def test_enabling_needs_credentials_and_ticket_defaults(api: Any, autotask: FakeAutotask) -> None:
    body = enabled_body(username=None, status_id=None)
    del body["secret"]
    error = api.put(PATH, body=body).json()["error"]
    assert {d["field"] for d in error["details"]} == {"body.username", "body.secret", "body.status_id"}
    assert autotask.count() == 0


def test_connection_test_reports_zone_user_and_usage(api: Any, autotask: FakeAutotask) -> None:
    api.put(PATH, body=enabled_body())
    result = api.post(PATH + "/test").json()
    assert result["zone"] == "Fake zone1"
    assert result["user"] == fake_autotask.USERNAME
    assert result["usage"]["limit"] == 10000 and result["usage"]["used"] >= 1


def test_refresh_stores_reference_data_with_its_time(api: Any, db: Session, autotask: FakeAutotask) -> None:
    api.put(PATH, body=enabled_body())
    first = api.get(PATH).json()["reference_refreshed_at"]
    data = api.post(PATH + "/refresh").json()
    assert {s["id"] for s in data["statuses"]} == set(fake_autotask.STATUSES)
    assert {p["label"] for p in data["note_publish"]} >= {"Internal Only"}
    assert api.get(PATH).json()["reference_refreshed_at"] > first
    assert autotask.count("GET", "/TicketNotes/entityInformation/fields") == 2


def test_test_and_refresh_refuse_while_disabled_without_calling_autotask(
    api: Any, autotask: FakeAutotask
) -> None:
    for path in (PATH + "/test", PATH + "/refresh"):
        response = api.post(path)
        assert response.status == 409
        assert response.json()["error"]["code"] == "autotask_disabled"
    assert autotask.count() == 0


def test_only_admins_change_settings(api: Any) -> None:
    assert api.get(PATH, role="Operator").status == 403
    assert api.put(PATH, body=enabled_body(), role="Operator").status == 403


def test_the_secret_is_in_no_response_log_line_or_audit_entry(
    api: Any, db: Session, autotask: FakeAutotask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    autotask.users[fake_autotask.USERNAME.lower()] = (NEW_SECRET, fake_autotask.INTEGRATION_CODE)
    responses = [
        api.put(PATH, body=enabled_body(secret=NEW_SECRET)),
        api.put(PATH, body=enabled_body(secret="wrong-" + NEW_SECRET)),
        api.put(PATH, body=enabled_body(secret=NEW_SECRET, queue_id=5)),
        api.put(PATH, body=enabled_body(secret=NEW_SECRET * 40)),  # too long: refused by validation
        api.get(PATH),
        api.post(PATH + "/test"),
        api.post(PATH + "/refresh"),
    ]
    assert [r.status for r in responses] == [200, 422, 422, 422, 200, 200, 200]
    for response in responses:
        assert NEW_SECRET.encode() not in response.body
    calls = [r for r in caplog.records if r.name == "shared_code.psa.autotask.client"]
    assert calls and all(getattr(r, "correlation_id", None) for r in calls), (
        "every call logged with its request"
    )
    for record in caplog.records:
        assert NEW_SECRET not in record.getMessage()
        assert NEW_SECRET not in str(record.__dict__)
    assert NEW_SECRET not in caplog.text
    for entry in db.scalars(select(AuditLog)):
        assert NEW_SECRET not in str(entry.details)


def test_in_azure_the_secret_goes_to_key_vault_with_the_managed_identity(
    db: Session, autotask: FakeAutotask, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    vault = FakeKeyVault()
    try:
        env = {**{k: v for k, v in os.environ.items()}, **vault.env()}
        for name in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER"):
            monkeypatch.setenv(name, env[name])
        config = load_settings({**env, "SETTINGS_ENCRYPTION_KEY": Fernet.generate_key().decode()})
        body = AutotaskSettingsUpdate.model_validate(
            {**enabled_body(), "secret": SecretStr(fake_autotask.SECRET)}
        )

        save_autotask_settings(db, body, "admin@example.test", config=config)
        db.commit()

        row = stored_row(db)
        assert row is not None and row.autotask_secret_encrypted is None
        assert row.autotask_secret_ref and row.autotask_secret_ref.startswith(vault.vault_url)
        assert vault.values(KEY_VAULT_SECRET_NAME) == [fake_autotask.SECRET]
        _key_vault_store.cache_clear()  # as a new process: the secret is read from the vault
        provider = autotask_provider(db, config=config)
        assert provider.test_connection().user == fake_autotask.USERNAME
        assert fake_autotask.SECRET not in caplog.text  # the SDKs' request logs included
        version = row.autotask_secret_ref.rsplit("/", 1)[-1]
        assert ("GET", f"/secrets/{KEY_VAULT_SECRET_NAME}/{version}") in vault.requests
    finally:
        vault.stop()
