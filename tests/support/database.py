"""The test session's PostgreSQL: TEST_DATABASE_URL when set, else an embedded server.

Nothing is started or connected to until a test needs the database (``start``): its address is
known up front, so the app's settings can name it before anything imports the app. Under
pytest-xdist each worker has a database of its own, named after the worker
(``<name>_gw0``, created on first use) or its own embedded server.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

EMBEDDED_DATABASE = "backupchecks_test"


class TestDatabase:
    __test__ = False  # not a test class

    def __init__(self, url: str | None, worker: str | None = None) -> None:
        self.embedded: Any = None
        self._pgdata: Path | None = None
        self._server_url: str | None = None  # where a worker's database is created from
        if url is not None and worker is not None:
            self._server_url = url
            url = _with_database(url, f"{_database_name(url)}_{worker}")
        if url is None:
            # The embedded server listens on a socket in its data directory (when that path is short
            # enough, as this one is); start() corrects the URL if the server chose otherwise.
            self._pgdata = Path(tempfile.mkdtemp(prefix="bc-test-")) / "pg"
            url = f"postgresql+pg8000://postgres@/{EMBEDDED_DATABASE}?unix_sock={self._pgdata}/.s.PGSQL.5432"
        self.raw_url = url
        self.started = False

    @property
    def url(self) -> str:
        from shared_code.db.engine import normalise_url

        return normalise_url(self.raw_url)

    def start(self) -> TestDatabase:
        """Start the embedded server if there is one, then build the schema by the migrations."""
        if self.started:
            return self
        if self._pgdata is not None:
            self._start_embedded(self._pgdata)
        elif self._server_url is not None:
            self._create_database(self._server_url)
        self.reset_schema()
        from shared_code.db.migrate import upgrade

        upgrade("head")
        self.started = True
        return self

    def _start_embedded(self, pgdata: Path) -> None:
        from shared_code.config import get_settings
        from shared_code.db.engine import reset_engine
        from shared_code.devdb import EmbeddedPostgres

        self.embedded = EmbeddedPostgres(pgdata, keep_data=False)
        url = self.embedded.ensure_database(EMBEDDED_DATABASE)
        if url != self.raw_url:
            self.raw_url = os.environ["DATABASE_URL"] = url
            get_settings.cache_clear()  # settings read before now named the predicted socket
            reset_engine()

    def _create_database(self, server_url: str) -> None:
        from sqlalchemy import create_engine, text

        from shared_code.db.engine import normalise_url

        name = _database_name(self.raw_url)
        engine = create_engine(normalise_url(server_url), isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if exists.first() is None:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()

    def reset_schema(self) -> None:
        """An empty public schema, so the migrations build everything from scratch."""
        from sqlalchemy import create_engine, text

        engine = create_engine(self.url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()

    def stop(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()
        if self._pgdata is not None:
            shutil.rmtree(self._pgdata.parent, ignore_errors=True)


def _database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


# SQLSTATEs of a TRUNCATE that met a request still running against the tables: a deadlock, or a lock
# wait given up. A request a closed page had sent can reach the server after the test's wait for an
# idle site; it ends within the lock timeout, so the truncate is tried again.
_MET_A_STRAY_REQUEST = {"40P01", "55P03"}
_TRUNCATE_TRIES = 5


def empty_every_table() -> None:
    """Truncate every table of the app's database and restart its identities."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from shared_code.db import models  # noqa: F401
    from shared_code.db.base import Base
    from shared_code.db.engine import get_engine, sqlstate

    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    for attempt in range(1, _TRUNCATE_TRIES + 1):
        try:
            with get_engine().begin() as connection:
                connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            return
        except DBAPIError as error:
            if sqlstate(error) not in _MET_A_STRAY_REQUEST or attempt == _TRUNCATE_TRIES:
                raise
