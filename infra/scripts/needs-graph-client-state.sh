#!/usr/bin/env bash
# Prints "true" when the environment's Key Vault has no graph-client-state secret yet (first
# deployment, or no vault at all), else "false". The deployment passes it on as
# CREATE_GRAPH_CLIENT_STATE (main.bicepparam), so the webhook secret is generated exactly once:
# a later deployment never rotates it by accident. Reads only resource metadata through Azure
# Resource Manager (Reader is enough); the secret's value is never read. Any other failure of the
# az CLI (logged out, no access, throttling) stops the script: it never turns into "true".
#   usage: needs-graph-client-state.sh RESOURCE_GROUP ENVIRONMENT_NAME
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 RESOURCE_GROUP ENVIRONMENT_NAME" >&2
  exit 2
fi
"$(dirname "$0")/require-resource-group.sh" "$1"
group="$1"
env_name="$(printf '%s' "$2" | tr '[:upper:]' '[:lower:]')"
secret_name="graph-client-state"

group_exists="$(az group exists --name "$group")"
if [ "$group_exists" != "true" ]; then
  echo true
  exit 0
fi
vault_id="$(az keyvault list --resource-group "$group" \
  --query "[?tags.\"azd-env-name\"=='$env_name'].id | [0]" --output tsv)"
if [ -z "$vault_id" ]; then
  echo true
  exit 0
fi
if error="$(az resource show --ids "$vault_id/secrets/$secret_name" --output none 2>&1)"; then
  echo false
elif printf '%s' "$error" | grep -q -i -E 'not ?found'; then
  echo true
else
  printf 'needs-graph-client-state: cannot tell whether %s exists:\n%s\n' "$secret_name" "$error" >&2
  exit 1
fi
