"""Database set-up that Bicep cannot do, run by the pipeline (and by hand for a first deployment).

Connects as one of the server's Entra administrators with an Entra access token (azure-identity's
DefaultAzureCredential: the az CLI login in the pipeline), over TLS with the server certificate
verified, and

- ``create-role``: the function app identity's database role in the ``postgres`` database, made
  with ``pgaadauth_create_principal_with_oid`` from the identity's object id, not its name: a
  function app created again under the same name has a new identity, and a role still bound to
  the old object id would refuse its tokens. A role whose object id differs is dropped (its grants
  first) and made again; one that matches is left alone;
- ``owner-role``: the role that owns the schema (NOLOGIN, ``POSTGRES_OWNER_ROLE``, default
  ``backupchecks_owner``), granted to ``azure_pg_admin`` (every Entra administrator is a member),
  allowed to create in the public schema, and given what the administrator running this owns in
  the database. Migrations run as this role (``migrate --as-role``), so the laptop user and the
  pipeline's service principal both change tables the other created, never "must be owner";
- ``admin-url``: prints the SQLAlchemy URL the migrations use (the administrator, no password);
- ``grant``: gives the app's role what it needs on the application database and nothing more:
  connect, use the public schema, read and write rows and sequences of every table, now and in
  future migrations (default privileges of the owner role, which creates the tables). No DDL.

Settings come from the environment (the Bicep outputs): POSTGRES_HOST, POSTGRES_DATABASE,
POSTGRES_ADMIN_NAME, POSTGRES_APP_ROLE, AZURE_FUNCTION_APP_PRINCIPAL_ID; POSTGRES_OWNER_ROLE and
POSTGRES_ADMIN_GROUP (default azure_pg_admin) are optional.
"""

from __future__ import annotations

import argparse
import os
import ssl
import sys
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote

ENTRA_DB_SCOPE = "https://ossrdbms-aad.database.windows.net/.default"
PORT = 5432


def quote_ident(name: str) -> str:
    """A PostgreSQL identifier, quoted (role names are display names: spaces, hyphens, case)."""
    if not name or "\x00" in name:
        raise ValueError("empty or NUL in identifier")
    return '"' + name.replace('"', '""') + '"'


DEFAULT_OWNER_ROLE = "backupchecks_owner"
DEFAULT_ADMIN_GROUP = "azure_pg_admin"  # Azure makes every Entra administrator a member


def principal_oid_sql() -> str:
    """The Entra object id a role is bound to (no row: no such Entra role)."""
    return "SELECT objectid FROM pgaadauth_list_principals(false) WHERE rolname = :name"


def create_role_sql() -> str:
    # pgaadauth_create_principal_with_oid(name, object id, type, is_admin, is_mfa): a plain,
    # non-admin login for the service principal with that object id, named ``name``.
    return "SELECT * FROM pgaadauth_create_principal_with_oid(:name, :oid, 'service', false, false)"


Run = Callable[..., Any]  # pg8000.native.Connection.run: (sql, **parameters) -> rows


def ensure_app_role(run_postgres: Run, run_app_database: Run, role: str, object_id: str) -> str:
    """The app's role bound to ``object_id``: kept, created, or (object id differs) made again.
    Returns what was done: 'kept', 'created' or 'recreated'."""
    found = run_postgres(principal_oid_sql(), name=role)
    if found and str(found[0][0]).lower() == object_id.lower():
        return "kept"
    if found:
        run_app_database(f"DROP OWNED BY {quote_ident(role)}")  # its grants; it owns nothing
        run_postgres(f"DROP ROLE {quote_ident(role)}")
    run_postgres(create_role_sql(), name=role, oid=object_id)
    return "recreated" if found else "created"


def ensure_owner_role(run: Run, owner: str, admin_group: str) -> list[str]:
    """On the application database, as an administrator: the owner role exists, every
    administrator may act as it, it may create in the public schema, and what this administrator
    owns there now belongs to it. Returns the steps taken."""
    steps = []
    if not run("SELECT 1 FROM pg_roles WHERE rolname = :name", name=owner):
        run(f"CREATE ROLE {quote_ident(owner)} NOLOGIN")
        steps.append(f"created {owner}")
    if not run("SELECT pg_has_role(:member, :owner, 'MEMBER')", member=admin_group, owner=owner)[0][0]:
        run(f"GRANT {quote_ident(owner)} TO {quote_ident(admin_group)}")
        steps.append(f"granted {owner} to {admin_group}")
    run(f"GRANT USAGE, CREATE ON SCHEMA public TO {quote_ident(owner)}")
    # Tables an administrator made before the owner role existed (the first deployments).
    run(f"REASSIGN OWNED BY CURRENT_USER TO {quote_ident(owner)}")
    return steps


def grant_statements(role: str, database: str, owner: str) -> list[str]:
    r, d, o = quote_ident(role), quote_ident(database), quote_ident(owner)
    return [
        f"GRANT CONNECT, TEMPORARY ON DATABASE {d} TO {r}",
        f"GRANT USAGE ON SCHEMA public TO {r}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {r}",
        f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {r}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {r}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {r}",
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


def create_role(
    host: str, database: str, admin: str, role: str, object_id: str
) -> None:  # pragma: no cover - needs Azure
    postgres, app_database = _connect(host, "postgres", admin), _connect(host, database, admin)
    try:
        done = ensure_app_role(postgres.run, app_database.run, role, object_id)
        print(f"database role {role!r} {done} for the managed identity {object_id}")
    finally:
        postgres.close()
        app_database.close()


def owner_role(
    host: str, database: str, admin: str, owner: str, admin_group: str
) -> None:  # pragma: no cover - needs Azure
    connection = _connect(host, database, admin)
    try:
        steps = ensure_owner_role(connection.run, owner, admin_group)
        print(f"schema owner role {owner!r}: {', '.join(steps) or 'in place'}")
    finally:
        connection.close()


def grant(
    host: str, database: str, admin: str, role: str, owner: str
) -> None:  # pragma: no cover - needs Azure
    connection = _connect(host, database, admin)
    try:
        for statement in grant_statements(role, database, owner):
            connection.run(statement)
        print(f"granted row access on {database!r} to {role!r}")
    finally:
        connection.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["create-role", "owner-role", "admin-url", "grant", "owner-name"])
    args = parser.parse_args(argv)
    owner = os.environ.get("POSTGRES_OWNER_ROLE", "").strip() or DEFAULT_OWNER_ROLE
    if args.command == "owner-name":
        print(owner)
        return 0
    host, admin = _env("POSTGRES_HOST"), _env("POSTGRES_ADMIN_NAME")
    database = _env("POSTGRES_DATABASE")
    if args.command == "admin-url":
        print(admin_url(host, database, admin))
    elif args.command == "create-role":
        create_role(host, database, admin, _env("POSTGRES_APP_ROLE"), _env("AZURE_FUNCTION_APP_PRINCIPAL_ID"))
    elif args.command == "owner-role":
        group = os.environ.get("POSTGRES_ADMIN_GROUP", "").strip() or DEFAULT_ADMIN_GROUP
        owner_role(host, database, admin, owner, group)
    else:
        grant(host, database, admin, _env("POSTGRES_APP_ROLE"), owner)
    return 0


if __name__ == "__main__":
    sys.exit(main())
