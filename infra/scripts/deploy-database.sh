#!/usr/bin/env bash
# Database steps of a deployment, after the Bicep deployment and before the function app code:
#   1. the function app identity's role, bound to its object id (pgaadauth_create_principal_with_oid;
#      made again when a recreated app has a new identity);
#   2. the schema owner role (backupchecks_owner) that every Entra administrator may act as;
#   3. the Alembic migrations (python -m shared_code migrate --as-role <owner>), logged in as the
#      Entra administrator, so the tables belong to the owner role whoever ran them;
#   4. the app role's grants on the tables (including those the migrations just made).
# Needs: an az CLI login as the server's Entra administrator (or a member of the admin group),
# python with requirements.txt installed, and the Bicep outputs in the environment:
# POSTGRES_HOST POSTGRES_DATABASE POSTGRES_ADMIN_NAME POSTGRES_APP_ROLE AZURE_FUNCTION_APP_PRINCIPAL_ID
# AUTH_TENANT_ID API_CLIENT_ID,
# and for the firewall rule POSTGRES_SERVER_NAME AZURE_RESOURCE_GROUP
# (azd provides them; in a shell: infra/README.md shows how to export them).
#
# The server's only standing firewall rule admits Azure's own addresses (the function app, a
# GitHub-hosted runner). Everywhere else (a laptop, Cloud Shell) this step opens the server to
# this machine's public address with a temporary rule and removes it again on every exit, failed
# or interrupted ones included. POSTGRES_CLIENT_FIREWALL_RULE=none skips the rule (the workflow:
# its runner is inside Azure); POSTGRES_CLIENT_IP gives the address instead of asking the internet.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# The project's virtualenv when there is one (it has requirements.txt installed), else python3.
default_python=python3
if [ -x "$root/.venv/bin/python" ]; then
  default_python="$root/.venv/bin/python"
fi
python="${PYTHON:-$default_python}"
firewall_rule="${POSTGRES_CLIENT_FIREWALL_RULE:-temporary}"

require() {
  for name in "$@"; do
    if [ -z "${!name:-}" ]; then
      echo "deploy-database: $name is not set (an output of the Bicep deployment)" >&2
      exit 2
    fi
  done
}
require POSTGRES_HOST POSTGRES_DATABASE POSTGRES_ADMIN_NAME POSTGRES_APP_ROLE AZURE_FUNCTION_APP_PRINCIPAL_ID \
  AUTH_TENANT_ID API_CLIENT_ID
case "$firewall_rule" in
  temporary)
    "$here/require-resource-group.sh"
    require POSTGRES_SERVER_NAME
    ;;
  none) ;;
  *)
    echo "deploy-database: POSTGRES_CLIENT_FIREWALL_RULE must be temporary or none, not '$firewall_rule'" >&2
    exit 2
    ;;
esac
"$here/require-az-login.sh"

rule=""
remove_rule() {
  [ -n "$rule" ] || return 0
  if az postgres flexible-server firewall-rule delete --resource-group "$AZURE_RESOURCE_GROUP" \
    --name "$POSTGRES_SERVER_NAME" --rule-name "$rule" --yes --output none; then
    echo "removed the temporary firewall rule $rule"
  else
    echo "deploy-database: could not remove the temporary firewall rule $rule; remove it by hand:" \
      "az postgres flexible-server firewall-rule delete --resource-group $AZURE_RESOURCE_GROUP" \
      "--name $POSTGRES_SERVER_NAME --rule-name $rule --yes" >&2
  fi
}

if [ "$firewall_rule" = temporary ]; then
  address="${POSTGRES_CLIENT_IP:-$(curl --fail --silent --show-error --max-time 20 https://api.ipify.org)}"
  if ! printf '%s' "$address" | grep -q -E '^([0-9]{1,3}\.){3}[0-9]{1,3}$'; then
    echo "deploy-database: '$address' is not this machine's public IPv4 address; set POSTGRES_CLIENT_IP" >&2
    exit 2
  fi
  rule="deploy-temporary-$(date -u +%Y%m%d%H%M%S)"
  trap remove_rule EXIT
  trap 'exit 130' INT TERM
  echo "opening $POSTGRES_SERVER_NAME to $address for this step (temporary firewall rule $rule)"
  az postgres flexible-server firewall-rule create --resource-group "$AZURE_RESOURCE_GROUP" \
    --name "$POSTGRES_SERVER_NAME" --rule-name "$rule" \
    --start-ip-address "$address" --end-ip-address "$address" --output none
fi

"$python" "$here/db_setup.py" create-role
"$python" "$here/db_setup.py" owner-role

owner="$("$python" "$here/db_setup.py" owner-name)"
echo "running the migrations as $POSTGRES_ADMIN_NAME, acting as the schema owner $owner"
admin_url="$("$python" "$here/db_setup.py" admin-url)"
(
  cd "$root"
  DATABASE_URL="$admin_url" \
  DATABASE_AUTH=entra \
  DATABASE_TLS=verify \
  AUTH_MODE=entra \
  AUTH_TENANT_ID="$AUTH_TENANT_ID" \
  AUTH_AUDIENCE="$API_CLIENT_ID" \
    "$python" -m shared_code migrate --as-role "$owner"
)

"$python" "$here/db_setup.py" grant
