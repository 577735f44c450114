"""Database set-up that Bicep cannot do, run by the pipeline (and by hand for a first deployment).

Connects as the server's Entra administrator with an Entra access token (azure-identity's
DefaultAzureCredential: the az CLI login in the pipeline), over TLS with the server certificate
verified, and

- ``create-role``: creates the function app identity's database role in the ``postgres`` database
  with ``pgaadauth_create_principal`` (once; a role that exists is left alone);
- ``admin-url``: prints the SQLAlchemy URL the migrations use (the administrator, no password);
- ``grant``: gives that role what the app needs on the application database and nothing more:
  connect, use the public schema, read and write rows and sequences of every table, now and in
  future migrations (default privileges of the administrator, who owns the tables). No DDL: the
  app never changes the schema; migrations run as the administrator.

Settings come from the environment (the Bicep outputs): POSTGRES_HOST, POSTGRES_DATABASE,
POSTGRES_ADMIN_NAME, POSTGRES_APP_ROLE.
"""

from __future__ import annotations

import argparse
import os
import ssl
import sys
from collections.abc import Sequence
from urllib.parse import quote

ENTRA_DB_SCOPE = "https://ossrdbms-aad.database.windows.net/.default"
PORT = 5432


def quote_ident(name: str) -> str:
    """A PostgreSQL identifier, quoted (role names are display names: spaces, hyphens, case)."""
    if not name or "\x00" in name:
        raise ValueError("empty or NUL in identifier")
    return '"' + name.replace('"', '""') + '"'


def role_exists_sql() -> str:
    return "SELECT 1 FROM pg_roles WHERE rolname = :name"


def create_role_sql() -> str:
    # pgaadauth_create_principal(name, is_admin, is_mfa): a plain, non-admin login for the
    # service principal whose display name is ``name`` (a system-assigned identity is named
    # after its function app).
    return "SELECT * FROM pgaadauth_create_principal(:name, false, false)"


def grant_statements(role: str, database: str, admin: str) -> list[str]:
    r, d, a = quote_ident(role), quote_ident(database), quote_ident(admin)
    return [
        f"GRANT CONNECT, TEMPORARY ON DATABASE {d} TO {r}",
        f"GRANT USAGE ON SCHEMA public TO {r}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {r}",
        f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {r}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {a} IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {r}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {a} IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {r}",
    ]


def admin_url(host: str, database: str, admin: str) -> str:
    """SQLAlchemy URL for the migrations: the administrator, password = token (DATABASE_AUTH=entra)."""
    return f"postgresql+pg8000://{quote(admin, safe='')}@{host}:{PORT}/{quote(database, safe='')}"


def _env(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise SystemExit(f"{name} is not set (it is an output of the Bicep deployment)")
    return value


def _connect(host: str, database: str, admin: str):  # pragma: no cover - needs Azure
    import pg8000.native
    from azure.identity import DefaultAzureCredential

    token = DefaultAzureCredential().get_token(ENTRA_DB_SCOPE).token
    context = ssl.create_default_context()  # verifies the certificate and the host name
    return pg8000.native.Connection(
        user=admin, host=host, port=PORT, database=database, password=token, ssl_context=context, timeout=30
    )


def create_role(host: str, admin: str, role: str) -> None:  # pragma: no cover - needs Azure
    connection = _connect(host, "postgres", admin)
    try:
        if connection.run(role_exists_sql(), name=role):
            print(f"database role {role!r} exists")
            return
        connection.run(create_role_sql(), name=role)
        print(f"database role {role!r} created for the function app's managed identity")
    finally:
        connection.close()


def grant(host: str, database: str, admin: str, role: str) -> None:  # pragma: no cover - needs Azure
    connection = _connect(host, database, admin)
    try:
        for statement in grant_statements(role, database, admin):
            connection.run(statement)
        print(f"granted row access on {database!r} to {role!r}")
    finally:
        connection.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["create-role", "admin-url", "grant"])
    args = parser.parse_args(argv)
    host, admin = _env("POSTGRES_HOST"), _env("POSTGRES_ADMIN_NAME")
    if args.command == "admin-url":
        print(admin_url(host, _env("POSTGRES_DATABASE"), admin))
    elif args.command == "create-role":
        create_role(host, admin, _env("POSTGRES_APP_ROLE"))
    else:
        grant(host, _env("POSTGRES_DATABASE"), admin, _env("POSTGRES_APP_ROLE"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
