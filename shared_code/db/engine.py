"""Engine and sessions on pg8000.

Locally the URL's password (or trust auth) is used. In Azure (``DATABASE_AUTH=entra``)
every new connection gets a fresh Entra ID access token from the app's managed identity
as its password, over TLS with the server certificate verified: pg8000 only verifies
when it is handed an ``ssl.create_default_context()``.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from shared_code.config import Settings, get_settings
from shared_code.db import pg8000_statements

ENTRA_DB_SCOPE = "https://ossrdbms-aad.database.windows.net/.default"


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
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,  # Entra tokens live about an hour; recycle well before
        **overrides,
    )
    if settings.database_auth == "entra":
        _use_entra_tokens(engine, credential or _default_credential())
    return engine


def _default_credential() -> Any:
    from azure.identity import DefaultAzureCredential  # only in Azure: keeps local start-up lean

    return DefaultAzureCredential()


def _use_entra_tokens(engine: Engine, credential: Any) -> None:
    """Each new connection authenticates with a fresh token (azure-identity caches and renews it)."""

    @event.listens_for(engine, "do_connect")
    def _token_as_password(dialect: Any, conn_rec: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        cparams["password"] = credential.get_token(ENTRA_DB_SCOPE).token


@functools.cache
def get_engine() -> Engine:
    return build_engine(get_settings())


@functools.cache
def get_sessionmaker() -> sessionmaker[Session]:
    return sessionmaker(get_engine(), expire_on_commit=False)


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
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()
    get_sessionmaker.cache_clear()
