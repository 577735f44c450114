"""The command line: every failure is one line with a hint and exit code 2; beside a running
``make run`` the commands use its database; commands that serve no HTTP need no auth settings."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from shared_code import cli
from shared_code.devdb import EmbeddedPostgres

ROOT = Path(__file__).resolve().parent.parent
NOWHERE = "postgresql://app@127.0.0.1:1/backupchecks"  # nothing listens on port 1


def shared_code(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m shared_code`` with no AUTH_*, DATABASE_* or GRAPH_* setting unless given."""
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("AUTH_", "DATABASE_", "WEBSITE_", "GRAPH_"))
    }
    return subprocess.run(
        [sys.executable, "-m", "shared_code", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_one_line_failure(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and "(hint: " in lines[0]
    for fragment in fragments:
        assert fragment in lines[0]


def test_an_unknown_timer_names_the_known_ones_without_auth_settings() -> None:
    result = shared_code("run-timer", "missed_run", DATABASE_URL=NOWHERE)
    assert_one_line_failure(result, "unknown timer 'missed_run'", "mail_catch_up, missed_runs")


def test_an_unknown_migration_revision_lists_the_revisions(database) -> None:  # the database, started
    result = shared_code("migrate", "--to", "0099", DATABASE_URL=os.environ["DATABASE_URL"])
    assert_one_line_failure(result, "'0099'", "0001", "head / base")


def test_graph_not_configured_names_the_settings() -> None:
    result = shared_code("run-timer", "mail_catch_up", DATABASE_URL=NOWHERE)
    assert_one_line_failure(result, "Graph is not configured", "GRAPH_MAILBOX", "GRAPH_CLIENT_SECRET")


def test_an_unreachable_database_is_one_line() -> None:
    assert_one_line_failure(
        shared_code("run-timer", "missed_runs", DATABASE_URL=NOWHERE), "cannot use the database"
    )


def test_a_database_never_migrated_says_run_migrate_first() -> None:
    server = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="bc-empty-")) / "pg", keep_data=False)
    try:
        result = shared_code("run-timer", "missed_runs", DATABASE_URL=server.url("postgres"))
    finally:
        server.stop()
    assert_one_line_failure(result, "no schema yet", "migrate")


def test_a_busy_port_is_one_line_suggesting_another() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = shared_code("serve", "--port", str(port), DATABASE_URL=NOWHERE, AUTH_MODE="off")
    assert_one_line_failure(result, f"port {port} is in use", f"make run PORT={port + 1}")


def test_no_database_url_points_at_make_run() -> None:
    assert_one_line_failure(shared_code("run-timer", "missed_runs"), "DATABASE_URL is required", "make run")


def test_beside_a_running_make_run_the_cli_uses_its_database(monkeypatch, tmp_path, capsys) -> None:
    state = tmp_path / "dev.json"
    monkeypatch.setattr(cli, "DEV_STATE", state)
    monkeypatch.delenv("DATABASE_URL")
    state.write_text(
        json.dumps({"pid": os.getpid(), "database_url": "postgresql://x@/db", "api": "http://h/api"})
    )

    cli._use_running_dev_database()

    assert os.environ["DATABASE_URL"] == "postgresql://x@/db"
    assert f"running make run (pid {os.getpid()})" in capsys.readouterr().err


def test_a_stale_make_run_state_is_ignored(monkeypatch, tmp_path) -> None:
    state = tmp_path / "dev.json"
    monkeypatch.setattr(cli, "DEV_STATE", state)
    monkeypatch.delenv("DATABASE_URL")
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    state.write_text(json.dumps({"pid": int(dead.stdout), "database_url": "postgresql://x@/db", "api": "x"}))

    cli._use_running_dev_database()

    assert "DATABASE_URL" not in os.environ


def test_a_second_make_run_leaves_the_first_ones_state_alone(tmp_path) -> None:
    state = tmp_path / "dev.json"
    first = {"pid": os.getppid(), "database_url": "postgresql://first@/db", "api": "x"}  # a live process
    state.write_text(json.dumps(first))

    cli._publish_dev_state(state, "postgresql://second@/db", "y")  # e.g. on its way to a busy port
    cli._withdraw_dev_state(state)  # its exit handler

    assert json.loads(state.read_text()) == first


def test_make_run_removes_the_state_it_wrote_when_it_ends(monkeypatch, tmp_path) -> None:
    state = tmp_path / "dev.json"
    monkeypatch.setattr(cli.atexit, "register", lambda *handler: None)  # the test process is no make run

    cli._publish_dev_state(state, "postgresql://mine@/db", "y")
    assert json.loads(state.read_text())["pid"] == os.getpid()
    cli._withdraw_dev_state(state)

    assert not state.exists()


@pytest.mark.parametrize(
    "database_url", ["postgresql+pg8000://postgres@/backupchecks?unix_sock=/tmp/pg/.s.PGSQL.5432"]
)
def test_the_banner_shows_urls_the_database_url_and_a_psql_command(database_url: str) -> None:
    args = cli.build_parser().parse_args(["serve", "--port", "7072"])
    banner = cli._banner(args, database_url)
    assert "http://127.0.0.1:7072/" in banner and "http://127.0.0.1:7072/api" in banner
    assert f"DATABASE_URL  {database_url}" in banner
    assert "psql -h /tmp/pg -U postgres backupchecks" in banner


@pytest.mark.slow  # an embedded PostgreSQL of its own, the migrations and the sample morning
def test_make_run_starts_on_a_new_data_directory_and_answers(tmp_path) -> None:
    """`make run` end to end (`python -m shared_code dev`): the embedded server, every migration, the
    sample morning staged, the API answering; and it stops cleanly on Ctrl-C."""
    import signal
    import time
    import urllib.request

    from tests.support.loopback import free_port

    port = free_port()
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("AUTH_", "DATABASE_", "WEBSITE_", "GRAPH_"))
    }
    log = tmp_path / "dev.log"
    with log.open("w") as out:
        dev = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "shared_code",
                "dev",
                "--port",
                str(port),
                "--data-dir",
                str(tmp_path / "pg"),
            ],
            cwd=ROOT,
            env=base,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 240
            status = None
            while time.monotonic() < deadline and dev.poll() is None and status != 200:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=5) as answer:
                        status = answer.status
                except OSError:
                    time.sleep(1)
            assert status == 200, log.read_text()[-3000:]
            # its state lies beside its data directory, not where the repository's own make run
            # publishes (other tests' commands, run meanwhile, would take this run's database)
            assert json.loads((tmp_path / "dev.json").read_text())["pid"] == dev.pid
            assert "Sample morning: " in log.read_text()
        finally:
            dev.send_signal(signal.SIGINT)
            try:
                dev.wait(timeout=60)
            except subprocess.TimeoutExpired:
                dev.kill()
                dev.wait()
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]
