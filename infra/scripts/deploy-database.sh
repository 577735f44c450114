#!/usr/bin/env bash
# Database steps of a deployment, after the Bicep deployment and before the function app code:
#   1. the function app identity's role (pgaadauth_create_principal), once;
#   2. the Alembic migrations (python -m shared_code migrate), as the Entra administrator;
#   3. the role's grants on the tables (including those the migrations just made).
# Needs: an az CLI login as the server's Entra administrator (or a member of the admin group),
# python with requirements.txt installed, and the Bicep outputs in the environment:
# POSTGRES_HOST POSTGRES_DATABASE POSTGRES_ADMIN_NAME POSTGRES_APP_ROLE AUTH_TENANT_ID API_CLIENT_ID
# (azd provides them; in a shell: infra/README.md shows how to export them).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# The project's virtualenv when there is one (it has requirements.txt installed), else python3.
default_python=python3
if [ -x "$root/.venv/bin/python" ]; then
  default_python="$root/.venv/bin/python"
fi
python="${PYTHON:-$default_python}"

for name in POSTGRES_HOST POSTGRES_DATABASE POSTGRES_ADMIN_NAME POSTGRES_APP_ROLE AUTH_TENANT_ID API_CLIENT_ID; do
  if [ -z "${!name:-}" ]; then
    echo "deploy-database: $name is not set (an output of the Bicep deployment)" >&2
    exit 2
  fi
done

"$python" "$here/db_setup.py" create-role

echo "running the migrations as $POSTGRES_ADMIN_NAME"
(
  cd "$root"
  DATABASE_URL="$("$python" "$here/db_setup.py" admin-url)" \
  DATABASE_AUTH=entra \
  DATABASE_TLS=verify \
  AUTH_MODE=entra \
  AUTH_TENANT_ID="$AUTH_TENANT_ID" \
  AUTH_AUDIENCE="$API_CLIENT_ID" \
    "$python" -m shared_code migrate
)

"$python" "$here/db_setup.py" grant
