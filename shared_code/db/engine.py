"""Engine and sessions on pg8000.

Locally the URL's password (or trust auth) is used. In Azure (``DATABASE_AUTH=entra``)
every new connection gets a fresh Entra ID access token from the app's managed identity
as its password, over TLS with the server certificate verified: pg8000 only verifies
when it is handed an ``ssl.create_default_context()``.
"""

from __future__ import annotations

import logging
import random
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from shared_code.config import Settings, get_settings
from shared_code.db import pg8000_statements

ENTRA_DB_SCOPE = "https://ossrdbms-aad.database.windows.net/.default"
# How long a statement may wait on a row lock another transaction holds (requests and ingestion alike).
LOCK_TIMEOUT = "3s"
TOO_MANY_CLIENTS = "53300"  # SQLSTATE too_many_connections
CONNECT_RETRY_SECONDS = 60.0  # a full server frees slots as invocations end; then the attempt fails

log = logging.getLogger(__name__)


class OutageLog:
    """One log line when the database becomes unreachable and one when it is back, not one per
    request (or per pooled connection) while it is down."""

    def __init__(self) -> None:
        self._since: float | None = None
        self._refused = 0
        self._lock = threading.Lock()

    def down(self, reason: str) -> None:
        with self._lock:
            if self._since is not None:
                self._refused += 1
                return
            self._since, self._refused = time.monotonic(), 1
        log.error("database unavailable (%s): requests answer 503 until it is back", reason)

    def up(self) -> None:
        with self._lock:
            if self._since is None:
                return
            seconds, refused = time.monotonic() - self._since, self._refused
            self._since = None
        log.warning("database reachable again after %.0f s (%d request(s) answered 503)", seconds, refused)


database_outage = OutageLog()


def _not_a_dead_connection_closing(record: logging.LogRecord) -> bool:
    """The pool logs a traceback for each pooled connection it cannot close once the server is
    gone; the outage itself is logged once (``OutageLog``)."""
    return not str(record.msg).startswith(
        ("Exception terminating connection", "Exception closing connection")
    )


def normalise_url(url: str) -> str:
    """Any postgresql URL, driven by pg8000."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql+pg8000").render_as_string(hide_password=False)


def verified_tls_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def build_engine(settings: Settings, *, credential: Any = None, **overrides: Any) -> Engine:
    """An engine for the configured database; ``credential`` (azure-identity) only for entra auth."""
    pg8000_statements.install()
    connect_args: dict[str, Any] = {"timeout": 10}
    if settings.database_tls == "verify":
        connect_args["ssl_context"] = verified_tls_context()
    engine = create_engine(
        normalise_url(settings.database_url),
        connect_args=connect_args,
        # DATABASE_POOL_SIZE is the most connections this process opens (no overflow): the
        # deployment's connection arithmetic (infra/README.md) multiplies it by the instances.
        pool_size=settings.database_pool_size,
        max_overflow=0,
        pool_pre_ping=True,
        pool_recycle=1800,  # Entra tokens live about an hour; recycle well before
        **overrides,
    )
    if settings.database_auth == "entra":
        _use_entra_tokens(engine, credential or _default_credential())
    _retry_refused_connections(engine)
    event.listen(engine, "connect", lambda *_: database_outage.up())
    event.listen(engine, "connect", _wait_briefly_for_row_locks)
    logging.getLogger(f"sqlalchemy.pool.impl.{type(engine.pool).__name__}").addFilter(
        _not_a_dead_connection_closing
    )
    return engine


def _wait_briefly_for_row_locks(dbapi_connection: Any, _record: Any) -> None:
    """A statement that would wait on a row another transaction holds gives up after
    ``LOCK_TIMEOUT`` (SQLSTATE 55P03, which the HTTP layer answers 409 ``busy``), well before the
    driver's socket timeout would break the connection."""
    cursor = dbapi_connection.cursor()
    cursor.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
    cursor.close()
    dbapi_connection.commit()  # a session setting, kept across the pool's rollbacks


def _default_credential() -> Any:
    from azure.identity import DefaultAzureCredential  # only in Azure: keeps local start-up lean

    return DefaultAzureCredential()


def _use_entra_tokens(engine: Engine, credential: Any) -> None:
    """Each new connection authenticates with a fresh token (azure-identity caches and renews it)."""

    @event.listens_for(engine, "do_connect")
    def _token_as_password(dialect: Any, conn_rec: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        cparams["password"] = credential.get_token(ENTRA_DB_SCOPE).token


def sqlstate(error: DBAPIError) -> str | None:
    """The server's SQLSTATE of a failed statement, or None when no server answered (network, closed connection)."""
    details = error.orig.args[0] if error.orig is not None and error.orig.args else None
    return details.get("C") if isinstance(details, dict) else None


def too_many_clients(error: BaseException) -> bool:
    """The server refused a new connection because its connection slots are taken (SQLSTATE 53300:
    "sorry, too many clients already", or the slots left are reserved): transient by nature.
    pg8000 may raise a network error while closing the refused socket, with the refusal as its cause."""
    seen: BaseException | None = error
    while seen is not None:
        details = seen.args[0] if seen.args else None
        if isinstance(details, dict) and details.get("C") == TOO_MANY_CLIENTS:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def connect_retrying(connect: Callable[[], Any], *, budget_seconds: float = CONNECT_RETRY_SECONDS) -> Any:
    """``connect()``, tried again with a growing pause while the server has no free connection
    slot, for up to ``budget_seconds``; any other error, or the budget spent, is raised."""
    deadline = time.monotonic() + budget_seconds
    pause, first = 0.05, True
    while True:
        try:
            return connect()
        except Exception as error:
            if not too_many_clients(error) or time.monotonic() + pause > deadline:
                raise
            if first:
                first = False
                log.warning(
                    "database refused a connection (too many clients); retrying for up to %.0f s",
                    budget_seconds,
                )
        time.sleep(pause * (1 + random.random()))  # noqa: S311 - jitter, not a secret
        pause = min(pause * 2, 2.0)


def _retry_refused_connections(engine: Engine) -> None:
    """Every new connection of the pool rides out a full server (after the token, for entra)."""

    @event.listens_for(engine, "do_connect")
    def _connect(dialect: Any, conn_rec: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
        return connect_retrying(lambda: dialect.connect(*cargs, **cparams))


class _ProcessEngine:
    """The process's one engine and sessionmaker, made once even when the first requests arrive
    on several threads at the same moment (``functools.cache`` would let each of them build an
    engine, each with a pool of its own: more connections than DATABASE_POOL_SIZE)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.engine: Engine | None = None
        self.sessionmaker: sessionmaker[Session] | None = None

    def get(self) -> tuple[Engine, sessionmaker[Session]]:
        with self._lock:
            if self.engine is None or self.sessionmaker is None:
                self.engine = build_engine(get_settings())
                self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
            return self.engine, self.sessionmaker

    def reset(self) -> None:
        with self._lock:
            engine, self.engine, self.sessionmaker = self.engine, None, None
        if engine is not None:
            engine.dispose()


_process_engine = _ProcessEngine()


def get_engine() -> Engine:
    return _process_engine.get()[0]


def get_sessionmaker() -> sessionmaker[Session]:
    return _process_engine.get()[1]


class UnitOfWork:
    """One transaction, owned by the entry point that opens it (an HTTP request's dispatch, a
    timer's trigger, one ingested mail): its session opens on first use, is committed when the
    work ends normally, rolled back when it raises, and closed either way. Services take the
    session and never commit."""

    def __init__(self, session_factory: Callable[[], Session] | None = None) -> None:
        self._session_factory = session_factory
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = (self._session_factory or get_sessionmaker())()
        return self._session

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(self, error_type: type[BaseException] | None, *_: object) -> None:
        session, self._session = self._session, None
        if session is None:
            return
        try:
            if error_type is None:
                session.commit()
            else:
                session.rollback()
        finally:
            session.close()


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """The session of a ``UnitOfWork``: committed together, or rolled back on any error."""
    with UnitOfWork() as work:
        yield work.session


def reset_engine() -> None:
    """Forget the engine (tests that change the database, and the dev host's restarts)."""
    _process_engine.reset()
