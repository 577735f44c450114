"""The first 403 from Graph (the identity lacks the mail permission, or an Exchange access policy
leaves the mailbox out) says in the log and in the status banner exactly which permission is
missing and how to grant it (issue 27, item 2). Graph here is the fake over TLS, answering 403 as
Exchange Online does: ErrorAccessDenied."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy.orm import Session

from shared_code.config import get_settings
from shared_code.mail.catch_up import run_catch_up
from shared_code.mail.graph_client import GraphForbidden, default_mailbox, required_permission
from shared_code.pipeline_status import pipeline_status

GRANT = "infra/scripts/entra-app-registrations.sh grant-graph <AZURE_FUNCTION_APP_PRINCIPAL_ID> Mail.Read"


def test_the_needed_permission_is_read_unless_processed_mail_is_moved() -> None:
    settings = get_settings()
    assert required_permission(settings.model_copy(update={"graph_processed_folder": None})) == "Mail.Read"
    moved = settings.model_copy(update={"graph_processed_folder": "Processed"})
    assert required_permission(moved) == "Mail.ReadWrite"


def test_a_403_names_the_permission_in_the_log_once_and_in_the_status_banner(
    db: Session, graph: Any, api: Any, caplog: pytest.LogCaptureFixture
) -> None:
    assert run_catch_up(default_mailbox()) is not None  # granted: works
    # The permission is gone: every read of the mailbox and the subscription is refused.
    graph.fail("GET", r".", 403, times=100, code="ErrorAccessDenied")
    with caplog.at_level(logging.ERROR, logger="shared_code.mail.graph_client"):
        for _ in range(2):
            with pytest.raises(GraphForbidden) as raised:
                run_catch_up(default_mailbox())
    message = str(raised.value)
    assert raised.value.permission == "Mail.Read"
    assert "lacks the Microsoft Graph application permission Mail.Read" in message and GRANT in message
    logged = [r.getMessage() for r in caplog.records if r.name == "shared_code.mail.graph_client"]
    assert logged == [message], "one line for the first 403, not one per call"

    db.expire_all()
    status = pipeline_status(db)
    (attention,) = [a for a in status.attention if a.code == "graph_permission_missing"]
    assert attention.severity == "danger" and attention.message == message
    assert "catch_up_failed" not in [a.code for a in status.attention]
    banner = api.get("/api/status", role="Viewer").json()["attention"]
    assert {"code": "graph_permission_missing", "severity": "danger", "message": message} in banner
