"""``python -m shared_code <command>``: one entry for operators and developers."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from shared_code.config import ConfigError

log = logging.getLogger("shared_code.cli")
ROOT = Path(__file__).resolve().parent.parent
SAMPLE_MAILBOX = ROOT / "tests" / "fixtures" / "mail"
PROGRESS_EVERY = 25


def cmd_migrate(args: argparse.Namespace) -> int:
    from shared_code.db import migrate

    if args.downgrade:
        migrate.downgrade(args.downgrade)
        print(f"database downgraded to {args.downgrade}")
    else:
        migrate.upgrade(args.to)
        print(f"database migrated to {args.to}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from shared_code.devhost import DevHost
    from shared_code.startup import start

    start(json_logs=True)
    host = DevHost(visibility_scale=args.visibility_scale)
    print(
        f"Serving the API on http://{args.host}:{args.port}/api and the site on http://{args.host}:{args.port}/"
    )
    host.serve(args.host, args.port)
    return 0


def cmd_dev(args: argparse.Namespace) -> int:
    """Everything a newcomer needs: embedded PostgreSQL, migrations, sample mail, API and site."""
    from shared_code.devdb import EmbeddedPostgres

    database = EmbeddedPostgres(Path(args.data_dir).resolve(), keep_data=True)
    # A plain SIGTERM would skip the exit handlers that stop the embedded server.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    # The settings model reads the environment: point it at the embedded server, auth off.
    os.environ["DATABASE_URL"] = database.ensure_database("backupchecks")
    os.environ.setdefault("AUTH_MODE", "off")
    # The Autotask secret is kept encrypted locally, under a key that stays with the local data.
    os.environ.setdefault("SETTINGS_ENCRYPTION_KEY", local_encryption_key(Path(args.data_dir).resolve().parent))
    print(f"Embedded PostgreSQL on {database.socket} (data in {args.data_dir})")
    cmd_migrate(argparse.Namespace(to="head", downgrade=None))
    cmd_import_mail(argparse.Namespace(directory=str(SAMPLE_MAILBOX)))  # idempotent: duplicates are skipped
    return cmd_serve(args)


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
    """Ingest a folder of .eml files: progress on stderr, the summary on stdout."""
    from shared_code.mail.directory import import_directory

    def progress(done: int, total: int, path: str) -> None:
        if done == total or done % PROGRESS_EVERY == 0:
            print(f"[{done:>{len(str(total))}}/{total}] {path}", file=sys.stderr)

    try:
        summary = import_directory(Path(args.directory), progress)
    except NotADirectoryError as error:
        print(error, file=sys.stderr)
        return 2
    print(f"imported {args.directory}: {summary.line()}")
    return 0


def cmd_run_timer(args: argparse.Namespace) -> int:
    from shared_code.devhost import DevHost
    from shared_code.startup import start

    start(json_logs=True)
    host = DevHost()
    host.run_timer(args.name)
    handled = host.drain()
    print(f"timer {args.name} ran; {handled} queued message(s) processed")
    return 0


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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
