"""Migration 0009 moves the Autotask ticket columns into the provider-neutral ticket link with every row
kept: a database with Autotask tickets (open, resolved by the PSA, resolved by Backupchecks, deleted in
the PSA, a manual number), a creation attempt and a mapped customer migrates up, reads right through the
API, goes down to exactly the rows it had, and up again to the same API answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from shared_code.db import migrate
from shared_code.db.engine import get_engine
from tests.support.database import empty_every_table

OLD_TABLES = {
    "settings": "id",
    "customers": "id",
    "job_runs": "id",
    "tickets": "id",
    "ticket_scopes": "id",
    "ticket_job_runs": "job_run_id, ticket_id",
    "autotask_ticket_creations": "job_run_id",
}
BEFORE_0009 = ScriptDirectory.from_config(migrate.alembic_config()).get_revision("0009").down_revision
assert isinstance(BEFORE_0009, str)

# The database as the Autotask-shaped schema held it.
OLD_ROWS = [
    """INSERT INTO settings (id, autotask_enabled, autotask_username, autotask_integration_code,
         autotask_completed_status_id) VALUES (1, true, 'api@example.test', 'TRACK', 5)""",
    """INSERT INTO customers (id, name, name_skeleton, autotask_company_id, autotask_company_name,
         autotask_mapping_status, autotask_checked_at)
       VALUES (1, 'Acme', 'acme', 4242, 'Acme Corp', 'ok', '2026-11-19 08:00:00+00'),
              (2, 'Unmapped', 'unmapped', NULL, NULL, 'unmapped', NULL)""",
    """INSERT INTO jobs (id, customer_id, from_address, backup_software, backup_type, job_name)
       VALUES (1, 1, 'backup@example.test', 'Veeam', 'Backup Job', 'Nightly')""",
    # run 1 and 2: ticket 100, open (run 2 got it by propagation); 3: resolved by the PSA;
    # 4: resolved by Backupchecks; 5: deleted in the PSA; 6: no ticket.
    """INSERT INTO job_runs (id, job_id, run_at, status, effective_status, missed, autotask_ticket_id,
         autotask_ticket_number, autotask_ticket_url, autotask_ticket_created_at, autotask_ticket_created_by,
         autotask_ticket_deleted_at, ticket_last_polled_at, ticket_status_snapshot, ticket_resolution_origin,
         ticket_resolved_at) VALUES
       (1, 1, '2026-11-20 07:00:00+00', 'missed', 'missed', true, 100, 'T20261120.0100', 'https://at.example/100', '2026-11-20 07:00:00+00', 'op',
        NULL, '2026-11-20 07:00:00+00', '{"status_id": 1, "status_label": "New"}', NULL, NULL),
       (2, 1, '2026-11-21 07:00:00+00', 'missed', 'missed', true, 100, 'T20261120.0100', 'https://at.example/100',
        '2026-11-20 07:00:00+00', 'op', NULL, '2026-11-20 07:00:00+00', '{"status_id": 1, "status_label": "New"}', NULL, NULL),
       (3, 1, '2026-11-22 07:00:00+00', 'missed', 'missed', true, 200, 'T20261120.0200', NULL, '2026-11-20 07:00:00+00', 'op',
        NULL, '2026-11-20 07:00:00+00', NULL, 'psa', '2026-11-22 09:00:00+00'),
       (4, 1, '2026-11-23 07:00:00+00', 'missed', 'missed', true, 300, 'T20261120.0300', NULL, '2026-11-20 07:00:00+00', 'op',
        NULL, NULL, NULL, 'backupchecks', '2026-11-23 09:00:00+00'),
       (5, 1, '2026-11-24 07:00:00+00', 'missed', 'missed', true, 400, 'T20261120.0400', NULL, '2026-11-20 07:00:00+00', 'op',
        '2026-11-24 09:00:00+00', '2026-11-24 09:00:00+00', NULL, NULL, NULL),
       (6, 1, '2026-11-25 07:00:00+00', 'missed', 'missed', true, NULL, NULL, NULL, NULL, NULL,
        NULL, NULL, NULL, NULL, NULL)""",
    """INSERT INTO tickets (id, ticket_code, description, created_by, created_at, resolved_at, resolved_by,
         autotask_ticket_id, autotask_ticket_number, autotask_ticket_url) VALUES
       (1, 'T20261120.0001', 'Autotask T20261120.0100', 'op', '2026-11-20 07:00:00+00', NULL, NULL, 100, 'T20261120.0100',
        'https://at.example/100'),
       (2, 'T20261120.0002', 'Autotask T20261120.0200', 'op', '2026-11-20 07:00:00+00', '2026-11-22 09:00:00+00', 'autotask',
        200, 'T20261120.0200', NULL),
       (3, 'T20261120.0003', 'Autotask T20261120.0300', 'op', '2026-11-20 07:00:00+00', '2026-11-23 09:00:00+00', 'op',
        300, 'T20261120.0300', NULL),
       (4, 'T20261120.0004', 'Autotask T20261120.0400', 'op', '2026-11-20 07:00:00+00', NULL, NULL, 400, 'T20261120.0400', NULL),
       (5, 'T20261120.0005', 'Autotask ticket T20261101.0042 (entered by hand)', 'op', '2026-11-20 07:00:00+00', NULL, NULL,
        NULL, 'T20261101.0042', NULL)""",
    """INSERT INTO ticket_scopes (id, ticket_id, job_id, resolved_at) VALUES
       (1, 1, 1, NULL), (2, 2, 1, '2026-11-22 09:00:00+00'), (3, 3, 1, '2026-11-23 09:00:00+00'),
       (4, 4, 1, NULL), (5, 5, 1, NULL)""",
    """INSERT INTO ticket_job_runs (job_run_id, ticket_id) VALUES (1, 1), (2, 1), (3, 2), (4, 3), (5, 4), (6, 5)""",
    """INSERT INTO autotask_ticket_creations (job_run_id, reference, outcome, started_by, autotask_ticket_id)
       VALUES (1, 'Backupchecks run 1', 'created', 'op', 100)""",
]


def _rows(connection: Connection) -> dict[str, list[dict[str, Any]]]:
    return {
        table: [
            dict(row)
            for row in connection.execute(text(f"SELECT * FROM {table} ORDER BY {order}")).mappings()  # noqa: S608
        ]
        for table, order in OLD_TABLES.items()
    }


@pytest.fixture
def old_api(api: Any) -> Iterator[Any]:
    """The test database (emptied by ``api``) taken back to just before 0009 and filled; at head again
    afterwards. The API is only called at head."""
    with get_engine().begin() as connection:
        migrate.downgrade(BEFORE_0009, connection)
        for statement in OLD_ROWS:
            connection.execute(text(statement))
    try:
        yield api
    finally:
        with get_engine().begin() as connection:
            migrate.upgrade("head", connection)
        empty_every_table()


def _api_view(api: Any) -> dict[str, Any]:
    runs = {run_id: api.get(f"/api/runs/{run_id}", role="Viewer").json() for run_id in range(1, 7)}
    return {
        "runs": {
            run_id: (run["psa_ticket"], [t["id"] for t in run["tickets"]]) for run_id, run in runs.items()
        },
        "tickets": api.get("/api/tickets?state=all&limit=50", role="Viewer").json()["items"],
        "customer": api.get("/api/customers/1", role="Viewer").json(),
        "psa": api.get("/api/settings/psa", role="Admin").json(),
        "autotask_settings": api.get("/api/settings/autotask", role="Admin").json()["enabled"],
    }


def test_0009_keeps_every_row_up_and_down_and_reads_the_same_through_the_api(old_api: Any) -> None:
    api = old_api
    with get_engine().connect() as connection:
        before = _rows(connection)
    with get_engine().begin() as connection:
        migrate.upgrade("head", connection)

    view = _api_view(api)
    runs = view["runs"]
    assert {run_id: runs[run_id][0]["ticket_id"] for run_id in runs} == {
        1: 100,
        2: 100,
        3: 200,
        4: 300,
        5: 400,
        6: None,
    }
    assert runs[1][0]["provider"] == "autotask" and runs[1][0]["status_snapshot"]["status_label"] == "New"
    assert (runs[1][0]["ticket_url"], runs[1][0]["created_by"], runs[1][0]["can_resolve"]) == (
        "https://at.example/100",
        "op",
        True,
    )
    assert (runs[3][0]["resolution_badge"], runs[3][0]["resolve_blocked_reason"]) == (
        "Resolved by PSA",
        "already_resolved",
    )
    assert runs[4][0]["resolution_badge"] == "Resolved by Backupchecks"
    assert (runs[5][0]["ticket_deleted_in_psa"], runs[5][0]["resolve_blocked_reason"]) == (
        True,
        "deleted_in_psa",
    )
    assert runs[6][0]["resolve_blocked_reason"] == "no_ticket"
    assert [runs[run_id][1] for run_id in (1, 2, 3, 4, 5)] == [
        [1, 4, 5],
        [1, 4, 5],
        [1, 2, 4, 5],
        [1, 3, 4, 5],
        [1, 4, 5],
    ]
    tickets = {
        t["id"]: (t["psa_provider"], t["psa_ticket_id"], t["psa_ticket_number"]) for t in view["tickets"]
    }
    assert tickets == {
        1: ("autotask", 100, "T20261120.0100"),
        2: ("autotask", 200, "T20261120.0200"),
        3: ("autotask", 300, "T20261120.0300"),
        4: ("autotask", 400, "T20261120.0400"),
        5: ("autotask", None, "T20261101.0042"),  # the manual number: nothing to poll
    }
    customer = view["customer"]
    assert (customer["psa_company_provider"], customer["psa_company_id"], customer["psa_company_name"]) == (
        "autotask",
        4242,
        "Acme Corp",
    )
    assert (view["psa"]["provider"], view["psa"]["label"]) == ("autotask", "Autotask")

    with get_engine().begin() as connection:
        migrate.downgrade(BEFORE_0009, connection)
        assert _rows(connection) == before  # every row, every value, where it was
        migrate.upgrade("head", connection)
    again = _api_view(api)
    assert again == view
