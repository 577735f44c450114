#!/usr/bin/env bash
# Stops a step with a hint when the resource group is not known, instead of a raw az error
# ("argument --resource-group/-g: expected one argument") from the first az command that needs it.
#   usage: require-resource-group.sh [RESOURCE_GROUP]   (default: $AZURE_RESOURCE_GROUP)
set -euo pipefail

group="${AZURE_RESOURCE_GROUP:-}"
if [ $# -gt 0 ]; then
  group="$1"
fi
if [ -z "$group" ]; then
  echo "AZURE_RESOURCE_GROUP is not set: name the resource group to deploy into (azd: 'azd env set AZURE_RESOURCE_GROUP rg-backupchecks-<environment>'; a shell: 'export AZURE_RESOURCE_GROUP=rg-backupchecks-<environment>'; the workflow: the repository variable AZURE_RESOURCE_GROUP), then run the step again." >&2
  exit 2
fi
